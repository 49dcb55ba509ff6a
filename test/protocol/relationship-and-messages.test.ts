/** Two participants of our own, through the local Platform: the whole protocol. */
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  ProtocolError,
  acceptRelationship,
  buildMail,
  changeRelationship,
  createTemplate,
  createTemplateToken,
  downloadFile,
  getMessage,
  getRelationship,
  listRelationships,
  loadTemplate,
  requestRelationship,
  sendMessage,
  sync,
  uploadFile,
  type Participant,
} from '../../lib/protocol';
import { inOneDay, newParticipant } from '../helpers/participants';

let platform: PlatformHandle;
let a: Participant;
let b: Participant;
let relationshipId: string;

beforeAll(async () => {
  platform = await startPlatform({});
  a = await newParticipant(platform.baseUrl);
  b = await newParticipant(platform.baseUrl);
});
afterAll(() => platform.close());

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'no error';
}

test('template → token → request → accept; both sides see Active and derive matching keys', async () => {
  const template = await createTemplate(a, {
    content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { hello: 'from A' } },
    expiresAt: inOneDay(),
    maxNumberOfAllocations: 1,
  });
  const token = await createTemplateToken(a, template);
  const loaded = await loadTemplate(b, token.truncatedReference);
  expect(loaded.content).toEqual({ '@type': 'ArbitraryRelationshipTemplateContent', value: { hello: 'from A' } });
  expect(loaded.identity.address).toBe(a.address);
  // the same template by its own reference and link
  expect((await loadTemplate(b, template.truncatedReference)).id).toBe(template.id);
  expect((await loadTemplate(b, template.url)).id).toBe(template.id);

  const request = await requestRelationship(b, loaded, { '@type': 'ArbitraryRelationshipCreationContent', value: { answer: 'hi' } });
  relationshipId = request.id;
  expect(request.status).toBe('Pending');

  const synced = await sync(a);
  expect(synced.newRelationships).toContain(request.id);
  const pending = await getRelationship(a, request.id);
  expect(pending).toMatchObject({ role: 'templator', peer: b.address, status: 'Pending' });
  expect(pending.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { answer: 'hi' } });
  expect(pending.peerIdentity?.address).toBe(b.address);

  const accepted = await acceptRelationship(a, request.id);
  expect(accepted.status).toBe('Active');
  const seenByB = await getRelationship(b, request.id);
  expect(seenByB.status).toBe('Active');
  expect(Buffer.compare(seenByB.keys!.transmit.key.key, accepted.keys!.receive.key.key)).toBe(0);
  expect(Buffer.compare(seenByB.keys!.receive.baseNonce, accepted.keys!.transmit.baseNonce)).toBe(0);
  expect(seenByB.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { answer: 'hi' } });
  expect((await listRelationships(a)).map((r) => r.id)).toContain(request.id);
  expect((await listRelationships(b)).map((r) => r.id)).toContain(request.id);
});

test('Mails with attachments both ways: content, attachments byte-identical, non-Latin file names', async () => {
  const big = randomBytes(5.5 * 1024 * 1024);
  const small = Buffer.from('Grüße aus dem Labor — 检验报告 ✓', 'utf8');
  const f1 = await uploadFile(a, { content: big, filename: 'scan.pdf', mimetype: 'application/pdf', expiresAt: inOneDay(), title: 'Scan' });
  const f2 = await uploadFile(a, { content: small, filename: 'Prüfbericht_检验.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const mail = buildMail({ to: [b.address], subject: 'Befund', body: 'Anbei **zwei** Dateien', bodyFormat: 'Markdown' });
  const sent = await sendMessage(a, { recipients: [b.address], content: mail, attachments: [f1.reference, f2.reference] });

  const received = await getMessage(b, sent.id);
  expect(received.content).toEqual(mail);
  expect(received.isOwn).toBe(false);
  expect(received.relationshipId).toBe(relationshipId);
  expect(received.attachments.map((r) => r.id)).toEqual([f1.id, f2.id]);
  const d1 = await downloadFile(b, received.attachments[0]);
  const d2 = await downloadFile(b, received.attachments[1]);
  expect(d1.content.equals(big)).toBe(true);
  expect(d2.content.equals(small)).toBe(true);
  expect(d2.file.filename).toBe('Prüfbericht_检验.txt');
  expect(d1.file).toMatchObject({ mimetype: 'application/pdf', title: 'Scan', filesize: big.length });

  // the sender re-reads its own message, with no stored key
  const own = await getMessage(a, sent.id);
  expect(own.isOwn).toBe(true);
  expect(own.content).toEqual(mail);
  expect(own.recipients[0].receivedAt).not.toBeNull();

  const reply = await sendMessage(b, { recipients: [a.address], content: buildMail({ to: [a.address], subject: 'Re: Befund', body: 'Danke' }) });
  expect((await getMessage(a, reply.id)).content).toMatchObject({ subject: 'Re: Befund' });
});

test('every message key wrap uses a new counter', async () => {
  const counters: number[] = [];
  for (let i = 0; i < 5; i++) {
    const m = await sendMessage(a, { recipients: [b.address], content: { '@type': 'ArbitraryMessageContent', value: i } });
    const dto = await a.client.getMessage(m.id);
    counters.push(JSON.parse(Buffer.from(dto.recipients[0].encryptedKey, 'base64url').toString()).cnt);
  }
  expect(new Set(counters).size).toBe(5);
  expect(counters.every((c) => c >= 1)).toBe(true);
});

test('bad input: unknown/malformed address, no relationship, oversize file, Mail recipients mismatch', async () => {
  const c = await newParticipant(platform.baseUrl);
  expect(await code(sendMessage(a, { recipients: ['did:e:localhost:dids:nonsense'], content: { '@type': 'ArbitraryMessageContent', value: 1 } }))).toBe(
    'protocol.input.invalid',
  );
  expect(await code(sendMessage(a, { recipients: [c.address], content: { '@type': 'ArbitraryMessageContent', value: 1 } }))).toBe(
    'protocol.relationship.notFound',
  );
  expect(await code(uploadFile(a, { content: Buffer.alloc(7.6 * 1024 * 1024), filename: 'big.bin', mimetype: 'x/y', expiresAt: inOneDay() }))).toBe(
    'protocol.input.tooLarge',
  );
  expect(await code(sendMessage(a, { recipients: [b.address], content: buildMail({ to: [c.address], subject: 's', body: 'b' }) }))).toBe(
    'protocol.input.invalid',
  );
  expect(await code(loadTemplate(b, 'garbage'))).toBe('protocol.reference.invalid');
});

test('an expired template, a template for someone else, a password-protected one', async () => {
  const c = await newParticipant(platform.baseUrl);
  const short = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 1 }, expiresAt: new Date(Date.now() + 2_000).toISOString() });
  platform.advanceClock(5_000);
  try {
    expect(await code(loadTemplate(c, short.truncatedReference))).toBe('protocol.template.expired');
  } finally {
    platform.advanceClock(-5_000);
  }
  const personal = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 2 }, expiresAt: inOneDay(), forIdentity: b.address });
  expect(await code(loadTemplate(c, personal.truncatedReference))).toBe('protocol.template.notForYou');
  const locked = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 3 }, expiresAt: inOneDay(), password: { password: '4711', passwordType: 'pin4' } });
  expect(await code(loadTemplate(c, locked.truncatedReference))).toBe('protocol.template.passwordRequired');
  expect(await code(loadTemplate(c, locked.truncatedReference, '0000'))).toBe('protocol.template.expired');
  expect((await loadTemplate(c, locked.truncatedReference, '4711')).id).toBe(locked.id);
});

test('reject, revoke, terminate are seen by both sides', async () => {
  const c = await newParticipant(platform.baseUrl);
  const d = await newParticipant(platform.baseUrl);
  const t = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 0 }, expiresAt: inOneDay() });
  const rc = await requestRelationship(c, await loadTemplate(c, t.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 0 });
  const rd = await requestRelationship(d, await loadTemplate(d, t.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 0 });
  await sync(a);
  await changeRelationship(a, rc.id, 'reject');
  expect((await getRelationship(c, rc.id)).status).toBe('Rejected');
  await changeRelationship(d, rd.id, 'revoke');
  expect((await getRelationship(a, rd.id)).status).toBe('Revoked');
  expect(await code(acceptRelationship(a, rd.id))).toBe('protocol.relationship.wrongState');
  const e = await newParticipant(platform.baseUrl);
  const re = await requestRelationship(e, await loadTemplate(e, t.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 0 });
  await sync(a);
  await acceptRelationship(a, re.id);
  await changeRelationship(e, re.id, 'terminate');
  expect((await getRelationship(a, re.id)).status).toBe('Terminated');
  expect(await code(changeRelationship(e, re.id, 'terminate'))).toBe('protocol.relationship.wrongState');
});

test('errors are ProtocolErrors naming the object', async () => {
  const error = await getMessage(b, 'MSGaaaaaaaaaaaaaaaaa').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).objectId).toBe('MSGaaaaaaaaaaaaaaaaa');
});
