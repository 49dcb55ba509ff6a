/**
 * The credential test (`enmeshedApiTest`, testedBy of the Enmeshed node): what n8n shows when the
 * user clicks "Test" — OK for a good credential, and a distinct, secret-free message for each way a
 * credential can be wrong.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { ICredentialDataDecryptedObject, ICredentialType, INodeCredentialTestResult } from 'n8n-workflow';
import { EnmeshedApi } from '../../credentials/EnmeshedApi.credentials';
import { enmeshedApiTest } from '../../nodes/Enmeshed/v1/methods/credentialTest';
import { Enmeshed } from '../../nodes/Enmeshed/Enmeshed.node';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { credentialTestContext } from './context';
import { nodeIdentity, expectNoSecrets, secretsOf, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let other: NodeIdentity;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, other] = await Promise.all([nodeIdentity(platform.baseUrl), nodeIdentity(platform.baseUrl)]);
});
afterAll(() => platform?.close());

async function test_(data: ICredentialDataDecryptedObject): Promise<INodeCredentialTestResult> {
  const ctx = credentialTestContext();
  const result = await enmeshedApiTest.call(ctx, { id: 'cred-1', name: 'Enmeshed account', type: 'enmeshedApi', data });
  expect(ctx.logs).toEqual([]);
  return result;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function withRecord(identity: string, change: (record: Record<string, unknown>) => void): string {
  const record = JSON.parse(identity) as Record<string, unknown>;
  change(record);
  return JSON.stringify(record);
}

test('both nodes name this test for their credential, which has no request test of its own, and the credential masks its secrets', () => {
  const node = new Enmeshed().nodeVersions[1];
  const trigger = new EnmeshedTrigger();
  for (const n of [node, trigger]) {
    expect(n.description.credentials).toEqual([{ name: 'enmeshedApi', required: true, testedBy: 'enmeshedApiTest' }]);
    expect(n.methods?.credentialTest?.enmeshedApiTest).toBe(enmeshedApiTest);
  }
  const credential: ICredentialType = new EnmeshedApi();
  // n8n runs a credential's own `test` request instead of a node's testedBy: there must be none.
  expect(credential.test).toBeUndefined();
  const masked = credential.properties.filter((p) => p.typeOptions?.password).map((p) => p.name);
  expect(masked).toEqual(['clientSecret', 'identity']);
});

test('a good credential: OK, connected as its address', async () => {
  expect(await test_(org.credential)).toEqual({ status: 'OK', message: `Connected as ${org.address}` });
  // pasted with surrounding white space (a common copy-and-paste result)
  expect((await test_({ ...org.credential, identity: `\n  ${org.credential.identity}\n`, platformUrl: ` ${platform.baseUrl}/ ` })).status).toBe('OK');
});

test('each way a credential can be wrong has its own message, and no message contains a secret', async () => {
  const wrongSecret = `wrong-${randomBytes(9).toString('base64url')}`;
  const port = await closedPort();
  const cases: Record<string, ICredentialDataDecryptedObject> = {
    wrongClientSecret: { ...org.credential, clientSecret: wrongSecret },
    unknownClient: { ...org.credential, clientId: 'no-such-client', clientSecret: wrongSecret },
    unreachable: { ...org.credential, platformUrl: `http://localhost:${port}` },
    secretOfAnotherIdentity: {
      ...org.credential,
      identity: withRecord(org.credential.identity, (r) => void (r.secret = (JSON.parse(other.credential.identity) as { secret: string }).secret)),
    },
    deviceOfAnotherIdentity: {
      ...org.credential,
      identity: withRecord(org.credential.identity, (r) => {
        const o = JSON.parse(other.credential.identity) as { username: string; deviceId: string };
        r.username = o.username;
        r.deviceId = o.deviceId;
      }),
    },
    otherPlatform: { ...org.credential, platformUrl: platform.baseUrl.replace('localhost', '127.0.0.1') },
    notJson: { ...org.credential, identity: 'did:e:localhost:dids:0123' },
    notAUrl: { ...org.credential, platformUrl: 'localhost' },
  };
  const results: Record<string, INodeCredentialTestResult> = {};
  for (const [name, data] of Object.entries(cases)) results[name] = await test_(data);

  expect(results.wrongClientSecret).toEqual({ status: 'Error', message: 'The client ID or client secret is wrong' });
  expect(results.unknownClient).toEqual(results.wrongClientSecret);
  expect(results.unreachable.status).toBe('Error');
  expect(results.unreachable.message).toMatch(/^The Platform cannot be reached: .*ECONNREFUSED/);
  expect(results.secretOfAnotherIdentity.status).toBe('Error');
  expect(results.secretOfAnotherIdentity.message).toContain(`The identity secret does not belong to ${org.address}`);
  expect(results.deviceOfAnotherIdentity.status).toBe('Error');
  expect(results.deviceOfAnotherIdentity.message).toContain('refused the device login');
  expect(results.otherPlatform.message).toContain('does not fit this Platform');
  expect(results.notJson.message).toContain('not valid JSON');
  expect(results.notAUrl.message).toContain('Platform URL is not a URL');

  const distinct = ['wrongClientSecret', 'unreachable', 'secretOfAnotherIdentity', 'deviceOfAnotherIdentity', 'otherPlatform', 'notJson', 'notAUrl'];
  expect(new Set(distinct.map((name) => results[name].message)).size).toBe(distinct.length);
  const secrets = [...secretsOf(org.credential), ...secretsOf(other.credential), wrongSecret];
  for (const result of Object.values(results)) expectNoSecrets(result.message, secrets);
});
