import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { loadTemplate, type Participant } from '../../../../../lib/protocol';
import { templateToJson } from '../../../../shared/output';
import { item } from '../../helpers/utils';

export const referenceField: INodeProperties = {
  displayName: 'Reference',
  name: 'reference',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'https://…/r/RLT…#… or a truncated reference',
  description: 'The peer\'s template or token: a link, a truncated reference, or what their QR code contains',
};

export const passwordField: INodeProperties = {
  displayName: 'Password or PIN',
  name: 'password',
  type: 'string',
  typeOptions: { password: true },
  default: '',
  description: 'Only for password-protected templates',
};

const properties: INodeProperties[] = [referenceField, passwordField];

export const description = updateDisplayOptions({ show: { resource: ['relationshipTemplate'], operation: ['load'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const template = await loadTemplate(participant, this.getNodeParameter('reference', i) as string, (this.getNodeParameter('password', i, '') as string) || undefined);
  return [item(templateToJson(template, participant.address), i)];
}
