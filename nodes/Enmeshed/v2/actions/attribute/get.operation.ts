import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { listAllPeerAttributes, listOwnAttributes, type Participant } from '../../../../../lib/protocol';
import { ownAttributeToJson, peerAttributeToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';

export const attributeIdField = (description: string): INodeProperties => ({
  displayName: 'Attribute ID',
  name: 'attributeId',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'ATTxxxxxxxxxxxxxxxxx',
  description,
});

export function requireAttributeId(ctx: IExecuteFunctions, i: number): string {
  const value = String(ctx.getNodeParameter('attributeId', i, '') ?? '').trim();
  if (!/^ATT[A-Za-z0-9]{17}$/.test(value)) {
    throw new NodeOperationError(ctx.getNode(), `Attribute ID "${value}" is not a valid ID`, {
      itemIndex: i,
      description: 'An attribute ID looks like ATT followed by 17 letters or digits. Check the expression that fills it.',
    });
  }
  return value;
}

const properties: INodeProperties[] = [attributeIdField('One of your own attributes, or one a peer gave you')];

export const description = updateDisplayOptions({ show: { resource: ['attribute'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const id = requireAttributeId(this, i);
  const own = (await listOwnAttributes(participant, { versions: true })).find((a) => a.id === id);
  if (own) return [item(ownAttributeToJson(own), i)];
  const fromPeer = (await listAllPeerAttributes(participant, { versions: true })).find((a) => a.id === id);
  if (fromPeer) return [item(peerAttributeToJson(fromPeer), i)];
  throw new NodeOperationError(this.getNode(), `There is no attribute ${id}`, {
    itemIndex: i,
    description: 'Neither one of your own attributes nor one a peer gave you (in an answer to your Request, or in its own Request) has this ID.',
  });
}
