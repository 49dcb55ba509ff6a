import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { runCreateIdentity } from '../../lib/cli/create-identity';
import { parseIdentityRecord, IdentityRecordError, serializeIdentityRecord } from '../../lib/protocol/identity';
import { PlatformClient } from '../../lib/backbone';
import { cryptoReady } from '../../lib/crypto';

let platform: PlatformHandle;
beforeAll(async () => {
  await cryptoReady();
  platform = await startPlatform({});
});
afterAll(() => platform.close());

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCreateIdentity(argv, env, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

test('create-identity prints a working credential; secrets go to stdout only', async () => {
  const { code, out, err } = await cli(['--platform', platform.baseUrl, '--client-id', 'test'], { ENMESHED_CLIENT_SECRET: 'test' });
  expect(code).toBe(0);
  const credential = JSON.parse(out) as { platformUrl: string; clientId: string; clientSecret: string; identity: string };
  expect(credential).toMatchObject({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
  const identity = parseIdentityRecord(credential.identity, credential.platformUrl);
  expect(err).toContain(identity.address);
  expect(err).not.toContain(JSON.parse(credential.identity).secret);
  expect(err).not.toContain(identity.keys.devicePassword);
  // the printed values log in
  const client = new PlatformClient({
    baseUrl: credential.platformUrl,
    login: { clientId: credential.clientId, clientSecret: credential.clientSecret, username: identity.username, password: identity.keys.devicePassword },
  });
  expect((await client.getIdentity()).address).toBe(identity.address);
  // and the datawallet is set up, so syncing works at once
  expect((await client.startSyncRun('ExternalEventSync')).status).toBe('NoNewEvents');
});

test('missing options and a wrong secret are explained; exit codes 2 and 1', async () => {
  const missing = await cli(['--platform', platform.baseUrl]);
  expect(missing.code).toBe(2);
  expect(missing.err).toContain('--client-id (ENMESHED_CLIENT_ID)');
  const badUrl = await cli(['--platform', 'not a url', '--client-id', 'x', '--client-secret', 'y']);
  expect(badUrl.code).toBe(2);
  const wrong = await cli(['--platform', platform.baseUrl, '--client-id', 'test', '--client-secret', 'wrong-secret-123']);
  expect(wrong.code).toBe(1);
  expect(wrong.err).toContain('error.platform.unauthorized');
  expect(wrong.err).not.toContain('wrong-secret-123');
});

test('the identity record is checked against the Platform and the address', async () => {
  const { out } = await cli(['--platform', platform.baseUrl, '--client-id', 'test', '--client-secret', 'test', '--quiet']);
  const credential = JSON.parse(out) as { identity: string };
  const record = JSON.parse(credential.identity);
  const other = JSON.parse((JSON.parse((await cli(['--platform', platform.baseUrl, '--client-id', 'test', '--client-secret', 'test', '--quiet'])).out) as { identity: string }).identity);
  const expectError = (text: string, url: string, pattern: RegExp) => {
    expect(() => parseIdentityRecord(text, url)).toThrow(IdentityRecordError);
    expect(() => parseIdentityRecord(text, url)).toThrow(pattern);
  };
  expectError('{not json', platform.baseUrl, /not valid JSON/);
  expectError(JSON.stringify({ ...record, v: 3 }), platform.baseUrl, /unknown format/);
  expectError(JSON.stringify({ ...record, secret: other.secret }), platform.baseUrl, /does not belong/);
  expectError(JSON.stringify({ ...record, secret: 'AAAA' }), platform.baseUrl, /damaged/);
  expectError(credential.identity, 'https://backbone.example.org', /does not fit this Platform/);
  const typo = record.address.slice(0, -1) + (record.address.endsWith('0') ? '1' : '0');
  expectError(JSON.stringify({ ...record, address: typo }), platform.baseUrl, /^The identity's address is damaged \(paste the identity again\): the last two characters .* are its checksum/);
  const mismatch = (() => {
    try {
      parseIdentityRecord(JSON.stringify({ ...record, secret: other.secret }), platform.baseUrl);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  })();
  expect(mismatch).toContain(record.address);
  expect(mismatch).not.toContain(other.secret);
  const parsed = parseIdentityRecord(credential.identity, platform.baseUrl);
  expect(serializeIdentityRecord(parsed)).toBe(credential.identity);
});

test('the real command (separate process) prints the credential', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '..', '..', 'lib', 'cli', 'main.ts'), 'create-identity', '--quiet'],
    { env: { ...process.env, ENMESHED_PLATFORM_URL: platform.baseUrl, ENMESHED_CLIENT_ID: 'test', ENMESHED_CLIENT_SECRET: 'test' } },
  );
  expect(JSON.parse(stdout).identity).toMatch(/"address":"did:e:localhost:dids:/);
});
