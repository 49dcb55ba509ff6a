import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { deleteOwnFile, type Participant } from '../../../../../lib/protocol';
import { item, requireId } from '../../../v1/helpers/utils';

export const fileIdField: INodeProperties = {
  displayName: 'File ID',
  name: 'fileId',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'FILxxxxxxxxxxxxxxxxx',
  description: 'ID of a file you uploaded. Peers who got it as an attachment can no longer download it.',
};

const properties: INodeProperties[] = [fileIdField];

export const description = updateDisplayOptions({ show: { resource: ['file'], operation: ['delete'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const id = requireId(this, 'fileId', i, 'FIL', 'File ID');
  await deleteOwnFile(participant, id);
  return [item({ id, deleted: true }, i)];
}
