/** Enmeshed node, resource Identity, and how credential problems reach the user when the node runs. */
import { randomBytes } from 'node:crypto';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { deriveAddress, fromBase64Url, hostnameOf } from '../../lib/crypto';
import { nodeIdentity, expectNoSecrets, runNode, runNodeError, secretsOf, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;

beforeAll(async () => {
  platform = await startPlatform({});
  org = await nodeIdentity(platform.baseUrl);
});
afterAll(() => platform?.close());

test('get: address, public key, status and device of the credential; no secret in the output', async () => {
  const out = await runNode({ credentials: org.credential, parameters: { resource: 'identity', operation: 'get' }, items: [{ json: {} }, { json: {} }] });
  expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
  const record = JSON.parse(org.credential.identity) as { address: string; username: string; deviceId: string };
  expect(out[0].json).toMatchObject({
    address: org.address,
    platformUrl: platform.baseUrl,
    status: 'Active',
    device: { id: record.deviceId, username: record.username, createdAt: expect.any(String) },
    createdAt: expect.any(String),
  });
  // the public key is the identity's: it derives the address
  expect(deriveAddress(fromBase64Url(out[0].json.publicKeyRaw as string), hostnameOf(platform.baseUrl))).toBe(org.address);
  expect(JSON.parse(Buffer.from(out[0].json.publicKey as string, 'base64').toString('utf8'))).toMatchObject({ pub: out[0].json.publicKeyRaw });
  expectNoSecrets(JSON.stringify(out), secretsOf(org.credential));
});

test('a credential that cannot work: clear errors, before any item, without secrets', async () => {
  const run = (changes: Record<string, string>) =>
    runNodeError({ credentials: { ...org.credential, ...changes }, parameters: { resource: 'identity', operation: 'get' } });
  const wrongClientSecret = `wrong-${randomBytes(9).toString('base64url')}`;
  const secrets = [...secretsOf(org.credential), wrongClientSecret];

  const url = await run({ platformUrl: 'backbone.example.org' });
  expect(url).toBeInstanceOf(NodeOperationError);
  expect(url.message).toBe("The credential's Platform URL is not a URL");

  const damaged = await run({ identity: org.credential.identity.slice(0, -10) });
  expect(damaged).toBeInstanceOf(NodeOperationError);
  expect(damaged.message).toContain('identity is not usable');

  const wrongSecret = await run({ clientSecret: wrongClientSecret });
  expect(wrongSecret).toBeInstanceOf(NodeApiError);
  expect(wrongSecret.description).toContain('The client ID or client secret in the credential is wrong');

  for (const error of [url, damaged, wrongSecret]) expectNoSecrets(`${error.message} ${error.description ?? ''} ${JSON.stringify(error)}`, secrets);
});

test('no credential at all, and an operation that does not exist', async () => {
  const none = await runNodeError({ parameters: { resource: 'identity', operation: 'get' } });
  expect(none.message).toContain('credentials');
  const unknown = await runNodeError({ credentials: org.credential, parameters: { resource: 'identity', operation: 'delete' } });
  expect(unknown.message).toBe('The operation "delete" of "identity" is not supported');
});

test('the Platform offline: NodeApiError with a hint to check the URL', async () => {
  const gone = await startPlatform({});
  const identity = await nodeIdentity(gone.baseUrl);
  await gone.close();
  const error = await runNodeError({ credentials: identity.credential, parameters: { resource: 'identity', operation: 'get' } });
  expect(error).toBeInstanceOf(NodeApiError);
  expect(error.message).toMatch(/refused the connection|could not be reached/);
  expect(error.description).toContain('Check the Platform URL');
  expectNoSecrets(`${error.message} ${error.description ?? ''}`, secretsOf(identity.credential));
});
