import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getRelationship, type Participant } from '../../../../../lib/protocol';
import { relationshipToJson } from '../../../../shared/output';
import { relationshipLocator } from '../../helpers/fields';
import { item, requireId } from '../../helpers/utils';

const properties: INodeProperties[] = [relationshipLocator];

export const description = updateDisplayOptions({ show: { resource: ['relationship'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  return [item(relationshipToJson(await getRelationship(participant, requireId(this, 'relationshipId', i, 'REL', 'Relationship ID'))), i)];
}
