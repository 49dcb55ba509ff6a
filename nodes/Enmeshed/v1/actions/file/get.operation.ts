import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getFile, type Participant } from '../../../../../lib/protocol';
import { fileToJson } from '../../../../shared/output';
import { item } from '../../helpers/utils';
import { fileField, fileInput } from './shared';

const properties: INodeProperties[] = [fileField];

export const description = updateDisplayOptions({ show: { resource: ['file'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  return [item(fileToJson(await getFile(participant, fileInput(this, i)), participant.address), i)];
}
