import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { acceptRelationship, changeRelationship, getRelationship, type Participant, type RelationshipAction } from '../../../../../lib/protocol';
import { relationshipToJson } from '../../../../shared/output';
import { relationshipLocator } from '../../helpers/fields';
import { item, requireId } from '../../helpers/utils';

/** Accept / reject / revoke / terminate share one shape: a relationship in, the updated one out. */
export function changeOperation(operation: string, action: RelationshipAction | 'accept') {
  const description: INodeProperties[] = updateDisplayOptions({ show: { resource: ['relationship'], operation: [operation] } }, [relationshipLocator]);
  async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
    const id = requireId(this, 'relationshipId', i, 'REL', 'Relationship ID');
    if (action === 'accept') return [item(relationshipToJson(await acceptRelationship(participant, id)), i)];
    await changeRelationship(participant, id, action);
    return [item(relationshipToJson(await getRelationship(participant, id)), i)];
  }
  return { description, execute };
}
