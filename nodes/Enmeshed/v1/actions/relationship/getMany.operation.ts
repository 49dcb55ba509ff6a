import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { listRelationships, peerDisplayNames, syncRegistry, type Participant } from '../../../../../lib/protocol';
import { relationshipToJson } from '../../../../shared/output';
import { limitField, returnAllField } from '../../helpers/fields';
import { item } from '../../helpers/utils';

const STATUSES = ['Pending', 'Active', 'Rejected', 'Revoked', 'Terminated', 'DeletionProposed'];

const properties: INodeProperties[] = [
  returnAllField,
  limitField,
  {
    displayName: 'Status',
    name: 'status',
    type: 'multiOptions',
    default: [],
    options: STATUSES.map((s) => ({ name: s.replace(/([a-z])([A-Z])/g, '$1 $2'), value: s })),
    description: 'Only relationships in these states (all when empty)',
  },
];

export const description = updateDisplayOptions({ show: { resource: ['relationship'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const returnAll = this.getNodeParameter('returnAll', i) as boolean;
  const limit = returnAll ? Infinity : (this.getNodeParameter('limit', i) as number);
  const statuses = this.getNodeParameter('status', i, []) as string[];
  await syncRegistry(participant); // picks up relationship requests that arrived as events
  // Newest first from the index; records are read for the returned ones only.
  const relationships = await listRelationships(participant, { statuses, limit });
  const names = await peerDisplayNames(participant, relationships);
  return relationships.map((r) => item(relationshipToJson(r, names.get(r.id)), i));
}
