import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getOwnAttribute, succeedOwnAttribute, type Participant } from '../../../../../lib/protocol';
import { ownAttributeToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { valueInput, VALUE_HINT } from '../request/shared';
import { tagsField, tagsOf } from './create.operation';
import { attributeIdField, requireAttributeId } from './get.operation';

const properties: INodeProperties[] = [
  attributeIdField('The own attribute to replace'),
  { displayName: 'New Value', name: 'value', type: 'string', default: '', required: true, description: VALUE_HINT },
  { ...tagsField, description: 'Comma-separated; empty keeps the tags of the current version' },
];

export const description = updateDisplayOptions({ show: { resource: ['attribute'], operation: ['update'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const id = requireAttributeId(this, i);
  const current = await getOwnAttribute(participant, id);
  const { successor } = await succeedOwnAttribute(participant, id, {
    value: valueInput(this.getNodeParameter('value', i), current.content.value['@type']),
    tags: tagsOf(this.getNodeParameter('tags', i, '')),
  });
  return [item(ownAttributeToJson(successor), i)];
}
