/**
 * Request body reading with a size limit, plus hand-written x-www-form-urlencoded and multipart/form-data parsers.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, Codes, cannotParse } from './errors';

/**
 * Reads the whole body. Past `limit` bytes the rest is drained and discarded (so the client still gets our
 * answer instead of a connection reset) and 400 requestBodyTooLarge is thrown.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) tooLarge = true;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new ApiError(400, Codes.requestBodyTooLarge, `The request body is too large. The maximum is ${limit} bytes.`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** JSON body; empty or malformed bodies are 400 inputCannotBeParsed (ASP.NET model binding behaviour). */
export function parseJsonBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw cannotParse('$', 'A non-empty request body is required.');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw cannotParse('$', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function parseForm(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(buf.toString('utf8'))) if (!out.has(k)) out.set(k, v);
  return out;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Minimal RFC 7578 parser. Throws ApiError 400 for anything it cannot make sense of. */
export function parseMultipart(buf: Buffer, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m ? (m[1] ?? m[2]).trim() : '';
  if (!boundary || boundary.length > 200) throw cannotParse('$', 'Missing or invalid multipart boundary.');
  const delim = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) throw cannotParse('$', 'Multipart body has no boundary delimiter.');
  for (;;) {
    pos += delim.length;
    if (buf.subarray(pos, pos + 2).toString() === '--') break; // close delimiter
    // skip transport padding + CRLF after the delimiter
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) throw cannotParse('$', 'Unexpected end of multipart body.');
    const headerEnd = buf.indexOf('\r\n\r\n', lineEnd);
    if (headerEnd < 0) throw cannotParse('$', 'Unexpected end of multipart part headers.');
    const headerText = buf.subarray(lineEnd + 2, headerEnd).toString('utf8');
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headerEnd + 4);
    if (next < 0) throw cannotParse('$', 'Unexpected end of multipart body.');
    const data = buf.subarray(headerEnd + 4, next);
    const headers = new Map<string, string>();
    for (const line of headerText.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const disp = headers.get('content-disposition') ?? '';
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disp)?.[1] ?? /(?:^|;)\s*name=([^;]+)/i.exec(disp)?.[1]?.trim();
    if (name === undefined) throw cannotParse('$', 'A multipart part has no name.');
    const filename = /filename="([^"]*)"/i.exec(disp)?.[1];
    parts.push({ name, filename, contentType: headers.get('content-type'), data });
    pos = next + 2;
  }
  return parts;
}
