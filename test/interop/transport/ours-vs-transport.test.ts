/**
 * Our participants (lib/protocol) against real, unmodified @nmshd/transport 7.0.0 accounts (./harness.ts),
 * through the local Platform, in both directions:
 *
 *   rel1: OUR template  ← transport (T1) requests, we accept
 *   rel2: THEIR template (T2) ← we request, transport accepts
 *   reject and terminate in both directions (T3..T6), Mails with two attachments (> 5 MiB, non-Latin name)
 *   both ways on both relationships, the counters of the message-key wraps (theirs: always 0; ours: distinct,
 *   ≥ 1), and files shared through file references and file tokens.
 * Then what the reference client does differently and a restart of our side must survive: password-protected
 * and personalized templates, empty and step-boundary files, a fresh process of our participant (nothing
 * cached: registry and counters come from the datawallet), termination and reactivation, several recipients,
 * and transport 7.0.0's reference format with a cleartext password.
 *
 * The steps build on each other and run in order. Each step fails when transport logged an error (transport
 * only logs a failed external event, say), and a failing step carries transport's last HTTP exchanges.
 */
import { CoreId, FileReference as TransportFileReference, SharedPasswordProtection } from '@nmshd/core-types';
import { CoreBuffer, CryptoEncryption } from '@nmshd/crypto';
import { TokenReference } from '@nmshd/transport';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import {
  acceptRelationship,
  buildMail,
  changeRelationship,
  createTemplate,
  createTemplateToken,
  createToken,
  downloadFile,
  getFile,
  getMessage,
  getRelationship,
  listRelationships,
  loadTemplate,
  parseReference,
  readToken,
  requestRelationship,
  sendMessage,
  sync,
  truncateReference,
  uploadFile,
  type CreatedTemplate,
  type FileReference,
  type LoadedTemplate,
  type Participant,
  type StoredFile,
} from '../../../lib/protocol';
import { parseSecretKey, secretKeyToJson } from '../../../lib/crypto';
import { cryptoJson } from '../../../lib/protocol/serialize';
import { openParticipant } from '../../../lib/protocol/participant';
import type { ParticipantCredential } from '../../../lib/protocol/participant';
import { inOneDay, newParticipant } from '../../helpers/participants';
import {
  ArbitraryMessageContent,
  ArbitraryRelationshipCreationContent,
  ArbitraryRelationshipTemplateContent,
  closeAll,
  createTransportAccount,
  Mail,
  RelationshipStatus,
  type Message,
  type Relationship,
  type TransportAccount,
  type TransportAccountOptions,
  step,
} from './harness';

let platform: PlatformHandle;
let connection: TransportAccountOptions;

/** Our participant: templator of rel1, requestor of rel2 (and of the extra relationships of step 3). */
let ours: Participant & { credential: ParticipantCredential };
/** T1 requests our template (rel1); T2 offers its template to us (rel2). */
let t1: TransportAccount;
let t2: TransportAccount;
let ourTemplate: CreatedTemplate;
let ourTemplateToken: Awaited<ReturnType<typeof createTemplateToken>>;
let rel1: string;
let rel2: string;
/** The highest transmit counter we used per relationship (step 6), to check a restart never goes back. */
const highestOurCounter = new Map<string, number>();

const MiB = 1024 * 1024;
const NON_LATIN_NAME = 'Prüfbericht_检验.txt';

/** The `cnt` of an encryptedKey as the Platform stores it (base64url of the cipher JSON). */
function counterOf(encryptedKey: string): unknown {
  const cipher = JSON.parse(Buffer.from(encryptedKey, 'base64url').toString('utf8')) as { cnt?: unknown; nnc?: unknown };
  expect(cipher.nnc).toBeUndefined();
  return cipher.cnt;
}

/** Our template, loaded by a transport account by the template's own truncated reference, and requested. */
async function transportRequestsOurTemplate(peer: TransportAccount, template: CreatedTemplate, value: unknown): Promise<Relationship> {
  const seen = await peer.loadTemplateByReference(template.truncatedReference);
  return peer.requestRelationship(seen, value);
}

/** A transport template, loaded and requested by us. */
async function weRequestTheirTemplate(peer: TransportAccount, value: unknown): Promise<{ loaded: LoadedTemplate; requestId: string }> {
  const template = await peer.createTemplate({ content: value });
  const loaded = await loadTemplate(ours, peer.templateReference(template).truncated);
  const request = await requestRelationship(ours, loaded, { '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'ours' } });
  return { loaded, requestId: request.id };
}

beforeAll(async () => {
  platform = await startPlatform({});
  connection = { baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
  [ours, t1, t2] = await Promise.all([
    newParticipant(platform.baseUrl),
    createTransportAccount({ ...connection, name: 'T1' }),
    createTransportAccount({ ...connection, name: 'T2' }),
  ]);
});

afterAll(async () => {
  await closeAll();
  await platform?.close();
});

describe('our templates, their requests (rel1)', () => {
  step('we create a template and a token; transport loads it by token (truncated and URL) and by truncated reference', async () => {
    ourTemplate = await createTemplate(ours, {
      content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { greeting: 'from ours', umlaut: 'Grüße' } },
      expiresAt: inOneDay(),
    });
    const token = (ourTemplateToken = await createTemplateToken(ours, ourTemplate));

    const byToken = await t1.loadTemplateByToken(token.truncatedReference);
    expect(byToken.id.toString()).toBe(ourTemplate.id);
    expect(byToken.isOwn).toBe(false);
    expect(byToken.createdBy.toString()).toBe(ours.address);
    expect(byToken.content).toBeInstanceOf(ArbitraryRelationshipTemplateContent);
    expect((byToken.content as ArbitraryRelationshipTemplateContent).value).toEqual({ greeting: 'from ours', umlaut: 'Grüße' });
    expect(byToken.expiresAt?.toISOString()).toBe(new Date(ourTemplate.expiresAt).toISOString());

    // Transport answers templates it knows from its own database: ask with a fresh account too.
    const t1ByUrl = await t1.loadTemplateByToken(token.url);
    expect(t1ByUrl.id.toString()).toBe(ourTemplate.id);
    const fresh = await createTransportAccount({ ...connection, name: 'T1-fresh' });
    const byReference = await fresh.loadTemplateByReference(ourTemplate.truncatedReference);
    expect(byReference.id.toString()).toBe(ourTemplate.id);
    expect(byReference.templateKey.publicKey.toBase64URL()).toBe(byToken.templateKey.publicKey.toBase64URL());
    const byTemplateUrl = await fresh.loadTemplateByReference(ourTemplate.url);
    expect(byTemplateUrl.id.toString()).toBe(ourTemplate.id);
    await fresh.close();
  });

  step('transport requests; we sync, see it Pending with their creation content, accept; transport sees Active', async () => {
    const seen = await t1.loadTemplateByToken(ourTemplateToken.truncatedReference);
    const pendingAtT1 = await t1.requestRelationship(seen, { from: 'T1', text: 'Hallo — 你好' });
    expect(pendingAtT1.status).toBe(RelationshipStatus.Pending);
    rel1 = pendingAtT1.id.toString();

    const synced = await sync(ours);
    expect(synced.newRelationships).toContain(rel1);
    expect(synced.events.map((e) => e.relationshipId)).toContain(rel1);
    const pending = await getRelationship(ours, rel1);
    expect(pending).toMatchObject({ role: 'templator', peer: t1.address, status: 'Pending', templateId: ourTemplate.id });
    expect(pending.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'T1', text: 'Hallo — 你好' } });
    expect(pending.peerIdentity?.address).toBe(t1.address);
    expect(pending.keys).toBeUndefined();

    const accepted = await acceptRelationship(ours, rel1);
    expect(accepted.status).toBe('Active');
    expect(accepted.keys).toBeDefined();

    const atT1 = await t1.syncUntil((c) => c.relationships.some((r) => r.status === RelationshipStatus.Active));
    const active = atT1.relationships.find((r) => r.status === RelationshipStatus.Active)!;
    expect(active.id.toString()).toBe(rel1);
    expect(active.peer.address.toString()).toBe(ours.address);
    expect(active.auditLog.map((e) => e.reason)).toEqual(['Creation', 'AcceptanceOfCreation']);
    expect((await t1.relationshipTo(ours.address))?.status).toBe(RelationshipStatus.Active);
  });
});

describe('their templates, our requests (rel2)', () => {
  step('transport creates template + token; we load it by truncated token and by template reference, request; transport accepts', async () => {
    const template = await t2.createTemplate({ content: { greeting: 'from T2', n: 2 } });
    const token = await t2.createTemplateToken(template);

    const byToken = await loadTemplate(ours, token.truncated);
    expect(byToken.id).toBe(template.id.toString());
    expect(byToken.createdBy).toBe(t2.address);
    expect(byToken.identity.address).toBe(t2.address);
    expect(byToken.content).toEqual({ '@type': 'ArbitraryRelationshipTemplateContent', value: { greeting: 'from T2', n: 2 } });
    expect(byToken.templateKey.id).toBe(template.templateKey.id.toString());
    const { truncated, url } = t2.templateReference(template);
    const byReference = await loadTemplate(ours, truncated);
    expect(byReference.id).toBe(template.id.toString());
    expect((await loadTemplate(ours, url)).id).toBe(template.id.toString());
    expect((await loadTemplate(ours, token.url)).id).toBe(template.id.toString());

    const request = await requestRelationship(ours, byReference, { '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'ours', n: 2 } });
    expect(request).toMatchObject({ status: 'Pending', role: 'requestor', peer: t2.address });
    rel2 = request.id;

    const atT2 = await t2.syncUntil((c) => c.relationships.length > 0);
    const pending = atT2.relationships.find((r) => r.id.toString() === rel2)!;
    expect(pending.status).toBe(RelationshipStatus.Pending);
    expect(pending.peer.address.toString()).toBe(ours.address);
    expect(pending.creationContent).toBeInstanceOf(ArbitraryRelationshipCreationContent);
    expect((pending.creationContent as ArbitraryRelationshipCreationContent).value).toEqual({ from: 'ours', n: 2 });
    expect((await t2.accept(pending)).status).toBe(RelationshipStatus.Active);
  });

  step('we sync and see it Active, derive keys and verify their acceptance', async () => {
    const synced = await sync(ours);
    expect(synced.events.some((e) => e.type === 'RelationshipStatusChanged' && e.relationshipId === rel2)).toBe(true);
    const active = await getRelationship(ours, rel2);
    expect(active).toMatchObject({ status: 'Active', role: 'requestor', peer: t2.address });
    // deriveKeys (requestor side) decrypts and verifies transport's creation response, which throws otherwise.
    expect(active.keys).toBeDefined();
    expect(active.keys!.transmit.key.key).not.toEqual(active.keys!.receive.key.key);
    expect(active.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'ours', n: 2 } });
    expect(active.peerIdentity?.address).toBe(t2.address);
    const listed = await listRelationships(ours);
    expect(listed.filter((r) => r.status === 'Active').map((r) => r.id).sort()).toEqual([rel1, rel2].sort());
  });
});

describe('reject and terminate, seen by both sides', () => {
  step('we reject a transport request; transport sees Rejected', async () => {
    const t3 = await createTransportAccount({ ...connection, name: 'T3-rejected' });
    const pending = await transportRequestsOurTemplate(t3, ourTemplate, { from: 'T3' });
    const synced = await sync(ours);
    expect(synced.newRelationships).toContain(pending.id.toString());
    expect((await getRelationship(ours, pending.id.toString())).status).toBe('Pending');
    expect((await changeRelationship(ours, pending.id.toString(), 'reject')).status).toBe('Rejected');
    await t3.syncUntil((c) => c.relationships.some((r) => r.id.equals(pending.id) && r.status === RelationshipStatus.Rejected));
    expect((await t3.getRelationship(pending.id))?.status).toBe(RelationshipStatus.Rejected);
    await t3.close();
  });

  step('transport rejects our request; we see Rejected', async () => {
    const t4 = await createTransportAccount({ ...connection, name: 'T4-rejecting' });
    const { requestId } = await weRequestTheirTemplate(t4, { kind: 'to be rejected' });
    const atT4 = await t4.syncUntil((c) => c.relationships.some((r) => r.id.toString() === requestId));
    expect((await t4.reject(atT4.relationships[0])).status).toBe(RelationshipStatus.Rejected);
    const synced = await sync(ours);
    expect(synced.events.some((e) => e.type === 'RelationshipStatusChanged' && e.relationshipId === requestId)).toBe(true);
    const rejected = await getRelationship(ours, requestId);
    expect(rejected.status).toBe('Rejected');
    expect(rejected.keys).toBeUndefined();
    expect(rejected.auditLog.map((e) => e.reason)).toEqual(['Creation', 'RejectionOfCreation']);
    await t4.close();
  });

  step('we terminate an active relationship; transport sees Terminated', async () => {
    const t5 = await createTransportAccount({ ...connection, name: 'T5-terminated' });
    const pending = await transportRequestsOurTemplate(t5, ourTemplate, { from: 'T5' });
    await sync(ours);
    await acceptRelationship(ours, pending.id.toString());
    await t5.syncUntil((c) => c.relationships.some((r) => r.status === RelationshipStatus.Active));
    expect((await changeRelationship(ours, pending.id.toString(), 'terminate')).status).toBe('Terminated');
    await t5.syncUntil((c) => c.relationships.some((r) => r.status === RelationshipStatus.Terminated));
    expect((await t5.relationshipTo(ours.address))?.status).toBe(RelationshipStatus.Terminated);
    await t5.close();
  });

  step('transport terminates; we see Terminated', async () => {
    const t6 = await createTransportAccount({ ...connection, name: 'T6-terminating' });
    const { requestId } = await weRequestTheirTemplate(t6, { kind: 'to be terminated' });
    const atT6 = await t6.syncUntil((c) => c.relationships.some((r) => r.id.toString() === requestId));
    await t6.accept(atT6.relationships[0]);
    expect((await getRelationship(ours, requestId)).status).toBe('Active');
    expect((await t6.terminate(atT6.relationships[0])).status).toBe(RelationshipStatus.Terminated);
    const synced = await sync(ours);
    expect(synced.events.filter((e) => e.relationshipId === requestId).length).toBeGreaterThanOrEqual(2);
    const terminated = await getRelationship(ours, requestId);
    expect(terminated.status).toBe('Terminated');
    expect(terminated.auditLog.map((e) => e.reason)).toEqual(['Creation', 'AcceptanceOfCreation', 'Termination']);
    await t6.close();
  });
});

const big = (): Buffer => randomBytes(Math.floor(5.25 * MiB));
const small = (): Buffer => Buffer.from('Prüfbericht — 检验报告 ✓ Grüße\n', 'utf8');

async function ourMailToTransport(peer: TransportAccount): Promise<void> {
  const [bigBytes, smallBytes] = [big(), small()];
  const f1 = await uploadFile(ours, { content: bigBytes, filename: 'scan.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay(), title: 'Scan' });
  const f2 = await uploadFile(ours, { content: smallBytes, filename: NON_LATIN_NAME, mimetype: 'text/plain', expiresAt: inOneDay() });
  const mail = buildMail({ to: [peer.address], subject: 'Befund 检验', body: 'Anbei zwei Dateien.\nGrüße' });
  const sent = await sendMessage(ours, { recipients: [peer.address], content: mail, attachments: [f1.reference, f2.reference] });

  const changes = await peer.syncUntil((c) => c.messages.some((m) => m.id.toString() === sent.id));
  const received = changes.messages.find((m) => m.id.toString() === sent.id)!;
  expect(received.isOwn).toBe(false);
  expect(received.createdBy.toString()).toBe(ours.address);
  expect(received.content).toBeInstanceOf(Mail);
  const parsed = received.content as Mail;
  expect(parsed.subject).toBe('Befund 检验');
  expect(parsed.body).toBe('Anbei zwei Dateien.\nGrüße');
  expect(parsed.to.map((a) => a.toString())).toEqual([peer.address]);
  expect(received.attachments.map((id) => id.toString())).toEqual([f1.id, f2.id]);

  const file1 = await peer.getFile(f1.id);
  const file2 = await peer.getFile(f2.id);
  expect(file1).toMatchObject({ filename: 'scan.bin', mimetype: 'application/octet-stream', filesize: bigBytes.length, title: 'Scan', isOwn: false });
  expect(file2).toMatchObject({ filename: NON_LATIN_NAME, mimetype: 'text/plain', filesize: smallBytes.length });
  expect(file1?.owner.toString()).toBe(ours.address);
  expect((await peer.downloadFile(f1.id)).equals(bigBytes)).toBe(true);
  expect((await peer.downloadFile(f2.id)).equals(smallBytes)).toBe(true);
}

async function theirMailToUs(peer: TransportAccount, relationshipId: string): Promise<void> {
  const [bigBytes, smallBytes] = [big(), small()];
  const sent = await peer.sendMail(ours.address, {
    subject: 'Antwort 回复',
    body: 'Zwei Anhänge — 两个附件',
    attachments: [
      { filename: 'daten.bin', bytes: bigBytes, mimetype: 'application/x-test' },
      { filename: NON_LATIN_NAME, bytes: smallBytes, mimetype: 'text/plain; charset=utf-8' },
    ],
  });
  const synced = await sync(ours);
  expect(synced.events.filter((e) => e.type === 'MessageReceived').map((e) => e.messageId)).toContain(sent.id.toString());

  const received = await getMessage(ours, sent.id.toString());
  expect(received.isOwn).toBe(false);
  expect(received.createdBy).toBe(peer.address);
  expect(received.relationshipId).toBe(relationshipId);
  expect(received.content).toEqual({ '@type': 'Mail', to: [ours.address], cc: [], subject: 'Antwort 回复', body: 'Zwei Anhänge — 两个附件' });
  expect(received.attachments.map((a) => a.id)).toEqual(sent.attachments.map((id) => id.toString()));
  expect(received.attachments.every((a) => a.backboneBaseUrl === platform.baseUrl)).toBe(true);

  const d1 = await downloadFile(ours, received.attachments[0]);
  const d2 = await downloadFile(ours, received.attachments[1]);
  expect(d1.content.equals(bigBytes)).toBe(true);
  expect(d2.content.equals(smallBytes)).toBe(true);
  expect(d1.file).toMatchObject({ filename: 'daten.bin', mimetype: 'application/x-test', filesize: bigBytes.length, owner: peer.address });
  expect(d2.file).toMatchObject({ filename: NON_LATIN_NAME, mimetype: 'text/plain; charset=utf-8', filesize: smallBytes.length });
  expect(d2.file.filemodified).toEqual(expect.any(String));
}

describe('Mails with two attachments (> 5 MiB, non-Latin file name), both ways on both relationships', () => {
  step('rel1: our Mail → transport (their Mail type, byte-identical files)', () => ourMailToTransport(t1));
  step('rel1: their Mail → us', () => theirMailToUs(t1, rel1));
  step('rel2: our Mail → transport (their Mail type, byte-identical files)', () => ourMailToTransport(t2));
  step('rel2: their Mail → us', () => theirMailToUs(t2, rel2));
});

describe('message-key counters', () => {
  /** The cnt of a relationship's creation response (the acceptance, encrypted with the templator's transmit key). */
  async function creationResponseCounter(relationshipId: string): Promise<unknown> {
    const dto = await ours.client.getRelationship(relationshipId);
    const outer = JSON.parse(Buffer.from(dto.creationResponseContent!, 'base64url').toString('utf8')) as { cipher: { cnt?: unknown; nnc?: unknown } };
    expect(outer.cipher.nnc).toBeUndefined();
    return outer.cipher.cnt;
  }

  async function theirCounters(peer: TransportAccount): Promise<void> {
    const sent: Message[] = [];
    for (let i = 0; i < 4; i++) sent.push(await peer.sendMessage(ours.address, { n: i, text: `Nachricht ${i}` }));
    const counters = [];
    for (const m of sent) {
      const dto = await ours.client.getMessage(m.id.toString());
      expect(dto.recipients).toHaveLength(1);
      counters.push(counterOf(dto.recipients[0].encryptedKey));
    }
    // transport 7.0.0 wraps every message key with counter 0 (spec §4.7); we must read them all anyway.
    expect(counters).toEqual([0, 0, 0, 0]);
    await sync(ours);
    for (const [i, m] of sent.entries()) {
      const received = await getMessage(ours, m.id.toString());
      expect(received.content).toEqual({ '@type': 'ArbitraryMessageContent', value: { n: i, text: `Nachricht ${i}` } });
    }
  }

  async function ourCounters(peer: TransportAccount, relationshipId: string): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await sendMessage(ours, { recipients: [peer.address], content: { '@type': 'ArbitraryMessageContent', value: { i } } });
      ids.push(m.id);
    }
    const counters: number[] = [];
    for (const id of ids) {
      const dto = await ours.client.getMessage(id);
      counters.push(counterOf(dto.recipients[0].encryptedKey) as number);
    }
    expect(new Set(counters).size).toBe(ids.length);
    expect(counters.every((c) => Number.isInteger(c) && c >= 1)).toBe(true);
    highestOurCounter.set(relationshipId, Math.max(...counters));
    // The counter block is durable in the datawallet, in the relationship's entry: beyond every counter used.
    expect(ours.registry.get(relationshipId)?.next).toBeGreaterThan(Math.max(...counters));

    const changes = await peer.syncUntil((c) => ids.every((id) => c.messages.some((m) => m.id.toString() === id)));
    for (const [i, id] of ids.entries()) {
      const m = changes.messages.find((x) => x.id.toString() === id)!;
      expect(m.content).toBeInstanceOf(ArbitraryMessageContent);
      expect((m.content as ArbitraryMessageContent).value).toEqual({ i });
    }
  }

  step('rel1: their messages carry cnt 0 every time and we read them all', () => theirCounters(t1));
  step('rel2: their messages carry cnt 0 every time and we read them all', async () => {
    // T2 accepted rel2: its creation response used the same transmit key with counter 0 as well.
    expect(await creationResponseCounter(rel2)).toBe(0);
    await theirCounters(t2);
  });
  step('rel1: our messages carry distinct counters ≥ 1 and transport reads them all', async () => {
    // We accepted rel1: counter 0 of our transmit key went into the creation response, messages start at 1.
    expect(await creationResponseCounter(rel1)).toBe(0);
    await ourCounters(t1, rel1);
  });
  step('rel2: our messages carry distinct counters ≥ 1 and transport reads them all', () => ourCounters(t2, rel2));
});

describe('files shared outside messages', () => {
  let ourFile: StoredFile;
  const ourBytes = randomBytes(200_000);

  step('our upload → transport loads it by our truncated file reference and downloads it', async () => {
    ourFile = await uploadFile(ours, { content: ourBytes, filename: 'Übersicht_概要.pdf', mimetype: 'application/pdf', expiresAt: inOneDay(), description: 'd', tags: ['x'] });
    const reference = TransportFileReference.from(ourFile.truncatedReference);
    expect(reference.id.toString()).toBe(ourFile.id);
    const atT1 = await t1.controller.files.getOrLoadFileByReference(reference);
    expect(atT1).toMatchObject({ filename: 'Übersicht_概要.pdf', mimetype: 'application/pdf', filesize: ourBytes.length, description: 'd', tags: ['x'] });
    expect((await t1.downloadFile(atT1)).equals(ourBytes)).toBe(true);
    // And by the link form.
    const fresh = await createTransportAccount({ ...connection, name: 'T-files' });
    const byUrl = await fresh.controller.files.getOrLoadFileByReference(TransportFileReference.from(ourFile.url));
    expect((await fresh.downloadFile(byUrl)).equals(ourBytes)).toBe(true);
    await fresh.close();
  });

  step('our upload → a TokenContentFile token of ours → transport loads the file by token and downloads it', async () => {
    const token = await createToken(
      ours,
      { '@type': 'TokenContentFile', fileId: ourFile.id, secretKey: cryptoJson(secretKeyToJson(ourFile.reference.key, false)) },
      { expiresAt: inOneDay() },
    );
    const truncated = truncateReference({ id: token.id, key: token.key, backboneBaseUrl: ours.baseUrl });
    const atT2 = await t2.loadFileByToken(truncated);
    expect(atT2.id.toString()).toBe(ourFile.id);
    expect(atT2.filename).toBe('Übersicht_概要.pdf');
    expect((await t2.downloadFile(atT2)).equals(ourBytes)).toBe(true);
  });

  step('their upload → we download it by their truncated file reference and through their file token', async () => {
    const theirBytes = randomBytes(123_457);
    const file = await t1.uploadFile(theirBytes, { filename: 'Bericht_报告.csv', mimetype: 'text/csv', title: 'T', description: 'from T1' });
    const truncated = file.toFileReference(platform.baseUrl).truncate();
    const reference = parseReference(truncated);
    const byReference = await downloadFile(ours, { id: reference.id, key: reference.key, backboneBaseUrl: reference.backboneBaseUrl ?? '' });
    expect(byReference.content.equals(theirBytes)).toBe(true);
    expect(byReference.file).toMatchObject({ id: file.id.toString(), filename: 'Bericht_报告.csv', mimetype: 'text/csv', title: 'T', description: 'from T1', owner: t1.address });

    const shared = await t1.createFileToken(file);
    const tokenContent = await readToken(ours.client, parseReference(shared.truncated));
    expect(tokenContent['@type']).toBe('TokenContentFile');
    const viaToken: FileReference = { id: tokenContent.fileId as string, key: parseSecretKey(tokenContent.secretKey, 'token secretKey'), backboneBaseUrl: platform.baseUrl };
    expect((await getFile(ours, viaToken)).filename).toBe('Bericht_报告.csv');
    expect((await downloadFile(ours, viaToken)).content.equals(theirBytes)).toBe(true);
  });
});

describe('protected and personalized templates', () => {
  step('their PIN- and password-protected templates: we load them by token and by reference with the password and request', async () => {
    const t7 = await createTransportAccount({ ...connection, name: 'T7-protected' });
    const pinned = await t7.createTemplate({ content: { kind: 'pin' }, password: '4711', passwordIsPin: true });
    const pinToken = await t7.createTemplateToken(pinned);
    expect(parseReference(pinToken.truncated).passwordProtection?.passwordType).toBe('pin4');
    await expect(loadTemplate(ours, pinToken.truncated)).rejects.toMatchObject({ code: 'protocol.template.passwordRequired' });
    await expect(loadTemplate(ours, pinToken.truncated, '0000')).rejects.toMatchObject({ code: 'protocol.token.invalid' });
    expect((await loadTemplate(ours, pinToken.truncated, '4711')).id).toBe(pinned.id.toString());
    expect((await loadTemplate(ours, t7.templateReference(pinned).truncated, '4711')).id).toBe(pinned.id.toString());

    const password = 'geheim ß 秘密';
    const withPassword = await t7.createTemplate({ content: { kind: 'pw' }, password });
    const loaded = await loadTemplate(ours, (await t7.createTemplateToken(withPassword)).url, password);
    expect(loaded.content).toEqual({ '@type': 'ArbitraryRelationshipTemplateContent', value: { kind: 'pw' } });
    const request = await requestRelationship(ours, loaded, { '@type': 'ArbitraryRelationshipCreationContent', value: { protected: true } });
    const atT7 = await t7.syncUntil((c) => c.relationships.some((r) => r.id.toString() === request.id));
    expect((atT7.relationships[0].creationContent as ArbitraryRelationshipCreationContent).value).toEqual({ protected: true });
    await t7.close();
  });

  step('our PIN- and password-protected templates: transport loads them by token and by reference with the password and requests', async () => {
    const [t8, t9] = await Promise.all([
      createTransportAccount({ ...connection, name: 'T8-protected' }),
      createTransportAccount({ ...connection, name: 'T9-protected' }),
    ]);
    const pinned = await createTemplate(ours, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'pin' }, expiresAt: inOneDay(), password: { password: '4711', passwordType: 'pin4' } });
    const pinToken = await createTemplateToken(ours, pinned);
    await expect(t8.loadTemplateByToken(pinToken.truncatedReference, '0000')).rejects.toMatchObject({ code: 'error.platform.recordNotFound' });
    const byToken = await t8.loadTemplateByToken(pinToken.truncatedReference, '4711');
    expect(byToken.passwordProtection?.passwordType).toBe('pin4');
    expect((await t8.loadTemplateByReference(pinned.truncatedReference, '4711')).id.toString()).toBe(pinned.id);

    const password = 'geheim ß 秘密';
    const withPassword = await createTemplate(ours, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'pw' }, expiresAt: inOneDay(), password: { password } });
    const seen = await t9.loadTemplateByToken((await createTemplateToken(ours, withPassword)).url, password);
    const pending = await t9.requestRelationship(seen, { protected: true });
    expect((await sync(ours)).newRelationships).toContain(pending.id.toString());
    expect((await getRelationship(ours, pending.id.toString())).creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { protected: true } });
    await Promise.all([t8.close(), t9.close()]);
  });

  step('personalized templates both ways: only the named identity can load them', async () => {
    const [t10, t11] = await Promise.all([
      createTransportAccount({ ...connection, name: 'T10-personal' }),
      createTransportAccount({ ...connection, name: 'T11-personal' }),
    ]);
    const theirs = await t10.createTemplate({ content: { kind: 'personal' }, forIdentity: ours.address });
    const theirToken = await t10.createTemplateToken(theirs);
    const loaded = await loadTemplate(ours, theirToken.truncated);
    expect(loaded.forIdentity).toBe(ours.address);
    expect((await loadTemplate(ours, t10.templateReference(theirs).truncated)).id).toBe(theirs.id.toString());

    const mine = await createTemplate(ours, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'personal' }, expiresAt: inOneDay(), forIdentity: t11.address });
    const myToken = await createTemplateToken(ours, mine);
    expect((await t11.loadTemplateByToken(myToken.truncatedReference)).forIdentity?.toString()).toBe(t11.address);
    expect((await t11.loadTemplateByReference(mine.url)).id.toString()).toBe(mine.id);
    await expect(t10.loadTemplateByToken(myToken.truncatedReference)).rejects.toMatchObject({ code: 'error.transport.general.notIntendedForYou' });
    await Promise.all([t10.close(), t11.close()]);
  });
});

describe('edge cases and our restart', () => {
  step('empty files and files at the 48 KiB step boundary, both ways', async () => {
    for (const n of [0, 1, 49_151, 49_152, 49_153, 3 * 49_152]) {
      const bytes = randomBytes(n);
      const mine = await uploadFile(ours, { content: bytes, filename: `ours-${n}.bin`, mimetype: 'application/octet-stream', expiresAt: inOneDay() });
      const atT1 = await t1.controller.files.getOrLoadFileByReference(TransportFileReference.from(mine.truncatedReference));
      expect(atT1.filesize).toBe(n);
      expect((await t1.downloadFile(atT1)).equals(bytes)).toBe(true);
      const theirs = await t1.uploadFile(bytes, { filename: `theirs-${n}.bin` });
      const reference = parseReference(theirs.toFileReference(platform.baseUrl).truncate());
      const downloaded = await downloadFile(ours, { id: reference.id, key: reference.key, backboneBaseUrl: platform.baseUrl });
      expect(downloaded.content.equals(bytes)).toBe(true);
      expect(downloaded.file.filesize).toBe(n);
    }
  });

  step('a fresh process of our participant (nothing cached) reads both relationships and messages and never reuses a counter', async () => {
    const again = await openParticipant(ours.credential, { shared: false });
    // Requestor side, before anything refreshed the new instance's datawallet view: the peer and our own
    // creation content come from the registry entry (lib fix: openAsRequestor refreshes on a miss).
    const r2 = await getRelationship(again, rel2);
    expect(r2.keys).toBeDefined();
    expect(r2.peerIdentity?.address).toBe(t2.address);
    expect(r2.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'ours', n: 2 } });
    const r1 = await getRelationship(again, rel1);
    expect(r1.keys).toBeDefined();
    expect(r1.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { from: 'T1', text: 'Hallo — 你好' } });

    // The relationship's entry holds the counter reservation too: a fresh process reads both as one object,
    // beyond every counter used so far.
    await again.store.refresh();
    for (const id of [rel1, rel2]) {
      expect(again.registry.get(id)).toMatchObject({ id });
      expect(again.registry.get(id)?.next).toBeGreaterThan(highestOurCounter.get(id)!);
    }
    for (const [peer, relationshipId] of [[t1, rel1], [t2, rel2]] as const) {
      const sent = await sendMessage(again, { recipients: [peer.address], content: { '@type': 'ArbitraryMessageContent', value: 'after restart' } });
      const counter = counterOf((await again.client.getMessage(sent.id)).recipients[0].encryptedKey) as number;
      expect(counter).toBeGreaterThan(highestOurCounter.get(relationshipId)!);
      const atPeer = await peer.syncUntil((c) => c.messages.some((m) => m.id.toString() === sent.id));
      expect((atPeer.messages.find((m) => m.id.toString() === sent.id)!.content as ArbitraryMessageContent).value).toBe('after restart');
      expect((await getMessage(again, sent.id)).content).toEqual({ '@type': 'ArbitraryMessageContent', value: 'after restart' });
    }
    const fromT1 = await t1.sendMessage(ours.address, { to: 'the restarted process' });
    expect((await getMessage(again, fromT1.id.toString())).relationshipId).toBe(rel1);
  });

  step('several recipients both ways (Platform allowing 3): every recipient verifies its own signature and key', async () => {
    platform.config.maxNumberOfMessageRecipients = 3;
    try {
      // T1 ↔ T2 (transport to transport), so that T1 can write to us and T2 at once.
      const template = await t2.createTemplate({ content: { between: 'transport accounts' } });
      const pending = await t1.requestRelationship(await t1.loadTemplateByReference(t2.templateReference(template).truncated));
      await t2.syncUntil((c) => c.relationships.some((r) => r.id.equals(pending.id)));
      await t2.accept(pending.id);
      await t1.syncUntil((c) => c.relationships.some((r) => r.id.equals(pending.id) && r.status === RelationshipStatus.Active));

      const bytes = randomBytes(10_000);
      const file = await uploadFile(ours, { content: bytes, filename: NON_LATIN_NAME, mimetype: 'text/plain', expiresAt: inOneDay() });
      const mail = buildMail({ to: [t1.address], cc: [t2.address], subject: 'An beide', body: 'x' });
      const sent = await sendMessage(ours, { recipients: [t1.address, t2.address], content: mail, attachments: [file.reference] });
      for (const peer of [t1, t2]) {
        const changes = await peer.syncUntil((c) => c.messages.some((m) => m.id.toString() === sent.id));
        const received = changes.messages.find((m) => m.id.toString() === sent.id)!;
        expect((received.content as Mail).cc?.map((a) => a.toString())).toEqual([t2.address]);
        expect((await peer.downloadFile(received.attachments[0])).equals(bytes)).toBe(true);
      }
      expect((await getMessage(ours, sent.id)).recipients.map((r) => r.address)).toEqual([t1.address, t2.address]);

      const theirs = await t1.sendMail([ours.address, t2.address], { subject: 'Von T1 an beide', body: 'y', attachments: [{ filename: NON_LATIN_NAME, bytes }] });
      const received = await getMessage(ours, theirs.id.toString());
      expect(received.content).toMatchObject({ '@type': 'Mail', subject: 'Von T1 an beide', to: [ours.address, t2.address] });
      expect((await downloadFile(ours, received.attachments[0])).content.equals(bytes)).toBe(true);
    } finally {
      platform.config.maxNumberOfMessageRecipients = 1;
    }
  });

  step('transport terminates rel1, we ask for reactivation, transport accepts; a message held meanwhile arrives', async () => {
    await t1.terminate(rel1);
    await sync(ours);
    expect((await getRelationship(ours, rel1)).status).toBe('Terminated');
    const held = await sendMessage(ours, { recipients: [t1.address], content: { '@type': 'ArbitraryMessageContent', value: 'held back' } });
    await changeRelationship(ours, rel1, 'requestReactivation');
    await t1.syncUntil(() => t1.eventsOf('transport.relationshipReactivationRequested').length > 0);
    expect((await t1.acceptReactivation(rel1)).status).toBe(RelationshipStatus.Active);
    expect((await sync(ours)).events.map((e) => e.type)).toContain('RelationshipReactivationCompleted');
    const active = await getRelationship(ours, rel1);
    expect(active.status).toBe('Active');
    expect(active.auditLog.map((e) => e.reason)).toEqual(['Creation', 'AcceptanceOfCreation', 'Termination', 'ReactivationRequested', 'AcceptanceOfReactivation']);
    const changes = await t1.syncUntil((c) => c.messages.some((m) => m.id.toString() === held.id));
    expect((changes.messages.find((m) => m.id.toString() === held.id)!.content as ArbitraryMessageContent).value).toBe('held back');
    const after = await t1.sendMessage(ours.address, { after: 'reactivation' });
    expect((await getMessage(ours, after.id.toString())).content).toEqual({ '@type': 'ArbitraryMessageContent', value: { after: 'reactivation' } });
  });

  step("transport 7.0.0's reference password part with a cleartext password (\"pw&<salt>&&<password>\") parses like transport's", async () => {
    // What the reference client writes for an EmptyToken (cleartext password, no location indicator).
    const salt = CoreBuffer.from(randomBytes(16));
    const key = await CryptoEncryption.generateKey();
    const id = 'TOKaaaaaaaaaaaaaaaaa';
    for (const passwordLocationIndicator of [undefined, 1]) {
      const theirs = TokenReference.from({ id: CoreId.from(id), key, backboneBaseUrl: platform.baseUrl, passwordProtection: SharedPasswordProtection.from({ passwordType: 'pw', salt, passwordLocationIndicator, password: 'clear' }) });
      const truncated = theirs.truncate();
      const parsed = parseReference(truncated);
      expect(parsed.passwordProtection).toEqual({ passwordType: 'pw', salt: Buffer.from(salt.buffer), ...(passwordLocationIndicator === undefined ? {} : { passwordLocationIndicator }) });
      // Our own truncation of it equals transport's without the cleartext password.
      const withoutPassword = TokenReference.from({ id: CoreId.from(id), key, backboneBaseUrl: platform.baseUrl, passwordProtection: SharedPasswordProtection.from({ passwordType: 'pw', salt, passwordLocationIndicator }) });
      expect(truncateReference(parsed)).toBe(withoutPassword.truncate());
    }
  });
});
