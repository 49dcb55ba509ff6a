/**
 * The reference client (@nmshd/transport 7.0.0) against the local Platform: onboarding (address check against the
 * server's), template → relationship → accept, messages both ways, file upload/download, token round trip.
 */
import { LokiJsConnection } from '@js-soft/docdb-access-loki';
import { JSONWrapper } from '@js-soft/ts-serval';
import { EventEmitter2EventBus } from '@js-soft/ts-utils';
import { CoreDate } from '@nmshd/core-types';
import { CoreBuffer } from '@nmshd/crypto';
import { AccountController, Transport } from '@nmshd/transport';
import { withPlatform, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
const accounts: AccountController[] = [];

async function newAccount(transport: Transport, name: string): Promise<AccountController> {
  const db = LokiJsConnection.inMemory();
  const account = new AccountController(transport, await db.getDatabase(name), transport.config);
  await account.init();
  accounts.push(account);
  return account;
}

beforeAll(async () => {
  platform = await withPlatform({ maxNumberOfMessageRecipients: 20 });
});
afterAll(async () => {
  for (const a of accounts) await a.close().catch(() => undefined);
  await platform.close();
});

it('reference client: onboarding, relationship, messages, files, tokens', async () => {
  const eventBus = new EventEmitter2EventBus(() => undefined);
  const transport = await new Transport(
    { baseUrl: platform.baseUrl, platformClientId: 'test', platformClientSecret: 'test', supportedIdentityVersion: 1, debug: true },
    eventBus,
  ).init();
  const a = await newAccount(transport, 'a');
  const b = await newAccount(transport, 'b');
  expect(a.identity.address.toString()).toMatch(/^did:e:localhost:dids:/);

  const template = await a.relationshipTemplates.sendRelationshipTemplate({
    content: JSONWrapper.from({ value: { hello: 'template' } }),
    expiresAt: CoreDate.utc().add({ hours: 1 }),
    maxNumberOfAllocations: 1,
  });
  const reference = template.toRelationshipTemplateReference(platform.baseUrl);
  const peerTemplate = await b.relationshipTemplates.loadPeerRelationshipTemplateByReference(reference);
  const sent = await b.relationships.sendRelationship({ template: peerTemplate, creationContent: JSONWrapper.from({ value: { hi: 'b' } }) });
  expect(sent.status).toBe('Pending');

  const changesA = await a.syncEverything();
  expect(changesA.relationships).toHaveLength(1);
  const relId = changesA.relationships[0].id;
  await a.relationships.accept(relId);
  const changesB = await b.syncEverything();
  expect(changesB.relationships[0].status).toBe('Active');

  const msg = await b.messages.sendMessage({ recipients: [a.identity.address], content: JSONWrapper.from({ value: { text: 'hello a' } }) });
  const inbox = await a.syncEverything();
  expect(inbox.messages.map((m) => m.id.toString())).toContain(msg.id.toString());
  const received = await a.messages.getMessage(msg.id);
  expect((received!.content as JSONWrapper).value).toEqual({ value: { text: 'hello a' } });

  const file = await a.files.sendFile({
    buffer: CoreBuffer.fromUtf8('file content ' + 'x'.repeat(5000)),
    filename: 'hello.txt',
    mimetype: 'text/plain',
    expiresAt: CoreDate.utc().add({ hours: 1 }),
  });
  const fileRef = file.toFileReference(platform.baseUrl);
  const peerFile = await b.files.getOrLoadFileByReference(fileRef);
  const content = await b.files.downloadFileContent(peerFile);
  expect(content.toUtf8()).toBe('file content ' + 'x'.repeat(5000));

  const token = await a.tokens.sendToken({ content: JSONWrapper.from({ value: { t: 1 } }), expiresAt: CoreDate.utc().add({ hours: 1 }), ephemeral: false });
  const peerToken = await b.tokens.loadPeerTokenByReference(token.toTokenReference(platform.baseUrl), true);
  expect((peerToken.content as JSONWrapper).value).toEqual({ value: { t: 1 } });

  await a.relationships.terminate(relId);
  await b.syncEverything();
  await b.relationships.decompose(relId);
  await a.syncEverything();
}, 60000);

it('reference client with the datawallet enabled: pushes and pulls modifications', async () => {
  const eventBus = new EventEmitter2EventBus(() => undefined);
  const transport = await new Transport(
    { baseUrl: platform.baseUrl, platformClientId: 'test', platformClientSecret: 'test', supportedIdentityVersion: 1, datawalletEnabled: true },
    eventBus,
  ).init();
  const seen: string[] = [];
  platform.setFaults(({ method, path }) => {
    seen.push(`${method} ${path}`);
    return undefined;
  });
  const a = await newAccount(transport, 'dw-a');
  const b = await newAccount(transport, 'dw-b');
  const template = await a.relationshipTemplates.sendRelationshipTemplate({
    content: JSONWrapper.from({ x: 1 }),
    expiresAt: CoreDate.utc().add({ hours: 1 }),
  });
  await b.relationshipTemplates.loadPeerRelationshipTemplateByReference(template.toRelationshipTemplateReference(platform.baseUrl));
  await a.syncEverything();
  await b.syncEverything();
  await a.syncDatawallet();
  platform.setFaults(undefined);
  // the client pushed its local changes (a 400 from the localIndex check would have thrown)
  expect(seen.filter((x) => x === 'POST /api/v2/Datawallet/Modifications').length).toBeGreaterThan(0);
  expect(seen).toContain('GET /api/v2/Datawallet/Modifications');
}, 60000);
