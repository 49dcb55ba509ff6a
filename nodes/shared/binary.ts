import type { IBinaryData, IExecuteFunctions, IPollFunctions, ITriggerFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { downloadFile, type FileReference, type Participant } from '../../lib/protocol';
import { TRANSFERS_AT_ONCE, eachThrough, limiter } from './limited';

/** Binary data in and out, only through n8n's helpers (works in every binary storage mode). */

export function binaryPropertyNames(value: string): string[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Whether the item has that binary property (through n8n's helper, so every storage layout works). */
export function binaryExists(ctx: IExecuteFunctions, itemIndex: number, property: string): boolean {
  try {
    ctx.helpers.assertBinaryData(itemIndex, property);
    return true;
  } catch {
    return false;
  }
}

export async function readBinary(ctx: IExecuteFunctions, itemIndex: number, property: string): Promise<{ data: Buffer; meta: IBinaryData }> {
  const meta = ctx.helpers.assertBinaryData(itemIndex, property);
  const data = await ctx.helpers.getBinaryDataBuffer(itemIndex, property);
  return { data, meta };
}

export interface AttachmentFile {
  property: string;
  id: string;
  filename: string;
  mimetype: string;
  size: number;
}

/**
 * Downloads attachments into binary properties named <prefix><index>, a few at a time through
 * `gate` (shared by every message of a poll; by default one of its own). All are waited for; if
 * any fails, the first failure in attachment order is thrown.
 */
export async function attachmentsToBinary(
  ctx: IExecuteFunctions | IPollFunctions | ITriggerFunctions,
  participant: Participant,
  attachments: FileReference[],
  prefix: string,
  gate = limiter(TRANSFERS_AT_ONCE),
): Promise<{ binary: Record<string, IBinaryData>; files: AttachmentFile[] }> {
  const downloaded = await eachThrough(gate, attachments, async (reference, i) => {
    const { file, content } = await downloadFile(participant, reference);
    const property = `${prefix}${i}`;
    const data = await ctx.helpers.prepareBinaryData(content, file.filename, file.mimetype);
    return { data, file: { property, id: file.id, filename: file.filename, mimetype: file.mimetype, size: file.filesize } };
  });
  return { binary: Object.fromEntries(downloaded.map((d) => [d.file.property, d.data])), files: downloaded.map((d) => d.file) };
}

export function missingBinaryError(ctx: IExecuteFunctions, itemIndex: number, property: string): NodeOperationError {
  return new NodeOperationError(ctx.getNode(), `The input item has no binary property "${property}"`, {
    itemIndex,
    description: 'Name the binary properties that hold the files (comma-separated), e.g. "data" or "data,invoice".',
  });
}
