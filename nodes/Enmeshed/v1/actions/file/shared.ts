import { NodeOperationError, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { parseReference, type FileReference } from '../../../../../lib/protocol';

export const fileField: INodeProperties = {
  displayName: 'File',
  name: 'file',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'FILxxxxxxxxxxxxxxxxx or a file reference',
  description: 'ID of a file you uploaded, or the reference (truncated or link) of anyone\'s file',
};

/** The File parameter of item i: a file ID (own files) or a reference (anyone's). */
export function fileInput(ctx: IExecuteFunctions, i: number): FileReference | string {
  return parseFileInput(ctx, i, ctx.getNodeParameter('file', i) as string);
}

/** A file ID (own files) or a reference (anyone's), or a clear error. */
export function parseFileInput(ctx: IExecuteFunctions, i: number, text: string): FileReference | string {
  const value = text.trim();
  if (/^FIL[A-Za-z0-9]{17}$/.test(value)) return value;
  try {
    const ref = parseReference(value);
    if (!ref.id.startsWith('FIL')) throw new Error('not a file');
    return { id: ref.id, key: ref.key, backboneBaseUrl: ref.backboneBaseUrl ?? '' };
  } catch {
    throw new NodeOperationError(ctx.getNode(), 'The file is neither a file ID nor a file reference', {
      itemIndex: i,
      description: 'Use FIL… for your own files, or the truncated reference / link of a file someone shared.',
    });
  }
}
