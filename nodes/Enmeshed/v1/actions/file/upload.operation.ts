import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { uploadFile, type Participant } from '../../../../../lib/protocol';
import { binaryExists, missingBinaryError, readBinary } from '../../../../shared/binary';
import { fileToJson } from '../../../../shared/output';
import { daysFromNow, item } from '../../helpers/utils';

const properties: INodeProperties[] = [
  {
    displayName: 'Input Binary Field',
    name: 'binaryPropertyName',
    type: 'string',
    default: 'data',
    required: true,
    hint: 'The name of the input binary field containing the file to upload',
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      { displayName: 'Description', name: 'description', type: 'string', default: '' },
      { displayName: 'Expiry (Days)', name: 'expiryDays', type: 'number', typeOptions: { minValue: 1 }, default: 365, description: 'How long the Platform keeps the file' },
      { displayName: 'File Name', name: 'fileName', type: 'string', default: '', description: 'Overrides the file name of the binary data' },
      { displayName: 'Title', name: 'title', type: 'string', default: '' },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['file'], operation: ['upload'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const property = this.getNodeParameter('binaryPropertyName', i) as string;
  if (!binaryExists(this, i, property)) throw missingBinaryError(this, i, property);
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const { data, meta } = await readBinary(this, i, property);
  const stored = await uploadFile(participant, {
    content: data,
    filename: (options.fileName as string) || meta.fileName || property,
    mimetype: meta.mimeType || 'application/octet-stream',
    title: (options.title as string) || undefined,
    description: (options.description as string) || undefined,
    expiresAt: daysFromNow(Number(options.expiryDays ?? 365)),
  });
  return [item(fileToJson(stored, participant.address), i)];
}
