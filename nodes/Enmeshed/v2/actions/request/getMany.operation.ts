import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { listIncomingRequests, listOutgoingRequests, type IncomingStatus, type OutgoingStatus, type Participant } from '../../../../../lib/protocol';
import { incomingRequestToJson, outgoingRequestToJson } from '../../../../shared/request-output';
import { limitField, returnAllField } from '../../../v1/helpers/fields';
import { item, requireAddress } from '../../../v1/helpers/utils';
import { directionField } from './get.operation';

const properties: INodeProperties[] = [
  directionField,
  returnAllField,
  limitField,
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    options: [
      { displayName: 'Peer', name: 'peer', type: 'string', default: '', placeholder: 'did:e:…', description: 'Only Requests to or from this address' },
      {
        displayName: 'Status',
        name: 'status',
        type: 'multiOptions',
        default: [],
        options: [
          { name: 'Completed', value: 'Completed', description: 'Answered' },
          { name: 'Decided', value: 'Decided', description: 'Received: decided, the answer not sent yet' },
          { name: 'Expired', value: 'Expired', description: 'Not answered in time' },
          { name: 'Open', value: 'Open', description: 'Waiting for an answer' },
        ],
      },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const limit = this.getNodeParameter('returnAll', i) ? Infinity : (this.getNodeParameter('limit', i) as number);
  const filters = this.getNodeParameter('filters', i, {}) as { peer?: string; status?: string[] };
  const peer = filters.peer ? requireAddress(this, String(filters.peer).trim(), i, 'Peer') : undefined;
  if (this.getNodeParameter('direction', i) === 'incoming') {
    const requests = await listIncomingRequests(participant, { peer, status: filters.status as IncomingStatus[], limit });
    return requests.map((r) => item(incomingRequestToJson(r), i));
  }
  const requests = await listOutgoingRequests(participant, { peer, status: filters.status as OutgoingStatus[] });
  return requests.slice(0, limit).map((r) => item(outgoingRequestToJson(r), i));
}
