import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { changeRelationship, type Participant } from '../../../../../lib/protocol';
import { relationshipToJson } from '../../../../shared/output';
import { relationshipLocator } from '../../../v1/helpers/fields';
import { item, requireId } from '../../../v1/helpers/utils';

/**
 * Decompose: deletes a relationship that has ended (rejected, revoked or terminated) for this
 * identity. The Platform then refuses it to us, so the output is the record its answer returned.
 */
const properties: INodeProperties[] = [{ ...relationshipLocator, description: 'The relationship to delete: it must be rejected, revoked or terminated' }];

export const description = updateDisplayOptions({ show: { resource: ['relationship'], operation: ['decompose'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const view = await changeRelationship(participant, requireId(this, 'relationshipId', i, 'REL', 'Relationship ID'), 'decompose');
  return [item(relationshipToJson(view), i)];
}
