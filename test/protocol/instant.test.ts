/**
 * lib/protocol/event-hub.ts and instant.ts against the local Platform: one event stream per identity
 * per process whatever the number of listeners (and of Participant objects of that identity), kept
 * across a quick unsubscribe/subscribe; polls on events and on (re)connects, one at a time per
 * identity, wake-ups during a poll folded into one more; fallback polling while the SseServer is
 * missing; failed polls retried; passive listeners never open a stream.
 */
import { buildMail, openParticipant, runInstant, sendMessage, type InstantJob, type InstantOptions, type InstantRun, type Participant, type WakeReason } from '../../lib/protocol';
import type { StreamState } from '../../lib/backbone';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';
import { until } from '../../scripts/lib/wait';

let platform: PlatformHandle;
let me: Participant & { credential: Parameters<typeof openParticipant>[0] };
let peer: Participant;
let sseRequests: number;
const runs: InstantRun[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const send = () => sendMessage(peer, { recipients: [me.address], content: buildMail({ to: [me.address], subject: 's', body: 'b' }) });


interface Probe {
  reasons: WakeReason[];
  states: StreamState[];
  failures: number[];
  job: InstantJob;
}

function probe(poll: (reason: WakeReason) => Promise<boolean> = async () => false): Probe {
  const p: Probe = {
    reasons: [],
    states: [],
    failures: [],
    job: {
      poll: (reason) => {
        p.reasons.push(reason);
        return poll(reason);
      },
      failed: (_error, streak) => p.failures.push(streak),
      stateChanged: (state) => p.states.push(state),
    },
  };
  return p;
}

function start(participant: Participant, p: Probe, options: Partial<InstantOptions> = {}): InstantRun {
  const run = runInstant(participant, p.job, { fallbackPollMs: 60_000, lingerMs: 0, keepAliveMs: 60_000, stream: { backoffMs: 50, maxBackoffMs: 200 }, ...options });
  runs.push(run);
  return run;
}

beforeAll(async () => {
  platform = await startPlatform({});
  [me, peer] = await Promise.all([newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(me, peer);
});
beforeEach(() => {
  sseRequests = 0;
  platform.configure({ sse: true });
  platform.setFaults((req) => {
    if (/\/sse$/.test(req.path)) sseRequests++;
    return undefined;
  });
});
afterEach(async () => {
  for (const run of runs.splice(0)) run.close();
  await sleep(200); // the SseServer processes a stream's end asynchronously (see events-stream.test.ts)
});
afterAll(() => platform?.close());

test('one stream for every listener of the identity in the process, also through another Participant object of it; each polls on connect and on every event', async () => {
  const twin = await openParticipant(me.credential, { shared: false }); // another credential object, the same identity
  const a = probe();
  const b = probe();
  const c = probe();
  start(me, a);
  start(me, b);
  start(twin, c);
  await until('the connect polls', () => [a, b, c].every((p) => p.reasons.includes('connected')));
  expect(sseRequests).toBe(1);
  await send();
  await until('the event polls', () => [a, b, c].every((p) => p.reasons.includes('event')), 2_000);
  expect(sseRequests).toBe(1);
});

test('a listener leaving and another coming within the linger time keep the stream; after it, the stream closes', async () => {
  const first = probe();
  const run = start(me, first, { lingerMs: 400 });
  await until('open', () => first.reasons.includes('connected'));
  run.close();
  const second = probe();
  const again = start(me, second, { lingerMs: 400 });
  await until('the new listener polls', () => second.reasons.includes('connected'));
  expect(sseRequests).toBe(1);
  again.close();
  await sleep(600);
  const third = probe();
  start(me, third);
  await until('open', () => third.reasons.includes('connected'));
  expect(sseRequests).toBe(2);
});

test('one poll at a time per identity; events during a poll fold into one more poll after it', async () => {
  let running = 0;
  let most = 0;
  const slow = (reason: WakeReason) => async () => {
    running++;
    most = Math.max(most, running);
    await sleep(reason === 'connected' ? 0 : 300);
    running--;
    return false;
  };
  const a: Probe = probe((r) => slow(r)());
  const b: Probe = probe((r) => slow(r)());
  start(me, a);
  start(me, b);
  await until('connect polls', () => a.reasons.length === 1 && b.reasons.length === 1);
  for (let i = 0; i < 5; i++) await send();
  await sleep(1_500);
  expect(most).toBe(1);
  // Five events: one poll at the first, the four arriving during it folded into one more.
  for (const p of [a, b]) expect(p.reasons.filter((r) => r === 'event').length).toBeLessThanOrEqual(3);
  for (const p of [a, b]) expect(p.reasons.filter((r) => r === 'event').length).toBeGreaterThanOrEqual(1);
});

test('"more" (a capped batch): polled again at once', async () => {
  let left = 3;
  const p = probe(async () => --left > 0);
  start(me, p);
  await until('the batches', () => left <= 0);
  expect(p.reasons).toEqual(['connected', 'more', 'more']);
});

test('no SseServer: unavailable, polls every fallback interval; once it is back, a catch-up poll and no more fallback polls', async () => {
  platform.configure({ sse: false });
  const p = probe();
  start(me, p, { fallbackPollMs: 200, stream: { unavailableRetryMs: 1_000, backoffMs: 50 } });
  await sleep(900);
  expect(p.states.find((s) => s.kind === 'down')).toMatchObject({ reason: 'notFound', unavailable: true });
  const fallbacks = p.reasons.filter((r) => r === 'fallback').length;
  expect(fallbacks).toBeGreaterThanOrEqual(3);
  expect(fallbacks).toBeLessThanOrEqual(5);
  platform.configure({ sse: true });
  await until('the catch-up poll', () => p.reasons.includes('connected'), 3_000);
  const after = p.reasons.length;
  await sleep(600);
  expect(p.reasons.length).toBe(after);
});

test('a failing poll is retried with a doubling delay, the failures in a row counted; success ends the streak', async () => {
  let fail = 3;
  const at: number[] = [];
  const p = probe(async () => {
    at.push(Date.now());
    if (fail-- > 0) throw new Error('the Platform is down');
    return false;
  });
  start(me, p, { retryMs: 100 });
  await until('the recovery', () => fail < 0);
  expect(p.failures).toEqual([1, 2, 3]);
  expect(p.reasons).toEqual(['connected', 'retry', 'retry', 'retry']);
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  [100, 200, 400].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay - 5));
});

test('a passive listener opens no stream: it polls at its interval, and hears a stream the process holds anyway', async () => {
  const passive = probe();
  start(me, passive, { passive: true, fallbackPollMs: 150 });
  await sleep(500);
  expect(sseRequests).toBe(0);
  expect(passive.reasons.filter((r) => r === 'fallback').length).toBeGreaterThanOrEqual(2);
  const active = probe();
  start(me, active);
  await until('the passive listener hears the open stream', () => passive.reasons.includes('connected'));
  await send();
  await until('both hear the event', () => passive.reasons.includes('event') && active.reasons.includes('event'), 2_000);
  expect(sseRequests).toBe(1);
});
