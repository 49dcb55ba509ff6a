import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { canAcceptIncomingRequest, type Participant } from '../../../../../lib/protocol';
import { answerCheckToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { decisionFields, decisionsOf } from './decisions';
import { requestIdField, requireRequestId } from './shared';

const properties: INodeProperties[] = [requestIdField('The received Request\'s ID, or the ID of the message that carried it'), ...decisionFields];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['canAccept'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  return [item(answerCheckToJson(await canAcceptIncomingRequest(participant, requireRequestId(this, 'requestId', i), decisionsOf(this, i))), i)];
}
