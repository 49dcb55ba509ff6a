import { createHash } from 'node:crypto';
import { b64u, createIdentity, expectError, request, withPlatform, type Identity, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
let base: string;
beforeAll(async () => {
  platform = await withPlatform({ maxFileSize: 256 * 1024, maxRequestSize: 1024 * 1024 });
  base = platform.baseUrl;
});
afterAll(() => platform.close());

function uploadForm(content: Buffer, over: Record<string, string | undefined> = {}): FormData {
  const fields: Record<string, string | undefined> = {
    cipherHash: createHash('sha512').update(content).digest('base64url'),
    owner: 'ignored',
    ownerSignature: b64u(JSON.stringify({ sig: 'x', alg: 2 })),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    encryptedProperties: b64u('{"cph":"meta"}'),
    ...over,
  };
  const form = new FormData();
  form.append('content', new Blob([content]), 'cipher.bin');
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
  return form;
}

const upload = (id: Identity, content: Buffer, over: Record<string, string | undefined> = {}) =>
  id.req('POST', '/api/v2/Files', { body: uploadForm(content, over) });

describe('files', () => {
  it('upload, metadata, download, list own, delete', async () => {
    const [a, b] = await Promise.all([createIdentity(base, { datawallet: false }), createIdentity(base, { datawallet: false })]);
    const blob = Buffer.from(JSON.stringify({ cph: 'A'.repeat(1000), alg: 3, nnc: 'B'.repeat(32), '@type': 'CryptoCipher' }));
    const up = await upload(a, blob);
    expect(up.status).toBe(201);
    const f = up.body.result;
    expect(f).toMatchObject({ createdBy: a.address, createdByDevice: a.deviceId, owner: a.address, cipherSize: blob.length, deletedAt: null });
    expect(f.id).toMatch(/^FIL[A-Za-z0-9]{17}$/);
    expect(f.ownershipToken).toMatch(/^[A-Za-z0-9!@#$%^&*()_\-+=<>?/{}[\]|~]{20}$/);
    expect(f.cipherHash).toBe(createHash('sha512').update(blob).digest('base64url'));

    const meta = await b.req('GET', `/api/v2/files/${f.id}/metadata`);
    expect(meta.body.result).toMatchObject({ id: f.id, encryptedProperties: b64u('{"cph":"meta"}'), ownershipIsLocked: false, owner: a.address });
    expect(meta.body.result.ownershipToken).toBeUndefined();
    const dl = await b.req('GET', `/api/v2/Files/${f.id}`);
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    expect(dl.buf.equals(blob)).toBe(true);

    await upload(a, Buffer.from('second'));
    const list = await a.req('GET', '/api/v2/Files');
    expect(list.body.result).toHaveLength(2);
    expect((await b.req('GET', '/api/v2/Files')).body.result).toEqual([]);
    expect((await a.req('GET', `/api/v2/Files?ids=${f.id}`)).body.result.map((x: any) => x.id)).toEqual([f.id]);

    expectError(await b.req('DELETE', `/api/v2/Files/${f.id}`), 403, 'error.platform.forbidden');
    expect((await a.req('DELETE', `/api/v2/Files/${f.id}`)).status).toBe(204);
    expectError(await b.req('GET', `/api/v2/Files/${f.id}`), 404, 'error.platform.recordNotFound');
    expectError(await a.req('GET', '/api/v2/Files/FILaaaaaaaaaaaaaaaaa/Metadata'), 404, 'error.platform.recordNotFound');
  });

  it('rejects missing/empty fields, bad base64, past expiry, too large content and bodies', async () => {
    const a = await createIdentity(base, { datawallet: false });
    const c = Buffer.from('content');
    expectError(await upload(a, c, { cipherHash: undefined }), 400, 'error.platform.inputCannotBeParsed');
    expectError(await upload(a, c, { encryptedProperties: '' }), 400, 'error.platform.inputCannotBeParsed');
    expectError(await upload(a, c, { cipherHash: '***' }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await upload(a, c, { cipherHash: b64u(Buffer.alloc(129)) }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await upload(a, c, { expiresAt: '2001-01-01T00:00:00Z' }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await upload(a, Buffer.alloc(0)), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await upload(a, Buffer.alloc(256 * 1024 + 1)), 400, 'error.platform.validation.invalidPropertyValue');
    expect((await upload(a, Buffer.alloc(256 * 1024))).status).toBe(201);
    expectError(await upload(a, Buffer.alloc(1024 * 1024 + 10)), 400, 'error.platform.requestBodyTooLarge');
    expectError(await a.req('POST', '/api/v2/Files', { json: {} }), 400, 'error.platform.inputCannotBeParsed');
    expectError(
      await a.req('POST', '/api/v2/Files', { body: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x' } }),
      400,
      'error.platform.inputCannotBeParsed',
    );
    platform.setQuotas([{ metric: 'UsedFileStorageSpace', max: 100, period: 'Month' }]);
    try {
      expectError(await upload(a, c), 429, 'error.platform.quotaExhausted');
    } finally {
      platform.setQuotas([]);
    }
  });

  it('ownership token: validate, lock, claim', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    const f = (await upload(a, Buffer.from('owned'))).body.result;
    expect((await a.req('POST', `/api/v2/Files/${f.id}/ValidateOwnershipToken`, { json: { ownershipToken: f.ownershipToken } })).body.result).toEqual({ isValid: true });
    expectError(await b.req('POST', `/api/v2/Files/${f.id}/ValidateOwnershipToken`, { json: { ownershipToken: 'x'.repeat(21) } }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await a.req('PATCH', `/api/v2/Files/${f.id}/ClaimOwnership`, { json: { ownershipToken: f.ownershipToken } }), 400, 'error.platform.validation.file.cannotClaimOwnershipOfOwnFile');
    const claimed = await b.req('PATCH', `/api/v2/Files/${f.id}/ClaimOwnership`, { json: { ownershipToken: f.ownershipToken } });
    expect(claimed.status).toBe(200);
    expect(claimed.body.result.newOwnershipToken).toHaveLength(20);
    expect((await a.sync()).map((e) => [e.type, e.payload])).toEqual([['FileOwnershipClaimed', { fileId: f.id, newOwnerAddress: b.address }]]);
    // wrong token from a non-owner locks
    expect((await a.req('POST', `/api/v2/Files/${f.id}/ValidateOwnershipToken`, { json: { ownershipToken: 'wrongwrongwrong' } })).body.result.isValid).toBe(false);
    expect((await b.sync()).map((e) => e.type)).toEqual(['FileOwnershipLocked']);
    expect((await b.req('POST', `/api/v2/Files/${f.id}/ValidateOwnershipToken`, { json: { ownershipToken: claimed.body.result.newOwnershipToken } })).body.result.isValid).toBe(false);
    expectError(await a.req('PATCH', `/api/v2/Files/${f.id}/ClaimOwnership`, { json: { ownershipToken: claimed.body.result.newOwnershipToken } }), 403, 'error.platform.forbidden');
    expectError(await a.req('PATCH', `/api/v2/Files/${f.id}/RegenerateOwnershipToken`), 403, 'error.platform.forbidden');
    expect((await b.req('PATCH', `/api/v2/Files/${f.id}/RegenerateOwnershipToken`)).status).toBe(200);
  });
});

describe('tokens', () => {
  it('create, get anonymous with password, allocation, forIdentity, list, delete', async () => {
    const [a, b, c] = await Promise.all([createIdentity(base, { datawallet: false }), createIdentity(base, { datawallet: false }), createIdentity(base, { datawallet: false })]);
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const pw = Buffer.from('secret-password');
    const created = await a.req('POST', '/api/v2/Tokens', { json: { content: b64u('tok'), expiresAt, password: pw.toString('base64') } });
    expect(created.status).toBe(201);
    const id = created.body.result.id;
    expect(id).toMatch(/^TOK[A-Za-z0-9]{17}$/);

    expectError(await request(base, 'GET', `/api/v2/Tokens/${id}`), 404, 'error.platform.recordNotFound');
    expectError(await request(base, 'GET', `/api/v2/Tokens/${id}?password=${encodeURIComponent(Buffer.from('wrong').toString('base64'))}`), 404, 'error.platform.recordNotFound');
    const anon = await request(base, 'GET', `/api/v2/Tokens/${id}?password=${encodeURIComponent(pw.toString('base64'))}`);
    expect(anon.body.result).toMatchObject({ id, createdBy: a.address, createdByDevice: a.deviceId, forIdentity: null, content: b64u('tok'), isPasswordProtected: true });
    expectError(await request(base, 'GET', `/api/v2/Tokens/${id}?password=***`), 400, 'error.platform.validation.invalidPropertyValue');
    expect((await a.req('GET', `/api/v2/Tokens/${id}`)).status).toBe(200); // creator needs no password
    expect((await b.req('GET', `/api/v2/Tokens/${id}?password=${encodeURIComponent(pw.toString('base64'))}`)).status).toBe(200);
    expect((await b.req('GET', `/api/v2/Tokens/${id}`)).status).toBe(200); // allocated now
    expect((await b.req('GET', `/api/v2/Tokens?ids=${id}`)).body.result).toHaveLength(1);
    expect((await c.req('GET', `/api/v2/Tokens?ids=${id}`)).body.result).toHaveLength(0);
    expectError(await c.req('GET', '/api/v2/Tokens'), 400, 'error.platform.validation.invalidPropertyValue');

    const forB = (await a.req('POST', '/api/v2/Tokens', { json: { content: b64u('x'), expiresAt, forIdentity: b.address } })).body.result.id;
    expectError(await c.req('GET', `/api/v2/Tokens/${forB}`), 404, 'error.platform.recordNotFound');
    expectError(await request(base, 'GET', `/api/v2/Tokens/${forB}`), 404, 'error.platform.recordNotFound');
    expect((await b.req('GET', `/api/v2/Tokens/${forB}`)).status).toBe(200);

    expectError(await b.req('DELETE', `/api/v2/Tokens/${id}`), 403, 'error.platform.forbidden');
    expect((await a.req('DELETE', `/api/v2/Tokens/${id}`)).status).toBe(204);
    expectError(await a.req('GET', `/api/v2/Tokens/${id}`), 404, 'error.platform.recordNotFound');

    // expiry: non-creators get 404, the creator still sees it
    platform.advanceClock(3601_000);
    try {
      await a.login();
      await b.login();
      await c.login();
      expectError(await c.req('GET', `/api/v2/Tokens/${forB}`), 404, 'error.platform.recordNotFound'); // expired (and not for c)
      expect((await a.req('GET', `/api/v2/Tokens/${forB}`)).status).toBe(200);
      expect((await b.req('GET', `/api/v2/Tokens/${forB}`)).status).toBe(200); // already allocated
    } finally {
      platform.advanceClock(-3601_000);
    }
  });

  it('anonymous tokens: null content, short lifetime, UpdateContent', async () => {
    const a = await createIdentity(base, { datawallet: false });
    const soon = new Date(Date.now() + 60_000).toISOString();
    expectError(await request(base, 'POST', '/api/v2/Tokens', { json: { content: b64u('x'), expiresAt: soon } }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(
      await request(base, 'POST', '/api/v2/Tokens', { json: { content: null, expiresAt: new Date(Date.now() + 3600_000).toISOString() } }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    expectError(await request(base, 'POST', '/api/v2/Tokens', { json: { content: null } }), 400, 'error.platform.inputCannotBeParsed');
    const t = await request(base, 'POST', '/api/v2/Tokens', { json: { content: null, expiresAt: soon } });
    expect(t.status).toBe(201);
    const id = t.body.result.id;
    expect((await request(base, 'GET', `/api/v2/Tokens/${id}`)).body.result).toMatchObject({ createdBy: null, content: null }); // anon = "creator" quirk
    const upd = await a.req('POST', `/api/v2/Tokens/${id}/UpdateContent`, { json: { newContent: b64u('filled') } });
    expect(upd.status).toBe(200);
    expect(upd.body.result).toMatchObject({ id, createdBy: a.address, createdByDevice: a.deviceId, isPasswordProtected: false });
    expect(upd.body.result.content).toBeUndefined();
    expectError(
      await a.req('POST', `/api/v2/Tokens/${id}/UpdateContent`, { json: { newContent: b64u('again') } }),
      400,
      'error.platform.token.contentUpdateNotPossibleBecauseContentAlreadyExists',
    );
    expect((await request(base, 'POST', `/api/v2/Tokens/${id}/UpdateContent`, { json: { newContent: b64u('x') } })).status).toBe(401);
  });

  it('locks after 100 failed password attempts and notifies the creator', async () => {
    const a = await createIdentity(base);
    const id = (await a.req('POST', '/api/v2/Tokens', { json: { content: b64u('x'), expiresAt: new Date(Date.now() + 3600_000).toISOString(), password: b64u('pw') } })).body.result.id;
    for (let i = 0; i < 100; i++) expect((await request(base, 'GET', `/api/v2/Tokens/${id}`)).status).toBe(404);
    expectError(await request(base, 'GET', `/api/v2/Tokens/${id}?password=${encodeURIComponent(Buffer.from('pw').toString('base64'))}`), 400, 'error.platform.token.tooManyFailedPasswordAttempts');
    expect((await a.sync()).map((e) => e.type)).toEqual(['TokenLocked']);
    expect((await a.req('GET', `/api/v2/Tokens/${id}`)).status).toBe(200);
  });
});
