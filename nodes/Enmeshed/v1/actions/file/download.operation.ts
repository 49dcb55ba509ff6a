import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { downloadFile, type Participant } from '../../../../../lib/protocol';
import { fileToJson } from '../../../../shared/output';
import { item } from '../../helpers/utils';
import { fileField, fileInput } from './shared';

const properties: INodeProperties[] = [
  fileField,
  {
    displayName: 'Put Output File in Field',
    name: 'binaryPropertyName',
    type: 'string',
    default: 'data',
    required: true,
    hint: 'The name of the output binary field to put the file in',
  },
];

export const description = updateDisplayOptions({ show: { resource: ['file'], operation: ['download'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const { file, content } = await downloadFile(participant, fileInput(this, i));
  const property = this.getNodeParameter('binaryPropertyName', i) as string;
  const binary = { [property]: await this.helpers.prepareBinaryData(content, file.filename, file.mimetype) };
  return [item(fileToJson(file, participant.address), i, binary)];
}
