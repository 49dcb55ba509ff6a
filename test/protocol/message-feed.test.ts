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
  return { total: tail.total, watermark: tail.messages[tail.messages.length - 1].createdAt, seen: tail.messages.map((m) => [m.id, m.createdAt]), tail: tail.tail };
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
  expect(state.messages).toMatchObject({ total: 350, seen: tail.messages.map((m) => [m.id, m.createdAt]), tail: tail.messages[48].id });
  expect(listed).toHaveLength(3);
});

test('nothing new: one request for one record — the newest handled one, still at its place', async () => {
  const cursor = await position();
  listed = [];
  const read = await readFeed(me, cursor);
  expect(read).toEqual({ messages: [], total: 350, tail: cursor.tail, requests: 1 });
  expect(listed).toEqual(['?pageNumber=350&pageSize=1']);
});

test('something new after a quiet read: the one record shows the list only grew, and the read goes forward from it', async () => {
  const cursor = await position();
  platform.advanceClock(TEN_MINUTES);
  const id = await mail('new');
  listed = [];
  const read = await readFeed(me, cursor);
  expect(read.messages.map((m) => m.id)).toEqual([id]);
  expect(read).toMatchObject({ total: 351, tail: id, from: 351 });
  expect(listed).toEqual(['?pageNumber=350&pageSize=1', '?pageNumber=4&pageSize=100']);
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
  const full = (await readFeed(me, { ...cursor, seen: [], tail: undefined })).messages.length;
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
  const capped = await readFeed(me, { ...two, seen: two.seen.slice(0, -1), tail: undefined });
  expect(capped.messages.map((m) => m.id)).toEqual([two.seen[two.seen.length - 1][0]]);
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

describe('a cursor that stands on its tail', () => {
  let own: PlatformHandle;
  let reader: Participant;
  let writer: Participant;
  const options = { events: ['messageReceived' as const] };
  const send = async (subject: string) => (await sendMessage(writer, { recipients: [reader.address], content: buildMail({ to: [reader.address], subject, body: subject }) })).id;
  const ids = (result: Awaited<ReturnType<typeof poll>>) => result.events.map((e) => ('message' in e ? e.message.id : 'error' in e ? `error: ${e.error.message}` : e.event));
  /** The state as n8n stores it between polls. */
  const stored = (result: Awaited<ReturnType<typeof poll>>) => JSON.parse(JSON.stringify(result.state)) as Awaited<ReturnType<typeof seed>>;
  let requests: string[];

  /**
   * When the reader first lists a page whose query contains `query`, that request waits while a
   * message stamped a second before `before` is sent: it becomes visible during the read, listed
   * before messages already read.
   */
  const lateWhenListed = (query: string, before: string) => {
    let late: Promise<string> | undefined;
    own.setFaults((req) => {
      if (req.method !== 'GET' || req.path !== '/api/v2/Messages' || late || !req.url.includes(query)) return undefined;
      late = (async () => {
        const id = await send('late');
        own.backdateMessage(id, new Date(Date.parse((await reader.client.getMessage(before)).createdAt) - 1000).toISOString());
        return id;
      })();
      return { delayMs: 500 };
    });
    return { id: () => late ?? Promise.reject(new Error(`no page with ${query} was listed`)) };
  };

  beforeEach(async () => {
    // A Platform of its own: the clock of the one above has moved past the age check of fresh messages.
    own = await startPlatform({ maxUnreceivedMessages: 1_000_000 });
    [reader, writer] = await Promise.all([newParticipant(own.baseUrl), newParticipant(own.baseUrl)]);
    await relate(reader, writer);
    requests = [];
    own.setFaults((req) => {
      if (req.method === 'GET' && req.path === '/api/v2/Messages') requests.push(new URL(req.url, 'http://x').search);
      return undefined;
    });
  });
  afterEach(() => own?.close());

  test('a poll with only maxMessages of a backlog handled stands on the last one it handled: the next reads forward from there', async () => {
    await send('before the trigger');
    let state = await seed(reader, options);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(`m${i}`));
    const emitted: string[] = [];
    for (const expected of [2, 2, 1]) {
      requests = [];
      const result = await poll(reader, state, { ...options, maxMessages: 2 });
      expect(ids(result)).toHaveLength(expected);
      emitted.push(...ids(result));
      // The one record at the cursor, then the page it lies on: no walk back through the window.
      expect(requests).toEqual([`?pageNumber=${state.messages!.total}&pageSize=1`, '?pageNumber=1&pageSize=100']);
      state = stored(result);
      expect(state.messages).toMatchObject({ total: 1 + emitted.length, tail: emitted[emitted.length - 1] });
    }
    expect(new Set(emitted)).toEqual(new Set(sent));
    requests = [];
    expect(ids(await poll(reader, state, options))).toEqual([]);
    expect(requests).toEqual(['?pageNumber=6&pageSize=1']);
  });

  test('a message listed before the tail while a forward read runs is emitted by the next poll, once; nothing is lost or repeated', async () => {
    const first = await send('before the trigger');
    const state = await seed(reader, options);
    const sent: string[] = [];
    for (let i = 0; i < 100; i++) sent.push(await send(`m${i}`));
    // While the read is between its pages, a message stamped before the tail becomes visible.
    const late = lateWhenListed('pageNumber=2&pageSize=100', first);
    const during = await poll(reader, state, { ...options, maxMessages: 500 });
    // Shifted by the insertion, the second page repeats one message of the first: emitted once.
    // (In list order: messages stamped in the same millisecond are listed by id.)
    expect(ids(during)).toHaveLength(sent.length);
    expect(new Set(ids(during))).toEqual(new Set(sent));
    const after = stored(during);
    expect(after.messages?.tail).toBeUndefined(); // the count changed during the read: the next read covers the window
    const next = await poll(reader, after, options);
    expect(ids(next)).toEqual([await late.id()]);
    expect(stored(next).messages?.tail).toBe(ids(during)[sent.length - 1]);
    expect(ids(await poll(reader, stored(next), options))).toEqual([]);
  });

  test('a message listed before the tail between the one record and the page read: the same poll reads the window and emits it', async () => {
    const first = await send('before the trigger');
    const state = await seed(reader, options);
    const appended = await send('appended');
    const late = lateWhenListed('pageSize=100', first);
    const result = await poll(reader, state, options);
    expect(new Set(ids(result))).toEqual(new Set([appended, await late.id()]));
    expect(ids(result)).toHaveLength(2);
    expect(ids(await poll(reader, stored(result), options))).toEqual([]);
  });

  test('a cursor of an earlier version (seen as bare ids, no tail) reads its window once, emits only what is new, and is stored dated', async () => {
    const old = await send('old');
    const current = await seed(reader, options);
    const earlier = { v: 1 as const, messages: { total: current.messages!.total, watermark: current.messages!.watermark, seen: [old] } } as unknown as Awaited<ReturnType<typeof seed>>;
    const fresh = await send('fresh');
    const result = await poll(reader, earlier, options);
    expect(ids(result)).toEqual([fresh]);
    const state = stored(result);
    expect(state.messages?.seen.map(([id]) => id)).toEqual([old, fresh]);
    expect(state.messages?.seen.every(([, at]) => typeof at === 'string' && !Number.isNaN(Date.parse(at)))).toBe(true);
    expect(state.messages?.tail).toBe(fresh);
    expect(ids(await poll(reader, state, options))).toEqual([]);
  });
});
