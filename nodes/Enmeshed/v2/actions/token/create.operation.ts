import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { createFileToken, createTemplateTokenFor, type Participant } from '../../../../../lib/protocol';
import { qrPng } from '../../../../shared/qr-png';
import { templateIdField } from '../../../v1/actions/relationshipTemplate/get.operation';
import { shareOptionFields } from '../../../v1/helpers/fields';
import { fileIdField } from '../file/delete.operation';
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
  { ...fileIdField, description: 'ID of a file you uploaded', displayOptions: { show: { shareType: ['file'] } } },
  {
    ...templateIdField,
    description: 'ID of a template you created (one without a password: for those, use the token their Create returned)',
    displayOptions: { show: { shareType: ['relationshipTemplate'] } },
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: shareOptionFields('token', 'the reader', 7),
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
