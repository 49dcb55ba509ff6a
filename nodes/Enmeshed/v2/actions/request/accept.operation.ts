import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { acceptIncomingRequest, type Participant } from '../../../../../lib/protocol';
import { answerResultToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { decisionFields, decisionsOf } from './decisions';
import { requestIdField, requireRequestId } from './shared';

const properties: INodeProperties[] = [requestIdField('The received Request\'s ID, or the ID of the message that carried it'), ...decisionFields];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['accept'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const result = await acceptIncomingRequest(participant, requireRequestId(this, 'requestId', i), decisionsOf(this, i));
  return [item(answerResultToJson(result), i)];
}
