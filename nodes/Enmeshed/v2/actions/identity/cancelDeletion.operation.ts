import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { cancelIdentityDeletion, type Participant } from '../../../../../lib/protocol';
import { item } from '../../../v1/helpers/utils';
import { deletionProcessToJson } from './deletion';

const properties: INodeProperties[] = [];

export const description = updateDisplayOptions({ show: { resource: ['identity'], operation: ['cancelDeletion'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  return [item({ address: participant.address, ...deletionProcessToJson(await cancelIdentityDeletion(participant)) }, i)];
}
