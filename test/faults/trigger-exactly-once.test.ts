/**
 * The trigger under a faulty network and crashes of n8n main, on both of n8n's poll paths.
 *
 * A peer sends 1,000 messages through a clean connection, in bursts, while OUR trigger poller
 * (nodes/EnmeshedTrigger/poller.ts: `seed`, then repeated `poll`) reads through a fault-injecting
 * proxy that breaks ~10 % of the recipient's requests, the kinds taking turns: dropped connections,
 * 500/502/503, 429 quotaExhausted with a near isExhaustedUntil, answers held back beyond the
 * client's timeout, answers lost after the Platform acted, bodies cut midway. The client runs with a
 * short timeout and only 2 attempts per request, so whole polls fail now and then; on top of that the
 * first request of every 10th poll fails twice, so some polls fail for sure.
 *
 * The harness behaves like n8n 2.41 main: the state is JSON-round-tripped between polls; a poll that
 * throws emits nothing and the previous state is used again. What a crash of main right after a poll
 * that brought events leaves depends on the path (a new process — a new Participant, `shared: false`
 * — then continues from the state the database holds; once more the process is replaced in the
 * middle of the run):
 *  - default path: n8n saves the poll's static data without awaiting it and only then creates the
 *    execution, and never re-runs an execution a crash interrupted. So a crash either comes before
 *    the cursor write (nothing stored: the next poll brings the events again), or between the cursor
 *    write and the execution row (the events are lost), or — the write not yet committed when the
 *    execution row was — after the execution row (the events were emitted, the old cursor brings
 *    them again: duplicates). Polls 7, 19, … crash before the write, 3, 15, … in the window, 11, 23,
 *    … after the row with the write lost.
 *  - durable poll cursors: the cursor and the execution row are one transaction. A crash comes
 *    before it (nothing stored) or after it (emitted once: in regular mode n8n runs the stored
 *    execution at startup, a started one is marked crashed). Polls 7, 19, … and 3, 15, ….
 *
 * Expected: on the durable path every message is emitted exactly once, in the order of arrival (the
 * Platform's list order: createdAt, then id); on the default path exactly the events of the
 * in-window crashes are lost and exactly those of the lost writes come twice, everything else once,
 * in order — the poller adds no loss or duplicate of its own. Nothing is an error event.
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

type PollPath = 'default' | 'durable';
/** What a crash of main after a poll with events leaves, by poll number (none: no crash). */
type Crash = 'beforeCursorWrite' | 'inWindow' | 'afterRowCursorLost' | 'afterCommit';
function crashAt(pollPath: PollPath, pollNumber: number): Crash | undefined {
  const slot = pollNumber % 12;
  if (slot === 7) return 'beforeCursorWrite';
  if (slot === 3) return pollPath === 'default' ? 'inWindow' : 'afterCommit';
  if (slot === 11 && pollPath === 'default') return 'afterRowCursorLost';
  return undefined;
}

test.each<[PollPath, number]>([
  ['durable', MESSAGES],
  ['default', MESSAGES],
])(`%s poll path: %i messages under ~${FAULT_RATE * 100} % faults, failed polls, crashes of main and restarts`, async (pollPath, messages) => {
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
  /** Ids n8n's crash windows lose or emit twice, as the model predicts them. */
  const expectedLost = new Set<string>();
  const expectedTwice = new Set<string>();
  const crashes: Record<Crash, number> = { beforeCursorWrite: 0, inWindow: 0, afterRowCursorLost: 0, afterCommit: 0 };
  const stats = { polls: 0, failedPolls: 0, restarts: 0, errorEvents: 0, sent: 0 };
  const ids = (events: Awaited<ReturnType<typeof poll>>['events']): string[] =>
    events.flatMap((event) => ('message' in event ? [event.message.id] : 'dto' in event ? [event.dto.id] : []));
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
    const crash = result.events.length ? crashAt(pollPath, stats.polls) : undefined;
    const emit = crash === undefined || crash === 'afterRowCursorLost' || crash === 'afterCommit';
    const store = crash === undefined || crash === 'inWindow' || crash === 'afterCommit';
    if (emit) {
      for (const event of result.events) if (!('message' in event)) stats.errorEvents++;
      emitted.push(...ids(result.events));
    }
    if (store) saved = JSON.stringify(result.state);
    if (crash) {
      crashes[crash]++;
      if (crash === 'inWindow') for (const id of ids(result.events)) expectedLost.add(id);
      if (crash === 'afterRowCursorLost') for (const id of ids(result.events)) expectedTwice.add(id);
      stats.restarts++;
      worker = await open();
      return -1;
    }
    return result.events.length;
  };

  while (stats.sent < messages) {
    // Mostly small bursts; now and then more than one poll takes (100), so a poll leaves some for the next.
    const burst = Math.min(messages - stats.sent, random() < 0.1 ? 150 : 1 + Math.floor(random() * 30));
    for (let i = 0; i < burst; i++) {
      await sendMessage(sender, { recipients: [receiverAddress], content: buildMail({ to: [receiverAddress], subject: `#${stats.sent}`, body: 'x' }) });
      stats.sent++;
    }
    await pollOnce();
    const crashed = Object.values(crashes).reduce((a, b) => a + b, 0);
    if (stats.sent >= messages / 2 && stats.restarts === crashed) {
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
  // Only this test's messages (the test before it sent some of its own).
  const all = (await sender.client.all(sender.client.messages())).filter((m) => m.createdBy === sender.address).map((m) => m.id);
  const truth = all.slice(all.length - messages);
  const counts = new Map<string, number>();
  for (const id of emitted) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost = truth.filter((id) => !counts.has(id));
  const twice = truth.filter((id) => counts.get(id) === 2);
  const firstEmissions = [...new Set(emitted)];
  const figures = {
    path: pollPath,
    messages: truth.length,
    emitted: emitted.length,
    lost: lost.length,
    duplicated: twice.length,
    crashes,
    inOrder: JSON.stringify(firstEmissions) === JSON.stringify(truth.filter((id) => !expectedLost.has(id))),
    requestsThroughProxy: proxy.log.length,
    faultsInjected: Object.values(proxy.injected).reduce((a, b) => a + b, 0),
    faultsByKind: proxy.injected,
    ...stats,
  };
  process.stderr.write(`[faults] trigger on n8n's ${pollPath} poll path: ${JSON.stringify(figures)}\n`);

  expect(all.length).toBeGreaterThanOrEqual(messages);
  // Lost: exactly the events of the in-window crashes; twice: exactly those whose cursor write was
  // lost; nothing three times; the rest once, in order.
  expect(lost).toEqual(truth.filter((id) => expectedLost.has(id)));
  expect(twice).toEqual(truth.filter((id) => expectedTwice.has(id)));
  expect([...counts.values()].every((n) => n <= 2)).toBe(true);
  expect(firstEmissions).toEqual(truth.filter((id) => !expectedLost.has(id)));
  expect(emitted.every((id) => truth.includes(id))).toBe(true);
  expect(stats.errorEvents).toBe(0);
  if (pollPath === 'durable') {
    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(crashes.afterCommit).toBeGreaterThan(0);
  } else {
    // n8n's windows were hit, with events in them
    expect(expectedLost.size).toBeGreaterThan(0);
    expect(expectedTwice.size).toBeGreaterThan(0);
  }
  // The run really was faulty: every kind of fault occurred, and whole polls failed.
  expect(figures.faultsInjected / figures.requestsThroughProxy).toBeGreaterThan(0.05);
  for (const kind of Object.keys(proxy.injected) as Fault['kind'][]) expect(proxy.injected[kind]).toBeGreaterThan(0);
  expect(stats.failedPolls).toBeGreaterThan(0);
  expect(crashes.beforeCursorWrite).toBeGreaterThan(0);
  expect(stats.restarts).toBeGreaterThan(Object.values(crashes).reduce((a, b) => a + b, 0));
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
