/**
 * Black-box helpers for the local Platform tests: HTTP requests with global fetch, identity onboarding with a
 * real Ed25519 signature (libsodium), datawallet setup and sync.
 */
import sodium from 'libsodium-wrappers-sumo';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle, type PlatformOptions } from '../../platform/server';

export { startPlatform };
export type { PlatformHandle };

type RequestBody = NonNullable<RequestInit['body']>;

export const b64u = (data: Uint8Array | string): string =>
  Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');

export interface Res<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
  buf: Buffer;
}

export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { json?: unknown; body?: RequestBody; token?: string; headers?: Record<string, string> } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: RequestBody | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(base + path, { method, body, headers });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers, buf };
}

let ready: Promise<void> | undefined;
export async function sodiumReady(): Promise<typeof sodium> {
  ready ??= sodium.ready;
  await ready;
  return sodium;
}

export function strongPassword(): string {
  return 'Aa1!' + randomBytes(24).toString('base64url');
}

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export function encodePublicKey(pub: Uint8Array): string {
  return b64u(JSON.stringify({ pub: b64u(pub), alg: 3, '@type': 'CryptoSignaturePublicKey' }));
}

export function signChallenge(text: string, kp: KeyPair): string {
  const sig = sodium.crypto_sign_detached(Buffer.from(text, 'utf8'), kp.privateKey);
  return b64u(JSON.stringify({ sig: b64u(sig), alg: 2, '@type': 'CryptoSignature' }));
}

export async function newChallenge(base: string, token?: string): Promise<{ id: string; expiresAt: string }> {
  const res = await request(base, 'POST', '/api/v2/Challenges', { json: {}, token });
  if (res.status !== 201) throw new Error(`challenge: ${res.status} ${res.text}`);
  return res.body.result;
}

export function challengeText(c: { id: string; expiresAt: string }): string {
  return JSON.stringify({ expiresAt: c.expiresAt, id: c.id, type: 'Identity' });
}

export class Identity {
  token = '';
  constructor(
    readonly base: string,
    readonly address: string,
    readonly username: string,
    readonly password: string,
    readonly deviceId: string,
    readonly keyPair: KeyPair,
  ) {}

  async login(): Promise<string> {
    const res = await getToken(this.base, this.username, this.password);
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    this.token = res.body.access_token;
    return this.token;
  }

  req<T = any>(method: string, path: string, opts: { json?: unknown; body?: RequestBody; headers?: Record<string, string> } = {}) {
    return request<T>(this.base, method, path, { ...opts, token: this.token });
  }

  /** DatawalletVersionUpgrade run + finalize (call order §12 steps 4–5). */
  async setupDatawallet(): Promise<void> {
    const start = await this.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: DW });
    if (start.status !== 201) throw new Error(`upgrade start: ${start.status} ${start.text}`);
    const fin = await this.req('PUT', `/api/v2/SyncRuns/${start.body.result.syncRun.id}/FinalizeDatawalletVersionUpgrade`, {
      json: { newDatawalletVersion: 1, datawalletModifications: [] },
      headers: DW,
    });
    if (fin.status !== 200) throw new Error(`upgrade finalize: ${fin.status} ${fin.text}`);
  }

  /** One ExternalEventSync round acknowledging everything; returns the events. */
  async sync(): Promise<{ type: string; payload: any; id: string; syncErrorCount: number }[]> {
    const events: any[] = [];
    for (;;) {
      const start = await this.req('POST', '/api/v2/SyncRuns', { json: { type: 'ExternalEventSync' }, headers: DW });
      if (start.status === 200) return events;
      if (start.status !== 201) throw new Error(`sync start: ${start.status} ${start.text}`);
      const runId = start.body.result.syncRun.id;
      const list = await this.req('GET', `/api/v2/SyncRuns/${runId}/ExternalEvents?pageSize=200`);
      events.push(...list.body.result);
      const fin = await this.req('PUT', `/api/v2/SyncRuns/${runId}/FinalizeExternalEventSync`, {
        json: { externalEventResults: list.body.result.map((e: any) => ({ externalEventId: e.id })), datawalletModifications: [] },
        headers: DW,
      });
      if (fin.status !== 200) throw new Error(`sync finalize: ${fin.status} ${fin.text}`);
      if (!fin.body.result.newUnsyncedExternalEventsExist) return events;
    }
  }
}

export const DW = { 'x-supported-datawallet-version': '1' };

export function getToken(base: string, username: string, password: string, clientId = 'test', clientSecret = 'test') {
  const form = new URLSearchParams({ grant_type: 'password', client_id: clientId, client_secret: clientSecret, username, password });
  return request(base, 'POST', '/connect/token', {
    body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

export async function createIdentity(base: string, opts: { keyPair?: KeyPair; datawallet?: boolean } = {}): Promise<Identity> {
  await sodiumReady();
  const kp = opts.keyPair ?? sodium.crypto_sign_keypair();
  const c = await newChallenge(base);
  const text = challengeText(c);
  const password = strongPassword();
  const res = await request(base, 'POST', '/api/v2/Identities', {
    json: {
      clientId: 'test',
      clientSecret: 'test',
      identityPublicKey: encodePublicKey(kp.publicKey),
      devicePassword: password,
      identityVersion: 1,
      signedChallenge: { challenge: text, signature: signChallenge(text, kp) },
    },
  });
  if (res.status !== 201) throw new Error(`identity: ${res.status} ${res.text}`);
  const r = res.body.result;
  const id = new Identity(base, r.address, r.device.username, password, r.device.id, kp);
  await id.login();
  if (opts.datawallet !== false) await id.setupDatawallet();
  return id;
}

/** A (by default Active) relationship: `requestor` answers a template of `templator`. */
export async function relate(templator: Identity, requestor: Identity, accept = true): Promise<string> {
  const t = await templator.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('template') } });
  await requestor.req('GET', `/api/v2/RelationshipTemplates/${t.body.result.id}`);
  const r = await requestor.req('POST', '/api/v2/Relationships', {
    json: { relationshipTemplateId: t.body.result.id, creationContent: b64u('creation') },
  });
  if (r.status !== 201) throw new Error(`relationship: ${r.status} ${r.text}`);
  const id = r.body.result.id;
  if (accept) {
    const a = await templator.req('PUT', `/api/v2/Relationships/${id}/Accept`, { json: { creationResponseContent: b64u('response') } });
    if (a.status !== 200) throw new Error(`accept: ${a.status} ${a.text}`);
  }
  return id;
}

export function messageBody(recipients: string[], body = 'hello') {
  return { recipients: recipients.map((address) => ({ address, encryptedKey: b64u('k'.repeat(40)) })), body: b64u(body), attachments: [] };
}

export async function withPlatform(opts: PlatformOptions = {}): Promise<PlatformHandle> {
  return startPlatform({ port: 0, ...opts });
}

export function expectError(res: Res, status: number, code: string): void {
  if (res.status !== status || res.body?.error?.code !== code)
    throw new Error(`expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 500)}`);
}
