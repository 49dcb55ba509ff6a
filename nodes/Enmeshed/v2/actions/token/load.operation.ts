import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { loadShared, type Participant } from '../../../../../lib/protocol';
import { fileToJson, templateToJson } from '../../../../shared/output';
import { passwordField, referenceField } from '../../../v1/actions/relationshipTemplate/load.operation';
import { item } from '../../../v1/helpers/utils';

const properties: INodeProperties[] = [
  {
    ...referenceField,
    placeholder: 'https://…/r/TOK…#… or a truncated reference',
    description: 'What the peer shared: a token, or the reference of a file or template — as a link, a truncated reference, or what their QR code contains',
  },
  { ...passwordField, description: 'Only for password- or PIN-protected tokens and templates' },
];

export const description = updateDisplayOptions({ show: { resource: ['token'], operation: ['load'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const shared = await loadShared(participant, this.getNodeParameter('reference', i) as string, (this.getNodeParameter('password', i, '') as string) || undefined);
  if (shared.kind === 'file') return [item({ type: 'file', ...fileToJson(shared.file, participant.address) }, i)];
  return [item({ type: 'relationshipTemplate', ...templateToJson(shared.template, participant.address) }, i)];
}
