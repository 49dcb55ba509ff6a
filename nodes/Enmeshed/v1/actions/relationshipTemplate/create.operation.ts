import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { buildRelationshipTemplateContent, createTemplate, createTemplateToken, validateTemplateContent, type Participant } from '../../../../../lib/protocol';
import { qrPng } from '../../../../shared/qr-png';
import { shareOptionFields } from '../../helpers/fields';
import { daysFromNow, item, jsonParameter, passwordProtection } from '../../helpers/utils';

const properties: INodeProperties[] = [
  {
    displayName: 'Content',
    name: 'contentMode',
    type: 'options',
    noDataExpression: true,
    default: 'app',
    options: [
      { name: 'For the Enmeshed App', value: 'app', description: 'A title and what the person agrees to or shares, as the enmeshed App shows it' },
      { name: 'JSON', value: 'json', description: 'Your own RelationshipTemplateContent or ArbitraryRelationshipTemplateContent' },
    ],
  },
  {
    displayName: 'Title',
    name: 'title',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'Patient portal of Example Clinic',
    displayOptions: { show: { contentMode: ['app'] } },
  },
  {
    displayName: 'Our Display Name',
    name: 'shareDisplayName',
    type: 'string',
    default: '',
    placeholder: 'Example Clinic',
    description: 'Your organisation\'s name, shared with the person so the App shows who you are (Latin script)',
    displayOptions: { show: { contentMode: ['app'] } },
  },
  {
    displayName: 'Consent Text',
    name: 'consent',
    type: 'string',
    typeOptions: { rows: 3 },
    default: '',
    description: 'Text the person must agree to before the relationship starts (optional)',
    displayOptions: { show: { contentMode: ['app'] } },
  },
  {
    displayName: 'Ask for Their Display Name',
    name: 'requestDisplayName',
    type: 'boolean',
    default: true,
    description: 'Whether to ask the person to share their display name',
    displayOptions: { show: { contentMode: ['app'] } },
  },
  {
    displayName: 'Content (JSON)',
    name: 'jsonContent',
    type: 'json',
    default: '{\n  "@type": "ArbitraryRelationshipTemplateContent",\n  "value": {}\n}',
    required: true,
    displayOptions: { show: { contentMode: ['json'] } },
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      ...shareOptionFields('template', 'the person', 7),
      { displayName: 'Max Allocations', name: 'maxNumberOfAllocations', type: 'number', typeOptions: { minValue: 1 }, default: 1, description: 'How many identities may use the template' },
    ].sort((a, b) => a.displayName.localeCompare(b.displayName)) as INodeProperties[],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['relationshipTemplate'], operation: ['create'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const expiresAt = daysFromNow(Number(options.expiryDays ?? 7));
  let content: Record<string, unknown>;
  if (this.getNodeParameter('contentMode', i) === 'app') {
    const consent = (this.getNodeParameter('consent', i, '') as string).trim();
    const shareDisplayName = (this.getNodeParameter('shareDisplayName', i, '') as string).trim();
    content = buildRelationshipTemplateContent({
      title: this.getNodeParameter('title', i) as string,
      ownerAddress: participant.address,
      consent: consent || undefined,
      shareDisplayName: shareDisplayName || undefined,
      requestDisplayName: this.getNodeParameter('requestDisplayName', i, true) as boolean,
      expiresAt,
    }) as unknown as Record<string, unknown>;
  } else {
    content = jsonParameter(this, 'jsonContent', i, '{"@type":"ArbitraryRelationshipTemplateContent","value":{}}') as Record<string, unknown>;
    const problems = validateTemplateContent(content, { ownerAddress: participant.address });
    if (problems.length) {
      throw new NodeOperationError(this.getNode(), 'The template content is not valid', { itemIndex: i, description: problems.join(' • ') });
    }
  }
  const template = await createTemplate(participant, {
    content,
    expiresAt,
    maxNumberOfAllocations: options.maxNumberOfAllocations === undefined ? 1 : Number(options.maxNumberOfAllocations),
    forIdentity: (options.forIdentity as string) || undefined,
    password: passwordProtection(this, i, options),
  });
  const token = await createTemplateToken(participant, template);
  const json: IDataObject = {
    id: template.id,
    createdAt: template.createdAt,
    expiresAt: template.expiresAt,
    maxNumberOfAllocations: template.maxNumberOfAllocations,
    forIdentity: template.forIdentity,
    content: content as IDataObject,
    truncatedReference: template.truncatedReference,
    url: template.url,
    token: { id: token.id, truncatedReference: token.truncatedReference, url: token.url },
  };
  const qrProperty = options.qrProperty === undefined ? 'qrCode' : String(options.qrProperty);
  const binary = qrProperty ? { [qrProperty]: await this.helpers.prepareBinaryData(qrPng(token.url), `${template.id}.png`, 'image/png') } : undefined;
  return [item(json, i, binary)];
}
