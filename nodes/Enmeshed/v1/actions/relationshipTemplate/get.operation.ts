import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { readOwnTemplate, type Participant } from '../../../../../lib/protocol';
import { templateToJson } from '../../../../shared/output';
import { item, requireId } from '../../helpers/utils';

export const templateIdField: INodeProperties = {
  displayName: 'Template ID',
  name: 'templateId',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'RLTxxxxxxxxxxxxxxxxx',
  description: 'ID of a template you created',
};

const properties: INodeProperties[] = [templateIdField];

export const description = updateDisplayOptions({ show: { resource: ['relationshipTemplate'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const template = await readOwnTemplate(participant, requireId(this, 'templateId', i, 'RLT', 'Template ID'));
  return [item(templateToJson(template, participant.address), i)]; // templateToJson picks public fields only
}
