/**
 * Malformed input never crashes the Platform nor answers 500: a deterministic fuzz loop over the routes.
 */
import { b64u, createIdentity, messageBody, relate, request, withPlatform, type Identity, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
let base: string;
let a: Identity;
let b: Identity;
const ids: Record<string, string> = {};

beforeAll(async () => {
  platform = await withPlatform({ maxRequestSize: 512 * 1024, maxFileSize: 128 * 1024 });
  base = platform.baseUrl;
  a = await createIdentity(base);
  b = await createIdentity(base);
  ids.REL = await relate(a, b);
  ids.RLT = (await a.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('t') } })).body.result.id;
  ids.MSG = (await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) })).body.result.id;
  ids.TOK = (await a.req('POST', '/api/v2/Tokens', { json: { content: b64u('t'), expiresAt: new Date(Date.now() + 3600_000).toISOString() } })).body.result.id;
  ids.SYR = (await a.req('POST', '/api/v2/SyncRuns', { json: {}, headers: { 'x-supported-datawallet-version': '1' } })).body.result.syncRun.id;
});
afterAll(() => platform.close());

// xorshift PRNG: deterministic fuzzing
let seed = 0x2545f491;
const rnd = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const pick = <T>(xs: T[]): T => xs[rnd(xs.length)];

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  2 ** 53 + 10,
  '',
  '!!!not base64!!!',
  'A',
  '=',
  'x'.repeat(70000),
  '2025-13-45T99:99:99Z',
  '9999-12-31T23:59:59Z',
  '\u0000\ud800',
  'did:e:localhost:dids:0000000000000000000000',
  'REL' + 'a'.repeat(17),
  [],
  [1, 'a', null],
  [{}],
  [{ address: 1, encryptedKey: [] }],
  {},
  { id: {} },
  { externalEventId: 5 },
];

const FIELDS = [
  'type', 'duration', 'localIndex', 'modifications', 'datawalletModifications', 'externalEventResults', 'newDatawalletVersion',
  'content', 'expiresAt', 'maxNumberOfAllocations', 'forIdentity', 'password', 'relationshipTemplateId', 'creationContent',
  'creationResponseContent', 'recipients', 'body', 'attachments', 'ownershipToken', 'newContent', 'clientId', 'clientSecret',
  'identityPublicKey', 'devicePassword', 'signedChallenge', 'identityVersion', 'communicationLanguage', 'oldPassword',
  'newPassword', 'code', 'platform', 'handle', 'appId', 'isBackupDevice', 'lengthOfGracePeriodInDays',
];

const ROUTES: [string, string][] = [
  ['POST', '/api/v2/Challenges'],
  ['POST', '/api/v2/Identities'],
  ['PUT', '/api/v2/Devices/Self'],
  ['PUT', '/api/v2/Devices/Self/Password'],
  ['POST', '/api/v2/Devices'],
  ['PUT', '/api/v2/Devices/Self/PushNotifications'],
  ['POST', '/api/v2/Identities/Self/DeletionProcesses'],
  ['POST', '/api/v2/Datawallet/Modifications'],
  ['POST', '/api/v2/SyncRuns'],
  ['PUT', '/api/v2/SyncRuns/{SYR}/FinalizeExternalEventSync'],
  ['PUT', '/api/v2/SyncRuns/{SYR}/FinalizeDatawalletVersionUpgrade'],
  ['POST', '/api/v2/RelationshipTemplates'],
  ['POST', '/api/v2/Relationships'],
  ['PUT', '/api/v2/Relationships/{REL}/Accept'],
  ['PUT', '/api/v2/Relationships/{REL}/Reject'],
  ['PUT', '/api/v2/Relationships/{REL}/Revoke'],
  ['PUT', '/api/v2/Relationships/{REL}/Terminate'],
  ['POST', '/api/v2/Messages'],
  ['POST', '/api/v2/Files'],
  ['POST', '/api/v2/Files/FILaaaaaaaaaaaaaaaaa/ValidateOwnershipToken'],
  ['PATCH', '/api/v2/Files/FILaaaaaaaaaaaaaaaaa/ClaimOwnership'],
  ['POST', '/api/v2/Tokens'],
  ['POST', '/api/v2/Tokens/{TOK}/UpdateContent'],
  ['POST', '/api/v2/Notifications'],
  ['POST', '/connect/token'],
];

const GET_PATHS = [
  '/api/v2/Challenges/{x}',
  '/api/v2/Relationships/{x}',
  '/api/v2/Relationships?ids={x}',
  '/api/v2/Relationships/CanCreate?peer={x}',
  '/api/v2/RelationshipTemplates/{x}?password={x}',
  '/api/v2/RelationshipTemplates?templates.0.id={x}&templates.0.password={x}',
  '/api/v2/Messages/{x}',
  '/api/v2/Messages?ids={x}&pageSize={x}',
  '/api/v2/Files/{x}',
  '/api/v2/Files/{x}/Metadata',
  '/api/v2/Tokens/{x}?password={x}',
  '/api/v2/Tokens?ids={x}',
  '/api/v2/SyncRuns/{x}/ExternalEvents?pageNumber={x}',
  '/api/v2/Datawallet/Modifications?localIndex={x}',
  '/api/v2/Identities/IsDeleted?username={x}',
  '/api/v2/Devices?ids={x}',
];
const PATH_VALUES = ['', 'x', '%', '%E0%A4%A', '..', 'REL' + 'a'.repeat(17), 'a'.repeat(5000), '-1', '9'.repeat(30), 'MSG!@#$%^&*()aaaaaaa', '%00', 'null'];

function randomBody(): { body: string | Buffer; ct: string } {
  switch (rnd(8)) {
    case 0:
      return { body: '{"unterminated": ', ct: 'application/json' };
    case 1:
      return { body: JSON.stringify(pick(WEIRD_VALUES)), ct: 'application/json' };
    case 2:
      return { body: Buffer.from(Array.from({ length: rnd(300) }, () => rnd(256))), ct: pick(['application/json', 'multipart/form-data; boundary=zz', 'text/plain']) };
    case 3:
      return { body: 'a=1&b=%ZZ&grant_type=password&username=&password=', ct: 'application/x-www-form-urlencoded' };
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < 1 + rnd(6); i++) obj[pick(FIELDS)] = pick(WEIRD_VALUES);
      return { body: JSON.stringify(obj), ct: 'application/json' };
    }
  }
}

describe('robustness', () => {
  it('fuzzed bodies on write routes: never 500, always an envelope on 400/404', async () => {
    const stats: Record<number, number> = {};
    for (let i = 0; i < 400; i++) {
      const [method, pathTpl] = pick(ROUTES);
      const path = pathTpl.replace(/\{(\w+)\}/g, (_, k: string) => ids[k]);
      const { body, ct } = randomBody();
      const res = await request(base, method, path, { body, token: rnd(5) === 0 ? undefined : pick([a, b]).token, headers: { 'content-type': ct, 'x-supported-datawallet-version': pick(['1', '0', 'x', '99999999']) } });
      if (res.status >= 500) throw new Error(`${method} ${path} ${String(body).slice(0, 200)} → ${res.status} ${res.text}`);
      stats[res.status] = (stats[res.status] ?? 0) + 1;
      if ((res.status === 400 || res.status === 404) && !path.startsWith('/connect')) expect(res.body?.error?.code).toMatch(/^error\.platform\./);
    }
    expect(stats[400]).toBeGreaterThan(100);
  });

  it('fuzzed path and query values on read routes: never 500', async () => {
    for (const tpl of GET_PATHS)
      for (const v of PATH_VALUES) {
        const path = tpl.replace(/\{x\}/g, v);
        const res = await request(base, 'GET', path, { token: a.token });
        if (res.status >= 500) throw new Error(`GET ${path} → ${res.status} ${res.text}`);
      }
  });

  it('specific malformed inputs map to the documented codes', async () => {
    const post = (path: string, body: string) => a.req('POST', path, { body, headers: { 'content-type': 'application/json' } });
    expect((await post('/api/v2/Messages', '{bad json')).body.error.code).toBe('error.platform.inputCannotBeParsed');
    expect((await post('/api/v2/Messages', '')).body.error.code).toBe('error.platform.inputCannotBeParsed');
    expect((await post('/api/v2/Messages', '[]')).body.error.code).toBe('error.platform.inputCannotBeParsed');
    const wrongType = await a.req('POST', '/api/v2/RelationshipTemplates', { json: { content: 123 } });
    expect(wrongType.body.error).toMatchObject({ code: 'error.platform.inputCannotBeParsed', message: expect.stringContaining("'$.content'") });
    expect((await a.req('POST', '/api/v2/RelationshipTemplates', { json: { content: '!!!' } })).body.error.code).toBe('error.platform.inputCannotBeParsed');
    // case-insensitive property names, numbers as strings, standard base64 input
    const ok = await a.req('POST', '/api/v2/RelationshipTemplates', { json: { CONTENT: Buffer.from('xyz?>').toString('base64'), MaxNumberOfAllocations: '2' } });
    expect(ok.status).toBe(201);
    const t = await a.req('GET', `/api/v2/RelationshipTemplates/${ok.body.result.id}`);
    expect(t.body.result).toMatchObject({ content: Buffer.from('xyz?>').toString('base64url'), maxNumberOfAllocations: 2 });
    const big = await a.req('POST', '/api/v2/Messages', { body: JSON.stringify({ body: 'A'.repeat(600 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(400);
    expect(big.body.error.code).toBe('error.platform.requestBodyTooLarge');
    const err = (await a.req('GET', '/api/v2/Messages/MSGaaaaaaaaaaaaaaaaa')).body.error;
    expect(err).toMatchObject({ code: 'error.platform.recordNotFound', docs: '', data: null });
    expect(err.id).toMatch(/^ERR[A-Z0-9]{17}$/);
    expect(err.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/);
    // wrong method on a known path
    expect((await a.req('DELETE', '/api/v2/Messages')).status).toBe(405);
    // still alive
    expect((await request(base, 'GET', '/api/v2/Version')).status).toBe(200);
  });

  it('fault hook: 500, drop, delay', async () => {
    platform.setFaults(({ path }) => (path.endsWith('/Version') ? '500' : path.endsWith('/Tags') ? 'drop' : path.endsWith('/Announcements') ? { delayMs: 50 } : undefined));
    try {
      const r = await request(base, 'GET', '/api/v2/Version');
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('error.platform.unexpected');
      await expect(request(base, 'GET', '/api/v2/Tags')).rejects.toThrow();
      const t0 = Date.now();
      expect((await a.req('GET', '/api/v2/Announcements')).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    } finally {
      platform.setFaults(undefined);
    }
    expect((await request(base, 'GET', '/api/v2/Version')).status).toBe(200);
  });
});
