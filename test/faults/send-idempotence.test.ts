/**
 * A send whose answer is lost must not be sent twice blindly. The sender talks to the local
 * Platform through a fault-injecting proxy; the recipient reads the record directly.
 *
 *   - the proxy forwards POST /Messages, the Platform stores the message, and the answer is lost
 *     (connection closed; or held back beyond the client's timeout; or replaced by a 502):
 *     lib does NOT retry (exactly one POST left the client, exactly one message exists), and the
 *     error says clearly that the message may have been sent (`outcomeUnknown`);
 *   - the same for an upload (POST /Files);
 *   - where a retry is safe it still happens: 429 quotaExhausted (the Backbone checks quotas before
 *     anything else) and a connection dropped before anything was forwarded (a read: retried).
 */
import { isPlatformError, type PlatformError } from '../../lib/backbone';
import { buildMail, getMessage, getRelationship, openParticipant, sync, sendMessage, uploadFile, type Participant, type ParticipantCredential } from '../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type Fault, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';

let platform: PlatformHandle;
let proxy: TestProxy;
let sender: Participant;
let senderCredential: ParticipantCredential;
let recipient: Participant;
let recipientCredential: ParticipantCredential;

beforeAll(async () => {
  platform = await startPlatform({});
  const direct = await newParticipant(platform.baseUrl);
  const requestor = await newParticipant(platform.baseUrl);
  recipient = requestor;
  recipientCredential = requestor.credential;
  await relate(direct, recipient);
  proxy = await startProxy(platform.baseUrl);
  senderCredential = { ...direct.credential, platformUrl: proxy.baseUrl };
  sender = await openParticipant(senderCredential, { shared: false, http: { timeoutMs: 1_500, backoffMs: 5 } });
  // Warm: login, datawallet, relationship keys and a counter block, so that the sends below make one POST each.
  await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject: 'warm', body: 'up' }) });
});

afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

/** The first request matching method+path gets `fault`; everything else passes. */
function once(method: string, path: RegExp, fault: Fault): void {
  let used = false;
  proxy.setDecide((r) => {
    if (used || r.method !== method || !path.test(r.path)) return undefined;
    used = true;
    return fault;
  });
}

async function messagesAtRecipient(subject: string): Promise<number> {
  const all = await recipient.client.all(recipient.client.messages());
  let n = 0;
  for (const dto of all) {
    if (dto.createdBy !== sender.address) continue;
    const message = await getMessage(recipient, dto.id);
    if ((message.content as { subject?: string }).subject === subject) n++;
  }
  return n;
}

const posts = (path: RegExp, from: number): number => proxy.log.slice(from).filter((e) => e.method === 'POST' && path.test(e.path)).length;

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPlatformError(error)).toBe(true);
  return error as PlatformError;
}

describe.each([
  ['the answer is lost (connection closed after the Platform acted)', { kind: 'loseResponse' } as Fault],
  ['the answer comes after the client gave up (timeout)', { kind: 'delay', ms: 3_000 } as Fault],
  ['the Platform answers 502', { kind: 'status', status: 502 } as Fault],
])('POST /Messages: %s', (_name, fault) => {
  test('not retried; the error says the message may have been sent', async () => {
    const subject = `idempotence ${fault.kind} ${Date.now()}`;
    const from = proxy.log.length;
    // 502 is answered by the proxy without forwarding: here the message is not stored, and still the
    // client cannot know, so it must not repeat it either.
    const stored = fault.kind === 'status' ? 0 : 1;
    once('POST', /\/api\/v2\/Messages$/, fault);
    const error = await failure(sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject, body: 'once' }) }));
    proxy.setDecide(undefined);

    expect(posts(/\/api\/v2\/Messages$/, from)).toBe(1);
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toMatch(/may nevertheless have been carried out/);
    expect(error.message).toMatch(/not repeated/);
    expect(error.message).toContain('POST /api/v2/Messages');
    if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, 1_700)); // let the held-back answer pass
    expect(await messagesAtRecipient(subject)).toBe(stored);
  });
});

test('POST /Files with a lost answer: not retried, the error says the upload may have happened', async () => {
  const ownFiles = async (): Promise<number> => (await sender.client.all(sender.client.files())).length;
  const before = await ownFiles();
  const from = proxy.log.length;
  once('POST', /\/api\/v2\/Files$/, { kind: 'loseResponse' });
  const error = await failure(uploadFile(sender, { content: Buffer.from('x'), filename: 'x.txt', mimetype: 'text/plain', expiresAt: inOneDay() }));
  proxy.setDecide(undefined);
  expect(posts(/\/api\/v2\/Files$/, from)).toBe(1);
  expect(error.outcomeUnknown).toBe(true);
  expect(error.message).toMatch(/may nevertheless have been carried out/);
  expect(await ownFiles()).toBe(before + 1); // stored once
});

test('429 quotaExhausted on a send: waits, sends once more, and exactly one message exists', async () => {
  const subject = `quota ${Date.now()}`;
  const from = proxy.log.length;
  once('POST', /\/api\/v2\/Messages$/, { kind: 'quota', untilMs: 200 });
  await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject, body: 'once' }) });
  proxy.setDecide(undefined);
  expect(posts(/\/api\/v2\/Messages$/, from)).toBe(2);
  expect(await messagesAtRecipient(subject)).toBe(1);
});

test('reads are retried after a lost answer, with no error', async () => {
  const id = sender.registry.withPeer(recipient.address)[0].id;
  const from = proxy.log.length;
  once('GET', /\/api\/v2\/Relationships\/REL/, { kind: 'loseResponse' });
  const relationship = await getRelationship(sender, id);
  proxy.setDecide(undefined);
  expect(relationship).toMatchObject({ id, status: 'Active', peer: recipient.address });
  expect(proxy.log.slice(from).filter((e) => e.method === 'GET' && e.path.startsWith('/api/v2/Relationships/REL')).length).toBe(2);
});

test('a send from a fresh process reads no relationship record: the keys come from the entry the acceptance wrote', async () => {
  const fresh = await openParticipant(senderCredential, { shared: false });
  const subject = `fresh ${Date.now()}`;
  const from = proxy.log.length;
  await sendMessage(fresh, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject, body: 'keys from the entry' }) });
  const requests = proxy.log.slice(from).map((e) => `${e.method} ${e.path.replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}')}`);
  expect(requests).toEqual(['POST /connect/token', 'GET /api/v2/Datawallet/Modifications', 'POST /api/v2/Datawallet/Modifications', 'POST /api/v2/Messages']);
  expect(await messagesAtRecipient(subject)).toBe(1);
});

test('the requestor: the first fresh process reads the record once and keeps the verified keys with its counter block; the next reads none', async () => {
  const viaProxy = { ...recipientCredential, platformUrl: proxy.baseUrl };
  const send = async (): Promise<string[]> => {
    const fresh = await openParticipant(viaProxy, { shared: false });
    const from = proxy.log.length;
    await sendMessage(fresh, { recipients: [sender.address], content: buildMail({ to: [sender.address], subject: 'from the requestor', body: 'x' }) });
    return proxy.log.slice(from).map((e) => `${e.method} ${e.path.replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}')}`);
  };
  expect(await send()).toEqual(['POST /connect/token', 'GET /api/v2/Datawallet/Modifications', 'GET /api/v2/Relationships/{id}', 'POST /api/v2/Datawallet/Modifications', 'POST /api/v2/Messages']);
  expect(await send()).toEqual(['POST /connect/token', 'GET /api/v2/Datawallet/Modifications', 'POST /api/v2/Datawallet/Modifications', 'POST /api/v2/Messages']);
  // Both arrive and open at the templator (keys from the entry are the relationship's keys).
  await sync(sender);
  const received = (await sender.client.all(sender.client.messages())).filter((m) => m.createdBy === recipient.address);
  for (const dto of received.slice(-2)) expect((await getMessage(sender, dto.id)).content).toMatchObject({ subject: 'from the requestor' });
});
