import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { buildAcceptResponse, loadTemplate, requestRelationship, type Participant } from '../../../../../lib/protocol';
import { relationshipToJson } from '../../../../shared/output';
import { item, jsonParameter } from '../../helpers/utils';
import { passwordField, referenceField } from '../relationshipTemplate/load.operation';

const properties: INodeProperties[] = [
  referenceField,
  passwordField,
  {
    displayName: 'Answer',
    name: 'answerMode',
    type: 'options',
    noDataExpression: true,
    default: 'auto',
    options: [
      { name: 'Accept the Template\'s Request', value: 'auto', description: 'Agree to what the template asks, where a program can; fails if a required item cannot be answered' },
      { name: 'JSON', value: 'json', description: 'Your own creation content' },
    ],
  },
  {
    displayName: 'Our Display Name',
    name: 'displayName',
    type: 'string',
    default: '',
    placeholder: 'Example Lab',
    description: 'Sent when the template asks for your display name (Latin script)',
    displayOptions: { show: { answerMode: ['auto'] } },
  },
  {
    displayName: 'Content (JSON)',
    name: 'jsonContent',
    type: 'json',
    default: '{\n  "@type": "ArbitraryRelationshipCreationContent",\n  "value": {}\n}',
    required: true,
    displayOptions: { show: { answerMode: ['json'] } },
  },
];

export const description = updateDisplayOptions({ show: { resource: ['relationship'], operation: ['create'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const template = await loadTemplate(participant, this.getNodeParameter('reference', i) as string, (this.getNodeParameter('password', i, '') as string) || undefined);
  let content: Record<string, unknown>;
  if (this.getNodeParameter('answerMode', i) === 'auto') {
    const displayName = (this.getNodeParameter('displayName', i, '') as string).trim();
    const answer = buildAcceptResponse(template.content, {
      ownAddress: participant.address,
      attributes: displayName ? { DisplayName: displayName } : undefined,
    });
    if (!answer.ok) {
      throw new NodeOperationError(this.getNode(), 'The template asks for something that cannot be answered automatically', {
        itemIndex: i,
        description: (answer.problems ?? []).join(' • ') + ' — choose Answer: JSON to write the answer yourself.',
      });
    }
    content = answer.content as unknown as Record<string, unknown>;
  } else {
    content = jsonParameter(this, 'jsonContent', i, '{"@type":"ArbitraryRelationshipCreationContent","value":{}}') as Record<string, unknown>;
  }
  return [item(relationshipToJson(await requestRelationship(participant, template, content)), i)];
}
