/**
 * The trigger under a faulty network: exactly once, in order, across failed polls and restarts.
 *
 * A peer sends 1,000 messages through a clean connection, in bursts, while OUR trigger poller
 * (nodes/EnmeshedTrigger/poller.ts: `seed`, then repeated `poll`) reads through a fault-injecting
 * proxy that breaks ~10 % of the recipient's requests, the kinds taking turns: dropped connections,
 * 500/502/503, 429 quotaExhausted with a near isExhaustedUntil, answers held back beyond the
 * client's timeout, answers lost after the Platform acted, bodies cut midway. The client runs with a
 * short timeout and only 2 attempts per request, so whole polls fail now and then; on top of that the
 * first request of every 10th poll fails twice, so some polls fail for sure.
 *
 * The harness behaves like n8n: the state is JSON-round-tripped between polls; a poll that throws
 * emits nothing and the previous state is used again; items and state are kept together. At polls
 * 7, 19, 31, … (when they bring events) the worker "dies" after the poll returned but before n8n saved anything
 * (items and state are both lost), and a new process (a new Participant, `shared: false`) continues
 * from the last saved state; once more the worker is replaced in the middle of the run.
 *
 * Expected: every message is emitted exactly once (no loss, no duplicate), in the order of arrival
 * (the Platform's list order: createdAt, then id), and nothing is an error event.
 */
import { buildMail, openParticipant, sendMessage, type Participant, type ParticipantOptions } from '../../lib/protocol';
import type { ParticipantCredential } from '../../lib/protocol/participant';
import { poll, seed, type PollOptions, type TriggerState } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';
import { seededRandom, startProxy, type Fault, type TestProxy } from '../helpers/proxy';

jest.setTimeout(120_000);

const MESSAGES = 1_000;
const FAULT_RATE = 0.1;
const options: PollOptions = { events: ['messageReceived'] };
// Short timeout, few attempts: faults surface as failed polls, not only as retries inside one.
const http: ParticipantOptions['http'] = { timeoutMs: 400, maxAttempts: 2, backoffMs: 5, maxQuotaWaitMs: 2_000 };

let platform: PlatformHandle;
let proxy: TestProxy;
let sender: Participant;
let receiverCredential: ParticipantCredential;
let receiverAddress: string;

beforeAll(async () => {
  platform = await startPlatform({ maxUnreceivedMessages: 100_000 });
  sender = await newParticipant(platform.baseUrl);
  const receiver = await newParticipant(platform.baseUrl);
  await relate(sender, receiver);
  proxy = await startProxy(platform.baseUrl);
  // The same identity, reached only through the proxy (addresses derive from `localhost`: unchanged).
  receiverCredential = { ...receiver.credential, platformUrl: proxy.baseUrl };
  receiverAddress = receiver.address;
});

afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

/**
 * ~10 % of requests get a fault; the kinds take turns, so every kind occurs however the requests
 * happen to be timed. `force(n)` makes the next n requests fail with a 503 (a whole poll fails:
 * each request has only 2 attempts), so failed polls occur for sure, not only by chance.
 */
function faults(random: () => number): { decide: (request: { method: string; path: string }) => Fault | undefined; force: (n: number) => void } {
  const kinds: (() => Fault)[] = [
    () => ({ kind: 'drop' }),
    () => ({ kind: 'status', status: 500 }),
    () => ({ kind: 'quota', untilMs: 50 + Math.floor(random() * 150) }),
    () => ({ kind: 'status', status: 502 }),
    () => ({ kind: 'delay', ms: 700 }),
    () => ({ kind: 'loseResponse' }),
    () => ({ kind: 'status', status: 503 }),
    () => ({ kind: 'cut' }),
  ];
  let turn = 0;
  let forced = 0;
  return {
    decide: () => {
      if (forced > 0) {
        forced--;
        return { kind: 'status', status: 503 };
      }
      return random() < FAULT_RATE ? kinds[turn++ % kinds.length]() : undefined;
    },
    force: (n) => {
      forced = n;
    },
  };
}

test(`${MESSAGES} messages under ~${FAULT_RATE * 100} % faults, failed polls and restarts: each emitted exactly once, in order`, async () => {
  const random = seededRandom(20261125);
  const open = (): Promise<Participant> => openParticipant(receiverCredential, { shared: false, http });
  let worker = await open();

  // The first active poll seeds the cursor; if it fails, n8n seeds again next time.
  const injector = faults(random);
  proxy.setDecide(injector.decide);
  let saved: string | undefined;
  for (let i = 0; i < 50 && !saved; i++) saved = await seed(worker, options).then((s) => JSON.stringify(s), () => undefined);
  expect(saved).toBeDefined();

  const emitted: string[] = [];
  const stats = { polls: 0, failedPolls: 0, crashesBeforeSave: 0, restarts: 0, errorEvents: 0, sent: 0 };
  const pollOnce = async (): Promise<number> => {
    stats.polls++;
    if (stats.polls % 10 === 5) injector.force(2); // this poll's first request fails twice: the poll throws
    let result: Awaited<ReturnType<typeof poll>>;
    try {
      result = await poll(worker, JSON.parse(saved!) as TriggerState, options);
    } catch {
      stats.failedPolls++; // nothing emitted, the previous state stays
      return -1;
    }
    if (result.events.length && stats.polls % 12 === 7) {
      // The worker dies before n8n stored the execution: items and state are both lost.
      stats.crashesBeforeSave++;
      stats.restarts++;
      worker = await open();
      return -1;
    }
    for (const event of result.events) {
      if ('message' in event) emitted.push(event.message.id);
      else {
        stats.errorEvents++;
        if ('dto' in event) emitted.push(event.dto.id);
      }
    }
    saved = JSON.stringify(result.state); // n8n stores the cursor with the items
    return result.events.length;
  };

  while (stats.sent < MESSAGES) {
    // Mostly small bursts; now and then more than one poll takes (100), so a poll leaves some for the next.
    const burst = Math.min(MESSAGES - stats.sent, random() < 0.1 ? 150 : 1 + Math.floor(random() * 30));
    for (let i = 0; i < burst; i++) {
      await sendMessage(sender, { recipients: [receiverAddress], content: buildMail({ to: [receiverAddress], subject: `#${stats.sent}`, body: 'x' }) });
      stats.sent++;
    }
    await pollOnce();
    if (stats.sent >= MESSAGES / 2 && stats.restarts === stats.crashesBeforeSave) {
      // Kill and restart in the middle of the run: a new process with the last saved state.
      stats.restarts++;
      worker = await open();
    }
  }
  // Drain: poll until three successful polls in a row bring nothing.
  for (let quiet = 0, guard = 0; quiet < 3; guard++) {
    if (guard > 300) throw new Error(`the trigger did not settle: ${emitted.length} emitted`);
    const n = await pollOnce();
    quiet = n === 0 ? quiet + 1 : n > 0 ? 0 : quiet;
  }
  proxy.setDecide(undefined);

  // The record, read through a clean connection: the sender's list, in the Platform's order.
  const truth = (await sender.client.all(sender.client.messages())).filter((m) => m.createdBy === sender.address).map((m) => m.id);
  const counts = new Map<string, number>();
  for (const id of emitted) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost = truth.filter((id) => !counts.has(id)).length;
  const duplicated = [...counts.values()].filter((n) => n > 1).length;
  const figures = {
    messages: truth.length,
    emitted: emitted.length,
    lost,
    duplicated,
    inOrder: JSON.stringify(emitted) === JSON.stringify(truth),
    requestsThroughProxy: proxy.log.length,
    faultsInjected: Object.values(proxy.injected).reduce((a, b) => a + b, 0),
    faultsByKind: proxy.injected,
    ...stats,
  };
  process.stderr.write(`[faults] trigger exactly-once: ${JSON.stringify(figures)}\n`);

  expect(truth).toHaveLength(MESSAGES);
  expect(lost).toBe(0);
  expect(duplicated).toBe(0);
  expect(emitted).toEqual(truth);
  expect(stats.errorEvents).toBe(0);
  // The run really was faulty: every kind of fault occurred, and whole polls failed.
  expect(figures.faultsInjected / figures.requestsThroughProxy).toBeGreaterThan(0.05);
  for (const kind of Object.keys(proxy.injected) as Fault['kind'][]) expect(proxy.injected[kind]).toBeGreaterThan(0);
  expect(stats.failedPolls).toBeGreaterThan(0);
  expect(stats.crashesBeforeSave).toBeGreaterThan(0);
  expect(stats.restarts).toBeGreaterThan(stats.crashesBeforeSave);
});

test('a poll that throws leaves the state it was given untouched', async () => {
  const worker = await openParticipant(receiverCredential, { shared: false, http: { ...http, timeoutMs: 10_000 } });
  const state = await seed(worker, options);
  await sendMessage(sender, { recipients: [receiverAddress], content: buildMail({ to: [receiverAddress], subject: 'after seed', body: 'x' }) });
  const before = JSON.stringify(state);
  // The message list reads fine; every relationship read fails: the poll throws midway.
  proxy.setDecide((r) => (r.path.startsWith('/api/v2/Relationships') ? { kind: 'status', status: 503 } : undefined));
  await expect(poll(worker, state, options)).rejects.toMatchObject({ name: 'PlatformError', status: 503 });
  proxy.setDecide(undefined);
  expect(JSON.stringify(state)).toBe(before);
  const again = await poll(worker, state, options);
  expect(again.events.map((e) => ('message' in e ? (e.message.content as { subject?: string }).subject : 'error'))).toEqual(['after seed']);
});
