import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { deleteOwnTemplate, type Participant } from '../../../../../lib/protocol';
import { templateIdField } from '../../../v1/actions/relationshipTemplate/get.operation';
import { item, requireId } from '../../../v1/helpers/utils';

const properties: INodeProperties[] = [templateIdField];

export const description = updateDisplayOptions({ show: { resource: ['relationshipTemplate'], operation: ['delete'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const id = requireId(this, 'templateId', i, 'RLT', 'Template ID');
  await deleteOwnTemplate(participant, id);
  return [item({ id, deleted: true }, i)];
}
