/**
 * The floor of a file transfer: a plain HTTP upload and download of a blob through the same local
 * Platform and API routes our client uses, with node:http and nothing else — no encryption, no
 * base64, no hashing, no signing, no JSON parsing of the blob. The blob has the file's size (what
 * a client without end-to-end encryption would send). The upload is the same multipart form as
 * ours, with placeholder values for the fields the Platform only stores.
 */
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';

export interface RawEndpoint {
  baseUrl: string;
  /** `Bearer …` of a logged-in device. */
  authorization: string;
}

const agent = new http.Agent({ keepAlive: true });

function send(endpoint: RawEndpoint, method: string, path: string, headers: Record<string, string | number>, body?: Buffer[]): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, endpoint.baseUrl), { method, agent, headers: { Authorization: endpoint.authorization, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const part of body ?? []) req.write(part);
    req.end();
  });
}

/** Uploads `blob` as a file; returns its id. */
export async function rawUpload(endpoint: RawEndpoint, blob: Buffer): Promise<string> {
  const boundary = `----raw${randomBytes(12).toString('hex')}`;
  const field = (name: string, value: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const placeholder = randomBytes(64).toString('base64url');
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(
    '\r\n' +
      field('cipherHash', placeholder) +
      field('owner', 'raw') +
      field('ownerSignature', placeholder) +
      field('expiresAt', new Date(Date.now() + 86_400_000).toISOString()) +
      field('encryptedProperties', placeholder) +
      `--${boundary}--\r\n`,
  );
  const res = await send(endpoint, 'POST', '/api/v2/Files', { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + blob.length + tail.length }, [head, blob, tail]);
  if (res.status !== 201) throw new Error(`raw upload: ${res.status} ${res.body.toString('utf8', 0, 300)}`);
  return (JSON.parse(res.body.toString('utf8')) as { result: { id: string } }).result.id;
}

/** Downloads a file's blob; returns its length. */
export async function rawDownload(endpoint: RawEndpoint, id: string): Promise<number> {
  const res = await send(endpoint, 'GET', `/api/v2/Files/${id}`, {});
  if (res.status !== 200) throw new Error(`raw download: ${res.status}`);
  return res.body.length;
}
