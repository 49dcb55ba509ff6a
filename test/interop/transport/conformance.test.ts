/**
 * Conformance of the local Platform with the reference client: real, unmodified @nmshd/transport 7.0.0
 * accounts (see ./harness.ts) drive the Platform started in-process, the way the apps drive a real Backbone.
 *
 * The steps build on each other (identities → template → relationship → messages …) and run in order. Each
 * step also checks that transport logged no error (a failed external event, say, is only logged by the
 * client), and a failing step carries the last HTTP exchanges transport logged.
 *
 * Run against another Backbone: TRANSPORT_INTEROP_BASE_URL, TRANSPORT_INTEROP_CLIENT_ID and
 * TRANSPORT_INTEROP_CLIENT_SECRET (no local Platform is started then). TRANSPORT_HARNESS_LOG=1 prints
 * transport's log.
 */
import { TokenContentRelationshipTemplate, TokenReference } from '@nmshd/transport';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import {
  ArbitraryMessageContent,
  ArbitraryRelationshipCreationContent,
  ArbitraryRelationshipTemplateContent,
  checkBackboneCompatibility,
  closeAll,
  createTransportAccount,
  Mail,
  RelationshipStatus,
  type File,
  type Message,
  type Relationship,
  type RelationshipTemplate,
  type SharedToken,
  type TransportAccount,
  type TransportAccountOptions,
  step,
} from './harness';

const externalBaseUrl = process.env.TRANSPORT_INTEROP_BASE_URL;
let platform: PlatformHandle | undefined;
let connection: TransportAccountOptions;

let a: TransportAccount;
let b: TransportAccount;
let template: RelationshipTemplate;
let templateToken: SharedToken;
let templateSeenByB: RelationshipTemplate;
let relationshipAB: Relationship;
let fileFromA: File;

const NOT_FOUND = { code: 'error.platform.recordNotFound', status: 404 };
const NOT_FOR_YOU = { code: 'error.transport.general.notIntendedForYou' };
const ADDRESS = /^did:e:((?:[a-z0-9-]+\.)*[a-z]{2,}):dids:[0-9a-f]{22}$/;

const bytes = (n: number): Buffer => randomBytes(n);
const idsOf = (items: { id: { toString(): string } }[]): string[] => items.map((i) => i.id.toString());

beforeAll(async () => {
  if (externalBaseUrl) {
    connection = {
      baseUrl: externalBaseUrl,
      clientId: process.env.TRANSPORT_INTEROP_CLIENT_ID ?? 'test',
      clientSecret: process.env.TRANSPORT_INTEROP_CLIENT_SECRET ?? 'test',
    };
  } else {
    platform = await startPlatform({ port: 0 });
    connection = { baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
  }
});

afterAll(async () => {
  await closeAll();
  await platform?.close();
});

describe('@nmshd/transport 7.0.0 against the Platform', () => {
  step('GET Version: transport considers the Backbone compatible', async () => {
    const compatibility = await checkBackboneCompatibility(connection);
    expect(compatibility.isCompatible).toBe(true);
    expect(Number(compatibility.backboneVersion)).toBeGreaterThanOrEqual(6);
  });

  step('creates identities A and B (challenge, identity, token, datawallet upgrade, first sync)', async () => {
    [a, b] = await Promise.all([
      createTransportAccount({ ...connection, name: 'A' }),
      createTransportAccount({ ...connection, name: 'B' }),
    ]);
    expect(a.address).toMatch(ADDRESS);
    expect(b.address).toMatch(ADDRESS);
    expect(a.address).not.toBe(b.address);
    expect(a.address.split(':')[2]).toBe(new URL(connection.baseUrl).hostname);
    expect(a.deviceId).toMatch(/^DVC[A-Za-z0-9]{17}$/);
    // Login, device and identity routes with the fresh credentials.
    const info = await a.controller.devices.get(a.controller.activeDevice.id);
    expect(info?.id.toString()).toBe(a.deviceId);
    const deleted = await a.controller.identity.checkIfIdentityIsDeleted();
    expect(deleted.isSuccess && deleted.value.isDeleted).toBe(false);
    // Nothing happened yet: an empty sync.
    const changes = await a.sync();
    expect(changes.relationships).toHaveLength(0);
    expect(changes.messages).toHaveLength(0);
  });

  step('A creates a relationship template and a token for it', async () => {
    template = await a.createTemplate({ content: { greeting: 'hello from A', n: 1 }, maxNumberOfAllocations: 1 });
    expect(template.id.toString()).toMatch(/^RLT[A-Za-z0-9]{17}$/);
    expect(template.isOwn).toBe(true);
    templateToken = await a.createTemplateToken(template);
    expect(templateToken.token.id.toString()).toMatch(/^TOK[A-Za-z0-9]{17}$/);
    expect(templateToken.url).toContain(`${connection.baseUrl}/r/${templateToken.token.id.toString()}#`);
    // A's own token and template are found locally and through the Backbone.
    const ownTemplates = await a.controller.relationshipTemplates.getRelationshipTemplates();
    expect(idsOf(ownTemplates)).toContain(template.id.toString());
  });

  step('B loads the template by token (truncated reference and URL)', async () => {
    templateSeenByB = await b.loadTemplateByToken(templateToken.truncated);
    expect(templateSeenByB.id.equals(template.id)).toBe(true);
    expect(templateSeenByB.isOwn).toBe(false);
    expect(templateSeenByB.createdBy.toString()).toBe(a.address);
    expect(templateSeenByB.content).toBeInstanceOf(ArbitraryRelationshipTemplateContent);
    expect((templateSeenByB.content as ArbitraryRelationshipTemplateContent).value).toEqual({ greeting: 'hello from A', n: 1 });
    expect(templateSeenByB.maxNumberOfAllocations).toBe(1);
    // The URL form of the same token reference works too (the Backbone hands the token out again).
    const again = await b.loadTemplateByToken(templateToken.url);
    expect(again.id.equals(template.id)).toBe(true);
  });

  step('B loads another template by its own truncated reference (no token) and by URL', async () => {
    // A template B has not seen yet: transport answers known templates from its local database.
    const second = await a.createTemplate({ content: { second: true } });
    const { truncated, url } = a.templateReference(second);
    const byReference = await b.loadTemplateByReference(truncated);
    expect(byReference.id.equals(second.id)).toBe(true);
    expect(byReference.createdBy.toString()).toBe(a.address);
    expect(byReference.templateKey.publicKey.toBase64URL()).toBe(second.templateKey.publicKey.toBase64URL());
    expect((byReference.content as ArbitraryRelationshipTemplateContent).value).toEqual({ second: true });
    const third = await a.createTemplate({ content: { third: true } });
    const byUrl = await b.loadTemplateByReference(a.templateReference(third).url);
    expect(byUrl.id.equals(third.id)).toBe(true);
    expect(url).toContain(`${connection.baseUrl}/r/${second.id.toString()}#`);
  });

  step('B sends a relationship request; A syncs, sees it Pending and accepts; B syncs and sees it Active', async () => {
    const canCreate = await b.controller.relationships.canSendRelationship({
      template: templateSeenByB,
      creationContent: ArbitraryRelationshipCreationContent.from({ value: { from: 'B' } }),
    });
    expect(canCreate.isSuccess).toBe(true);
    const pendingAtB = await b.requestRelationship(templateSeenByB, { from: 'B', hello: 'A' });
    expect(pendingAtB.status).toBe(RelationshipStatus.Pending);
    expect(pendingAtB.peer.address.toString()).toBe(a.address);

    const atA = await a.syncUntil((c) => c.relationships.length > 0);
    expect(atA.relationships).toHaveLength(1);
    const pendingAtA = atA.relationships[0];
    expect(pendingAtA.id.equals(pendingAtB.id)).toBe(true);
    expect(pendingAtA.status).toBe(RelationshipStatus.Pending);
    expect(pendingAtA.peer.address.toString()).toBe(b.address);
    expect(pendingAtA.creationContent).toBeInstanceOf(ArbitraryRelationshipCreationContent);
    expect((pendingAtA.creationContent as ArbitraryRelationshipCreationContent).value).toEqual({ from: 'B', hello: 'A' });
    // The template had one allocation, taken by B.
    expect(a.eventsOf('transport.relationshipTemplateAllocationsExhausted')).toHaveLength(1);

    const activeAtA = await a.accept(pendingAtA);
    expect(activeAtA.status).toBe(RelationshipStatus.Active);
    // The party that caused a change gets no event for it.
    expect((await a.sync()).relationships).toHaveLength(0);

    const atB = await b.syncUntil((c) => c.relationships.some((r) => r.status === RelationshipStatus.Active));
    relationshipAB = atB.relationships.find((r) => r.status === RelationshipStatus.Active)!;
    expect(relationshipAB.id.equals(pendingAtB.id)).toBe(true);
    expect(relationshipAB.auditLog.map((e) => e.reason)).toEqual(['Creation', 'AcceptanceOfCreation']);
    expect((await b.sync()).relationships).toHaveLength(0);
    expect((await b.relationshipTo(a))?.status).toBe(RelationshipStatus.Active);
    expect((await a.relationshipTo(b))?.status).toBe(RelationshipStatus.Active);
    expect(b.eventsOf('transport.relationshipChanged').length).toBeGreaterThanOrEqual(1);
    expect(a.eventsOf('transport.relationshipChanged').length).toBeGreaterThanOrEqual(2);
  });

  step('the exhausted template cannot be used by a third identity', async () => {
    const c = await createTransportAccount({ ...connection, name: 'C-exhausted' });
    await expect(c.loadTemplateByToken(templateToken.truncated)).rejects.toMatchObject({
      code: 'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted',
    });
    await c.close();
  });

  step('A → B: a Mail with one attachment; B syncs, reads it and downloads the attachment', async () => {
    const attachment = bytes(50_000);
    const sent = await a.sendMail(b, {
      subject: 'Hello B',
      body: 'First message, with a file.',
      attachments: [{ filename: 'a-to-b.bin', bytes: attachment, mimetype: 'application/octet-stream' }],
    });
    expect(sent.isOwn).toBe(true);
    expect(sent.attachments).toHaveLength(1);
    expect(a.eventsOf('transport.messageSent')).toHaveLength(1);

    const atB = await b.syncUntil((c) => c.messages.length > 0);
    expect(atB.messages).toHaveLength(1);
    const received = atB.messages[0];
    expect(received.id.equals(sent.id)).toBe(true);
    expect(received.isOwn).toBe(false);
    expect(received.createdBy.toString()).toBe(a.address);
    expect(received.content).toBeInstanceOf(Mail);
    const mail = received.content as Mail;
    expect(mail.subject).toBe('Hello B');
    expect(mail.body).toBe('First message, with a file.');
    expect(mail.to.map((x) => x.toString())).toEqual([b.address]);
    expect(received.recipients.map((r) => r.address.toString())).toEqual([b.address]);
    expect(received.attachments).toHaveLength(1);

    const file = await b.getFile(received.attachments[0]);
    expect(file?.filename).toBe('a-to-b.bin');
    expect(file?.filesize).toBe(attachment.length);
    expect(file?.isOwn).toBe(false);
    expect((await b.downloadFile(received.attachments[0])).equals(attachment)).toBe(true);
    expect(b.eventsOf('transport.messageReceived')).toHaveLength(1);
    expect((await b.receivedMessages()).map((m) => m.id.toString())).toEqual([sent.id.toString()]);
  });

  step('B → A: ArbitraryMessageContent with one attachment; A syncs, reads it and downloads the attachment', async () => {
    const attachment = bytes(1234);
    const file = await b.uploadFile(attachment, { filename: 'b-to-a.txt', mimetype: 'text/plain', title: 'reply' });
    const sent = await b.sendMessage(a, { reply: true, items: [1, 2, 3] }, [file]);

    const atA = await a.syncUntil((c) => c.messages.length > 0);
    const received = atA.messages.find((m) => m.id.equals(sent.id)) as Message;
    expect(received).toBeDefined();
    expect(received.content).toBeInstanceOf(ArbitraryMessageContent);
    expect((received.content as ArbitraryMessageContent).value).toEqual({ reply: true, items: [1, 2, 3] });
    expect(received.attachments.map((id) => id.toString())).toEqual([file.id.toString()]);
    const fileAtA = await a.getFile(file.id);
    expect(fileAtA?.title).toBe('reply');
    expect(fileAtA?.mimetype).toBe('text/plain');
    expect((await a.downloadFile(file.id)).equals(attachment)).toBe(true);
    expect(a.eventsOf('transport.messageReceived')).toHaveLength(1);
  });

  step('sender view after delivery: recipients are marked as received', async () => {
    // B fetched the message while syncing; A reloads its own copy from the Backbone.
    const [own] = (await a.controller.messages.getMessages({ isOwn: true })) as Message[];
    const [updated] = await a.controller.messages.updateBackboneData([own.id.toString()]);
    expect(updated.recipients[0].receivedAt).toBeDefined();
    expect(updated.recipients[0].receivedByDevice?.toString()).toBe(b.deviceId);
  });

  step('files: upload, own download, peer download through a file token, and a password-protected file token', async () => {
    const content = bytes(300_000);
    fileFromA = await a.uploadFile(content, { filename: 'report.pdf', mimetype: 'application/pdf', description: 'interop', tags: ['x'] });
    expect(fileFromA.id.toString()).toMatch(/^FIL[A-Za-z0-9]{17}$/);
    expect(fileFromA.ownershipToken).toBeDefined();
    expect((await a.downloadFile(fileFromA)).equals(content)).toBe(true);

    const shared = await a.createFileToken(fileFromA);
    const atB = await b.loadFileByToken(shared.truncated);
    expect(atB.id.equals(fileFromA.id)).toBe(true);
    expect(atB.filename).toBe('report.pdf');
    expect(atB.owner.toString()).toBe(a.address);
    expect((await b.downloadFile(atB)).equals(content)).toBe(true);

    const protectedToken = await a.createFileToken(fileFromA, { password: 'correct horse' });
    expect(protectedToken.reference.passwordProtection?.passwordType).toBe('pw');
    const c = await createTransportAccount({ ...connection, name: 'C-files' });
    // A wrong password is a 404 on GET Tokens/{id}?password=…
    await expect(c.loadFileByToken(protectedToken.truncated, 'wrong password')).rejects.toMatchObject(NOT_FOUND);
    const atC = await c.loadFileByToken(protectedToken.truncated, 'correct horse');
    expect((await c.downloadFile(atC)).equals(content)).toBe(true);
    await c.close();
  });

  step('file ownership: validate the token, B claims the file, A is notified on sync', async () => {
    const token = fileFromA.ownershipToken!;
    expect((await b.controller.files.validateFileOwnershipToken(fileFromA.id, token)).isValid).toBe(true);
    const claimed = await b.controller.files.claimFileOwnership(fileFromA.id, token);
    expect(claimed.ownershipToken).toBeDefined();
    await a.syncUntil(() => a.eventsOf('transport.fileOwnershipClaimed').length > 0);
    expect(a.eventsOf('transport.fileOwnershipClaimed')).toHaveLength(1);
  });

  step('password-protected template and token (pin): C loads with the PIN, requests; A rejects; C sees Rejected', async () => {
    const pinned = await a.createTemplate({ content: { kind: 'pin' }, password: '4711', passwordIsPin: true, maxNumberOfAllocations: 2 });
    const token = await a.createTemplateToken(pinned);
    expect(token.reference.passwordProtection?.passwordType).toBe('pin4');
    const [c, e] = await Promise.all([
      createTransportAccount({ ...connection, name: 'C-pin' }),
      createTransportAccount({ ...connection, name: 'E-pin' }),
    ]);
    await expect(c.loadTemplateByToken(token.truncated, '0000')).rejects.toMatchObject(NOT_FOUND);
    const atC = await c.loadTemplateByToken(token.truncated, '4711');
    expect(atC.id.equals(pinned.id)).toBe(true);
    expect(atC.passwordProtection?.passwordType).toBe('pin4');
    // Directly by the template's own reference: GET RelationshipTemplates/{id}?password=…
    const reference = a.templateReference(pinned).truncated;
    await expect(e.loadTemplateByReference(reference)).rejects.toMatchObject({ code: 'error.transport.noPasswordProvided' });
    await expect(e.loadTemplateByReference(reference, '1234')).rejects.toMatchObject(NOT_FOUND);
    const direct = await e.loadTemplateByReference(reference, '4711');
    expect(direct.id.equals(pinned.id)).toBe(true);
    await e.close();

    const pending = await c.requestRelationship(atC, { from: 'C' });
    const atA = await a.syncUntil((ch) => ch.relationships.some((r) => r.id.equals(pending.id)));
    expect(atA.relationships.find((r) => r.id.equals(pending.id))?.status).toBe(RelationshipStatus.Pending);
    expect((await a.reject(pending)).status).toBe(RelationshipStatus.Rejected);
    const atC2 = await c.syncUntil((ch) => ch.relationships.some((r) => r.status === RelationshipStatus.Rejected));
    expect(atC2.relationships[0].id.equals(pending.id)).toBe(true);
    await c.close();
  });

  step('personalized template (forIdentity): only D can load it; D requests and revokes; A sees Revoked', async () => {
    const d = await createTransportAccount({ ...connection, name: 'D' });
    const personal = await a.createTemplate({ content: { kind: 'personal' }, forIdentity: d.address });
    const token = await a.createTemplateToken(personal);
    expect(token.reference.forIdentityTruncated).toBe(d.address.slice(-4));
    // Not for B: transport refuses locally (the references carry the address suffix) …
    await expect(b.loadTemplateByToken(token.truncated)).rejects.toMatchObject(NOT_FOR_YOU);
    await expect(b.loadTemplateByReference(a.templateReference(personal).truncated)).rejects.toMatchObject(NOT_FOR_YOU);
    // … and the Backbone answers 404 when asked without that hint (token and template).
    const bare = TokenReference.from({ id: token.token.id, key: token.token.secretKey, backboneBaseUrl: connection.baseUrl });
    await expect(b.loadToken(bare, { ephemeral: true })).rejects.toMatchObject(NOT_FOUND);
    await expect(
      b.controller.relationshipTemplates.loadPeerRelationshipTemplateByTokenContent(
        TokenContentRelationshipTemplate.from({ templateId: personal.id, secretKey: personal.secretKey }),
      ),
    ).rejects.toMatchObject(NOT_FOUND);

    const atD = await d.loadTemplateByToken(token.truncated);
    expect(atD.forIdentity?.toString()).toBe(d.address);
    const pending = await d.requestRelationship(atD);
    const revoked = await d.revoke(pending);
    expect(revoked.status).toBe(RelationshipStatus.Revoked);
    const atA = await a.syncUntil((ch) => ch.relationships.some((r) => r.id.equals(pending.id) && r.status === RelationshipStatus.Revoked));
    expect(atA.relationships.some((r) => r.id.equals(pending.id))).toBe(true);
    await d.close();
  });

  step('terminate and reactivate: A terminates, B sees Terminated, B asks for reactivation, A accepts', async () => {
    expect((await a.terminate(relationshipAB)).status).toBe(RelationshipStatus.Terminated);
    await b.syncUntil((ch) => ch.relationships.some((r) => r.status === RelationshipStatus.Terminated));
    expect((await b.relationshipTo(a))?.status).toBe(RelationshipStatus.Terminated);

    // A message on a terminated relationship is accepted but held back until the relationship is active again.
    const held = await a.sendMail(b, { subject: 'while terminated', body: 'held back' });
    const meanwhile = await b.sync();
    expect(meanwhile.messages).toHaveLength(0);

    await b.requestReactivation(relationshipAB);
    await a.syncUntil(() => a.eventsOf('transport.relationshipReactivationRequested').length > 0);
    expect((await a.acceptReactivation(relationshipAB)).status).toBe(RelationshipStatus.Active);
    const afterReactivation = await b.syncUntil(
      (ch) => b.eventsOf('transport.relationshipReactivationCompleted').length > 0 && ch.messages.some((m) => m.id.equals(held.id)),
    );
    expect((afterReactivation.messages.find((m) => m.id.equals(held.id))?.content as Mail).subject).toBe('while terminated');
    const atB = await b.relationshipTo(a);
    expect(atB?.status).toBe(RelationshipStatus.Active);
    expect(atB?.auditLog.map((e) => e.reason)).toEqual([
      'Creation',
      'AcceptanceOfCreation',
      'Termination',
      'ReactivationRequested',
      'AcceptanceOfReactivation',
    ]);
  });

  step('a second device of A is onboarded from the datawallet and sees the relationship and messages', async () => {
    const a2 = await a.onboardNewDevice('A-device2');
    expect(a2.address).toBe(a.address);
    expect(a2.deviceId).not.toBe(a.deviceId);
    await a2.sync();
    expect((await a2.relationshipTo(b))?.status).toBe(RelationshipStatus.Active);
    const messages = (await a2.controller.messages.getMessages()) as Message[];
    expect(messages.length).toBeGreaterThanOrEqual(2);
    // A message sent from the second device arrives at B.
    const sent = await a2.sendMail(b, { subject: 'from device 2', body: 'hi' });
    const atB = await b.syncUntil((ch) => ch.messages.some((m) => m.id.equals(sent.id)));
    const received = atB.messages.find((m) => m.id.equals(sent.id))!;
    expect(received.createdByDevice.toString()).toBe(a2.deviceId);
    // The first device learns about it through the datawallet.
    await a.sync();
    expect(await a.getMessage(sent.id)).toBeDefined();
    await a2.close();
  });

  step('decomposition: A terminates and decomposes, B sees DeletionProposed', async () => {
    await a.terminate(relationshipAB);
    await b.syncUntil((ch) => ch.relationships.some((r) => r.status === RelationshipStatus.Terminated));
    await a.decompose(relationshipAB);
    expect(await a.relationshipTo(b)).toBeUndefined();
    await b.syncUntil((ch) => ch.relationships.some((r) => r.status === RelationshipStatus.DeletionProposed));
    expect((await b.relationshipTo(a))?.status).toBe(RelationshipStatus.DeletionProposed);
    await b.decompose(relationshipAB);
    expect(await b.relationshipTo(a)).toBeUndefined();
  });
});

/** What transport logs at error level on a 401 (the stale token and its expiry) before it logs in again. */
const RELOGIN_LOG = [/401 Authorization Error: +error\.platform\.unauthorized \(401\).*POST \/api\/v2\/SyncRuns/, /Current token is/, /Expiry is/];

// Needs the local Platform's clock; skipped against another Backbone.
const localOnly = externalBaseUrl ? describe.skip : describe;
localOnly('@nmshd/transport 7.0.0 against the Platform: time-dependent behaviour', () => {
  step('after 11 minutes: expired tokens are gone for others, sessions are renewed after a 401', async () => {
    const shortLived = await a.createTemplate({ content: { short: true }, expiresInMs: 60 * 60_000 });
    const token = await a.createTemplateToken(shortLived, { expiresInMs: 5 * 60_000 });
    platform!.advanceClock(11 * 60_000);
    // A's access token (300 s) has expired on the Platform's clock but not on transport's: the next request
    // gets a bare 401, transport logs in again and retries.
    const changes = await a.sync();
    expect(changes.relationships).toHaveLength(0);
    const f = await createTransportAccount({ ...connection, name: 'F-late' });
    await expect(f.loadTemplateByToken(token.truncated)).rejects.toMatchObject(NOT_FOUND);
    // The template itself lives for an hour.
    const byReference = await f.loadTemplateByReference(a.templateReference(shortLived).truncated);
    expect(byReference.id.equals(shortLived.id)).toBe(true);
    await f.close();
  }, { expectedErrors: RELOGIN_LOG });
});
