/**
 * lib/protocol/message-feed.ts, the cost side: a read with nothing new asks for one record whatever
 * the list's length; a cursor that starts now (readTail, the trigger's seed) costs O(1) requests; and
 * every case the one-record check cannot vouch for goes to the full read, which finds what is new.
 * Requests are seen on the Platform (path and query), so the test sees what went over the wire.
 */
import { buildMail, readFeed, readTail, sendMessage, type FeedPosition, type Participant } from '../../lib/protocol';
import { seed, poll } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';

jest.setTimeout(120_000);

let platform: PlatformHandle;
let me: Participant;
let peer: Participant;
let listed: string[];
/** A copy of one real message, posted as is: a valid message to `me`, 1 request each. */
let copy: Parameters<Participant['client']['sendMessage']>[0];

const TEN_MINUTES = 10 * 60_000;

async function mail(subject: string): Promise<string> {
  return (await sendMessage(peer, { recipients: [me.address], content: buildMail({ to: [me.address], subject, body: subject }) })).id;
}

/** `n` old messages, the clock moving 10 minutes after every 100 (only the newest are inside the look-back). */
async function fill(n: number): Promise<void> {
  for (let sent = 0; sent < n; ) {
    const batch = Math.min(100, n - sent);
    for (let i = 0; i < batch; i += 10) await Promise.all(Array.from({ length: Math.min(10, batch - i) }, () => peer.client.sendMessage(copy)));
    sent += batch;
    platform.advanceClock(TEN_MINUTES);
  }
}

beforeAll(async () => {
  // Logins that outlast the clock moves below: no 401 and second attempt among the requests counted.
  platform = await startPlatform({ maxUnreceivedMessages: 1_000_000, tokenLifetimeSeconds: 24 * 3600 });
  [me, peer] = await Promise.all([newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(me, peer);
  const first = await mail('first');
  const dto = await peer.client.getMessage(first);
  copy = { recipients: [{ address: me.address, encryptedKey: dto.recipients[0].encryptedKey }], body: dto.body, attachments: [] };
  await fill(349);
  platform.setFaults((req) => {
    if (req.method === 'GET' && req.path === '/api/v2/Messages') listed.push(new URL(req.url, 'http://x').search);
    return undefined;
  });
});
beforeEach(() => {
  listed = [];
});
afterAll(() => platform?.close());

const position = async (): Promise<FeedPosition> => {
  const tail = await readTail(me);
  return { total: tail.total, watermark: tail.messages[tail.messages.length - 1].createdAt, seen: tail.messages.map((m) => m.id) };
};

test('a cursor that starts now: 350 messages, the newest and those within the look-back, in 3 requests', async () => {
  const tail = await readTail(me);
  expect(tail.total).toBe(350);
  // The last batch of old messages (49) is the only one inside the 5-minute look-back of the newest.
  expect(tail.messages).toHaveLength(49);
  expect(listed).toEqual(['?pageNumber=1&pageSize=1', '?pageNumber=350&pageSize=1', '?pageNumber=4&pageSize=100']);
  expect(tail.requests).toBe(3);
  listed = [];
  const state = await seed(me, { events: ['messageReceived'] });
  expect(state.messages).toMatchObject({ total: 350, seen: tail.messages.map((m) => m.id) });
  expect(listed).toHaveLength(3);
});

test('nothing new: one request for one record — the newest handled one, still at its place', async () => {
  const cursor = await position();
  listed = [];
  const read = await readFeed(me, cursor);
  expect(read).toEqual({ messages: [], total: 350, requests: 1 });
  expect(listed).toEqual(['?pageNumber=350&pageSize=1']);
});

test('something new after a quiet read: found by the full read that the one record sends us to', async () => {
  const cursor = await position();
  platform.advanceClock(TEN_MINUTES);
  const id = await mail('new');
  listed = [];
  const read = await readFeed(me, cursor);
  expect(read.messages.map((m) => m.id)).toEqual([id]);
  expect(read.total).toBe(351);
  expect(listed[0]).toBe('?pageNumber=350&pageSize=1');
  expect(listed.length).toBeLessThanOrEqual(3);
  // The trigger's poll on that cursor emits it, and then costs one request again.
  const state = { v: 1 as const, messages: cursor };
  const first = await poll(me, state, { events: ['messageReceived'] });
  expect(first.events.map((e) => ('message' in e ? e.message.id : undefined))).toEqual([id]);
  listed = [];
  expect((await poll(me, first.state, { events: ['messageReceived'] })).events).toEqual([]);
  expect(listed).toEqual(['?pageNumber=351&pageSize=1']);
});

test('what one record cannot vouch for goes to the full read: a cursor that handled nothing, a list shorter than the cursor, another message at that place', async () => {
  const cursor = await position();
  const full = (await readFeed(me, { ...cursor, seen: [] })).messages.length;
  expect(full).toBeGreaterThan(0); // nothing handled: everything inside the window is new to it
  // A cursor from a longer list (messages hidden since): the probe finds no record there, the full read copes.
  const longer = await readFeed(me, { ...cursor, total: cursor.total + 5 });
  expect(longer.messages).toEqual([]);
  expect(longer.total).toBe(cursor.total);
  // A cursor that did not handle the message at its `total` (e.g. a capped batch): full read.
  platform.advanceClock(TEN_MINUTES);
  await mail('one');
  await mail('two');
  const two = await position();
  listed = [];
  const capped = await readFeed(me, { ...two, seen: two.seen.slice(0, -1) });
  expect(capped.messages.map((m) => m.id)).toEqual([two.seen[two.seen.length - 1]]);
  expect(listed).toEqual([`?pageNumber=${two.total}&pageSize=1`, `?pageNumber=${Math.ceil(two.total / 100)}&pageSize=100`]);
});

test('an empty list: one request, and the first message is found', async () => {
  const lonely = await newParticipant(platform.baseUrl);
  const friend = await newParticipant(platform.baseUrl);
  await relate(lonely, friend);
  const start = await readTail(lonely);
  expect(start).toEqual({ messages: [], total: 0, requests: 1 });
  expect((await readFeed(lonely, { total: 0, seen: [] })).requests).toBe(1);
  await sendMessage(friend, { recipients: [lonely.address], content: buildMail({ to: [lonely.address], subject: 'hi', body: 'hi' }) });
  expect((await readFeed(lonely, { total: 0, seen: [] })).messages).toHaveLength(1);
});

test('a message that becomes visible late (listed before one already emitted) is emitted once, and only it', async () => {
  // A Platform of its own: the clock of the one above has moved past the age check of fresh messages.
  const own = await startPlatform({});
  try {
    const [reader, writer] = await Promise.all([newParticipant(own.baseUrl), newParticipant(own.baseUrl)]);
    await relate(reader, writer);
    const send = async (subject: string) => (await sendMessage(writer, { recipients: [reader.address], content: buildMail({ to: [reader.address], subject, body: subject }) })).id;
    const options = { events: ['messageReceived' as const] };
    const ids = (result: Awaited<ReturnType<typeof poll>>) => result.events.map((e) => ('message' in e ? e.message.id : 'error' in e ? `error: ${e.error.message}` : e.event));
    const stored = (result: Awaited<ReturnType<typeof poll>>) => JSON.parse(JSON.stringify(result.state)) as Awaited<ReturnType<typeof seed>>;
    await send('before the trigger');
    let state = await seed(reader, options);
    const a = await send('a');
    const first = await poll(reader, state, options);
    expect(ids(first)).toEqual([a]);
    state = stored(first);
    // Committed after `a` was emitted but stamped a second before it: now listed before `a`.
    const late = await send('late');
    own.backdateMessage(late, new Date(Date.parse((await reader.client.getMessage(a)).createdAt) - 1000).toISOString());
    const second = await poll(reader, state, options);
    expect(ids(second)).toEqual([late]);
    state = stored(second);
    expect(ids(await poll(reader, state, options))).toEqual([]);
    const b = await send('b');
    const third = await poll(reader, state, options);
    expect(ids(third)).toEqual([b]);
    expect(ids(await poll(reader, stored(third), options))).toEqual([]);
  } finally {
    await own.close();
  }
});
