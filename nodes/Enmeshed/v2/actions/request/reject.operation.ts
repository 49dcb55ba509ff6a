import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { rejectIncomingRequest, type Participant } from '../../../../../lib/protocol';
import { answerResultToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { requestIdField, requireRequestId } from './shared';

const properties: INodeProperties[] = [
  requestIdField('The received Request\'s ID, or the ID of the message that carried it'),
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      { displayName: 'Reason', name: 'message', type: 'string', default: '', description: 'Shown to the peer (at most 1000 characters)' },
      { displayName: 'Reason Code', name: 'code', type: 'string', default: '', placeholder: 'org.declined', description: 'A code the peer\'s software can act on' },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['reject'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const reason = { ...(options.code ? { code: String(options.code) } : {}), ...(options.message ? { message: String(options.message) } : {}) };
  return [item(answerResultToJson(await rejectIncomingRequest(participant, requireRequestId(this, 'requestId', i), reason)), i)];
}
