/**
 * The credential test as n8n itself runs it: a real n8n 2.41.1 with the packed package, the owner
 * logged in over the REST API, each credential saved the way the editor saves it
 * (`POST /rest/credentials`) and then tested the way the editor tests it (`POST /rest/credentials/test`
 * with `{credentials: {id, name, type, data}}`), so n8n's credentials tester picks the test function:
 * the credential type's own `test` request if it has one, otherwise a node's `testedBy`. Only the
 * latter logs in and checks the identity secret — with a request that needs no secret, every case
 * below would answer "Connection tested successfully".
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { createIdentity, type ParticipantCredential } from '../../lib/protocol';
import { createHome, freePort, n8nCache, N8N_VERSION, packPackage, start, type Running } from '../../scripts/lib/n8n';

jest.setTimeout(10 * 60_000);

const OWNER = { email: 'owner@example.com', password: `Owner-${randomBytes(6).toString('hex')}-1` };
const BROWSER_ID = 'e2e-credential-test';

let platform: PlatformHandle;
let org: ParticipantCredential;
let other: ParticipantCredential;
let n8n: Running | undefined;
let editor: string;
let cookie: string;
let home: string | undefined;

/** One REST call as the logged-in owner; n8n wraps answers in `{data}`. */
async function rest<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${editor}/rest${route}`, {
    method,
    headers: { 'content-type': 'application/json', 'browser-id': BROWSER_ID, ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /rest${route}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return (JSON.parse(text) as { data: T }).data;
}

beforeAll(async () => {
  platform = await startPlatform({});
  const access = { platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
  [org, other] = (await Promise.all([createIdentity(access), createIdentity(access)])).map((r) => r.credential);

  const binaries = n8nCache();
  const bcrypt = createRequire(path.join(binaries.cache, `n8n-${N8N_VERSION}`, 'node_modules', 'n8n', 'package.json'))('bcryptjs') as {
    hashSync: (password: string, rounds: number) => string;
  };
  const port = await freePort();
  const created = await createHome('credtest', packPackage(), { port, broker: await freePort() }, {
    binaries,
    env: {
      N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
      N8N_INSTANCE_OWNER_EMAIL: OWNER.email,
      N8N_INSTANCE_OWNER_PASSWORD_HASH: bcrypt.hashSync(OWNER.password, 10),
      N8N_INSTANCE_OWNER_FIRST_NAME: 'E2E',
      N8N_INSTANCE_OWNER_LAST_NAME: 'Owner',
    },
  });
  home = created.dir;
  n8n = await start(created);
  editor = `http://127.0.0.1:${port}`;

  // /healthz answers before the REST API does ("n8n is starting up"): log in once it answers JSON.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const login = await fetch(`${editor}/rest/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'browser-id': BROWSER_ID },
      body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
    });
    const json = login.headers.get('content-type')?.includes('application/json');
    if (json && !login.ok) throw new Error(`login: HTTP ${login.status} ${await login.text()}`);
    if (json) {
      cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      break;
    }
    if (Date.now() > deadline) throw new Error(`n8n's REST API did not answer the login: ${login.status} ${await login.text()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(cookie).toContain('n8n-auth=');
});

afterAll(async () => {
  await n8n?.stop();
  await platform?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

interface TestResult {
  status: 'OK' | 'Error';
  message: string;
}

/** Saves the credential as the editor does, then has n8n test it. */
async function saveAndTest(name: string, data: ParticipantCredential): Promise<TestResult> {
  const saved = await rest<{ id: string }>('POST', '/credentials', { name, type: 'enmeshedApi', data });
  return rest<TestResult>('POST', '/credentials/test', { credentials: { id: saved.id, name, type: 'enmeshedApi', data } });
}

function withRecord(identity: string, change: (record: Record<string, string>) => void): string {
  const record = JSON.parse(identity) as Record<string, string>;
  change(record);
  return JSON.stringify(record);
}

const addressOf = (c: ParticipantCredential): string => (JSON.parse(c.identity) as { address: string }).address;

test('a good credential: OK, connected as its address — also when reopened with its secrets redacted', async () => {
  expect(await saveAndTest('good', org)).toEqual({ status: 'OK', message: `Connected as ${addressOf(org)}` });

  // The editor reopening a saved credential gets the secret fields redacted; n8n fills them in again.
  const saved = await rest<{ id: string }>('POST', '/credentials', { name: 'reopened', type: 'enmeshedApi', data: org });
  const reopened = await rest<{ data: Record<string, unknown> }>('GET', `/credentials/${saved.id}?includeData=true`);
  expect(reopened.data.clientSecret).not.toBe(org.clientSecret);
  expect(reopened.data.identity).not.toBe(org.identity);
  const result = await rest<TestResult>('POST', '/credentials/test', { credentials: { id: saved.id, name: 'reopened', type: 'enmeshedApi', data: reopened.data } });
  expect(result).toEqual({ status: 'OK', message: `Connected as ${addressOf(org)}` });
});

test('a wrong client secret', async () => {
  expect(await saveAndTest('wrong client secret', { ...org, clientSecret: `wrong-${randomBytes(6).toString('hex')}` })).toEqual({
    status: 'Error',
    message: 'The client ID or client secret is wrong',
  });
});

test('an unreachable Platform', async () => {
  const result = await saveAndTest('unreachable', { ...org, platformUrl: `http://localhost:${await freePort()}` });
  expect(result.status).toBe('Error');
  expect(result.message).toMatch(/^The Platform cannot be reached: .*ECONNREFUSED/);
});

test('the device login is refused: the identity names another identity\'s device, so the password derived from the secret does not fit', async () => {
  const identity = withRecord(org.identity, (r) => {
    const o = JSON.parse(other.identity) as Record<string, string>;
    r.username = o.username;
    r.deviceId = o.deviceId;
  });
  expect(await saveAndTest('device of another identity', { ...org, identity })).toEqual({
    status: 'Error',
    message: 'The Platform refused the device login: the identity may belong to another Platform, be deleted, or its username was changed',
  });
});

test('an identity secret that does not belong to the address', async () => {
  const identity = withRecord(org.identity, (r) => void (r.secret = (JSON.parse(other.identity) as { secret: string }).secret));
  const result = await saveAndTest('secret of another identity', { ...org, identity });
  expect(result.status).toBe('Error');
  expect(result.message).toContain(`The identity secret does not belong to ${addressOf(org)}: the keys and the address come from different identities`);
  expect(result.message).not.toContain((JSON.parse(other.identity) as { secret: string }).secret);
});
