import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getIncomingRequest, getOutgoingRequest, type Participant } from '../../../../../lib/protocol';
import { incomingRequestToJson, outgoingRequestToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { requestIdField, requireRequestId } from './shared';

export const directionField: INodeProperties = {
  displayName: 'Direction',
  name: 'direction',
  type: 'options',
  noDataExpression: true,
  default: 'outgoing',
  options: [
    { name: 'Sent by Us', value: 'outgoing', description: 'A Request you sent, with its answer once it arrived' },
    { name: 'Received', value: 'incoming', description: 'A Request a peer sent you' },
  ],
};

const properties: INodeProperties[] = [directionField, requestIdField('The Request\'s ID, or the ID of the message that carried it')];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const id = requireRequestId(this, 'requestId', i);
  if (this.getNodeParameter('direction', i) === 'incoming') return [item(incomingRequestToJson(await getIncomingRequest(participant, id)), i)];
  // Looks for its answer among the newest messages first, so this works without a trigger too.
  return [item(outgoingRequestToJson(await getOutgoingRequest(participant, id)), i)];
}
