import type { IBinaryData, IExecuteFunctions, IPollFunctions, ITriggerFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { downloadFile, type FileReference, type Participant } from '../../lib/protocol';

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

/** Downloads attachments into binary properties named <prefix><index>. */
export async function attachmentsToBinary(
  ctx: IExecuteFunctions | IPollFunctions | ITriggerFunctions,
  participant: Participant,
  attachments: FileReference[],
  prefix: string,
): Promise<{ binary: Record<string, IBinaryData>; files: { property: string; id: string; filename: string; mimetype: string; size: number }[] }> {
  const binary: Record<string, IBinaryData> = {};
  const files = [];
  for (let i = 0; i < attachments.length; i++) {
    const { file, content } = await downloadFile(participant, attachments[i]);
    const property = `${prefix}${i}`;
    binary[property] = await ctx.helpers.prepareBinaryData(content, file.filename, file.mimetype);
    files.push({ property, id: file.id, filename: file.filename, mimetype: file.mimetype, size: file.filesize });
  }
  return { binary, files };
}

export function missingBinaryError(ctx: IExecuteFunctions, itemIndex: number, property: string): NodeOperationError {
  return new NodeOperationError(ctx.getNode(), `The input item has no binary property "${property}"`, {
    itemIndex,
    description: 'Name the binary properties that hold the files (comma-separated), e.g. "data" or "data,invoice".',
  });
}
