import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { createOwnAttribute, type Participant } from '../../../../../lib/protocol';
import { ownAttributeToJson } from '../../../../shared/request-output';
import { item } from '../../../v1/helpers/utils';
import { identityValueTypeOptions, valueInput, VALUE_HINT } from '../request/shared';

export const tagsField: INodeProperties = {
  displayName: 'Tags',
  name: 'tags',
  type: 'string',
  default: '',
  placeholder: 'billing, support',
  description: 'Comma-separated; a peer may ask for an attribute with a given tag',
};

const properties: INodeProperties[] = [
  { displayName: 'Attribute Type', name: 'valueType', type: 'options', default: 'DisplayName', options: identityValueTypeOptions },
  { displayName: 'Value', name: 'value', type: 'string', default: '', required: true, description: VALUE_HINT },
  tagsField,
];

export const description = updateDisplayOptions({ show: { resource: ['attribute'], operation: ['create'] } }, properties);

export const tagsOf = (raw: unknown): string[] | undefined => {
  const tags = String(raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return tags.length ? tags : undefined;
};

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const valueType = this.getNodeParameter('valueType', i) as string;
  const { attribute, created } = await createOwnAttribute(participant, {
    valueType,
    value: valueInput(this.getNodeParameter('value', i), valueType),
    tags: tagsOf(this.getNodeParameter('tags', i, '')),
  });
  return [item({ ...ownAttributeToJson(attribute), created }, i)];
}
