import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { createFileToken, createTemplateTokenFor, type Participant } from '../../../../../lib/protocol';
import { qrPng } from '../../../../shared/qr-png';
import { daysFromNow, item, passwordProtection, requireAddress, requireId } from '../../../v1/helpers/utils';

const properties: INodeProperties[] = [
  {
    displayName: 'Share',
    name: 'shareType',
    type: 'options',
    noDataExpression: true,
    default: 'file',
    options: [
      { name: 'File', value: 'file', description: 'One of your files' },
      { name: 'Relationship Template', value: 'relationshipTemplate', description: 'One of your templates' },
    ],
  },
  {
    displayName: 'File ID',
    name: 'fileId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'FILxxxxxxxxxxxxxxxxx',
    description: 'ID of a file you uploaded',
    displayOptions: { show: { shareType: ['file'] } },
  },
  {
    displayName: 'Template ID',
    name: 'templateId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'RLTxxxxxxxxxxxxxxxxx',
    description: 'ID of a template you created (one without a password: for those, use the token their Create returned)',
    displayOptions: { show: { shareType: ['relationshipTemplate'] } },
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      { displayName: 'Expiry (Days)', name: 'expiryDays', type: 'number', typeOptions: { minValue: 1 }, default: 7, description: 'How long the token can be used' },
      { displayName: 'For Identity', name: 'forIdentity', type: 'string', default: '', placeholder: 'did:e:…', description: 'Only this identity may read the token' },
      { displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '', description: 'A password the reader must enter (instead of a PIN)' },
      { displayName: 'PIN', name: 'pin', type: 'string', typeOptions: { password: true }, default: '', description: 'A PIN of 4 to 16 digits the reader must enter' },
      { displayName: 'QR Code Output Field', name: 'qrProperty', type: 'string', default: 'qrCode', description: 'Binary field for the QR code (PNG) of the link; empty for none' },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['token'], operation: ['create'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const forIdentity = String(options.forIdentity ?? '').trim();
  const tokenOptions = {
    expiresAt: daysFromNow(Number(options.expiryDays ?? 7)),
    forIdentity: forIdentity ? requireAddress(this, forIdentity, i, 'For Identity') : undefined,
    password: passwordProtection(this, i, options),
  };
  const shareType = this.getNodeParameter('shareType', i) as string;
  const shared =
    shareType === 'file'
      ? { fileId: requireId(this, 'fileId', i, 'FIL', 'File ID') }
      : { templateId: requireId(this, 'templateId', i, 'RLT', 'Template ID') };
  const token = shared.fileId
    ? await createFileToken(participant, shared.fileId, tokenOptions)
    : await createTemplateTokenFor(participant, shared.templateId!, tokenOptions);
  const json: IDataObject = {
    id: token.id,
    type: shareType,
    ...shared,
    expiresAt: token.expiresAt,
    forIdentity: token.forIdentity,
    passwordProtected: tokenOptions.password !== undefined,
    truncatedReference: token.truncatedReference,
    url: token.url,
  };
  const qrProperty = options.qrProperty === undefined ? 'qrCode' : String(options.qrProperty);
  const binary = qrProperty ? { [qrProperty]: await this.helpers.prepareBinaryData(qrPng(token.url), `${token.id}.png`, 'image/png') } : undefined;
  return [item(json, i, binary)];
}
