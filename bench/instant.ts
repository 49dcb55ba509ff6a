/**
 * Instant vs polling trigger, in one run against one local Platform:
 *
 *   - latency from Send to the trigger emitting, for `messages` messages sent one by one at random
 *     moments spread over `spreadMs`: the instant trigger (lib/protocol/instant.ts: the event stream,
 *     then a poll from its cursor) and the polling trigger (a poll every 60 s, n8n's most frequent
 *     schedule), both on the recipient identity with cursors of their own, both running poller.ts's
 *     poll; every message must come out of each exactly once. Latency = emit − start of the send call.
 *   - requests and response body bytes with nothing happening, through a counting proxy: one instant
 *     stream held idle for `idleMs` (keep-alives only; the Platform sends one every `keepAliveMs`,
 *     scaled to the Backbone's 240 s for the hourly figure), and one idle poll (× 60 per hour). Connecting
 *     (the stream request plus its catch-up poll) is shown apart: it happens once per connection.
 */
import { buildMail, openParticipant, runInstant, sendMessage, type InstantRun } from '../lib/protocol';
import type { StreamState } from '../lib/backbone';
import { poll, seed, type PollOptions, type TriggerEvent, type TriggerState } from '../nodes/EnmeshedTrigger/poller';
import { newParticipant } from '../test/helpers/participants';
import { relate } from '../test/helpers/relate';
import { startCountingProxy } from './counting-proxy';
import { startBenchPlatform } from './platform-host';
import { now } from './setup';
import { until } from '../scripts/lib/wait';

export interface Latency {
  p50: number;
  p95: number;
  max: number;
}

export interface InstantBench {
  messages: number;
  spreadMs: number;
  pollIntervalMs: number;
  instant: Latency;
  polling: Latency;
  exactlyOnce: boolean;
  idle: {
    windowMs: number;
    keepAliveMs: number;
    /** Over the idle window: the held stream. */
    streamRequests: number;
    streamBytes: number;
    /** Connecting once: the stream request and the catch-up poll after ConnectionOpened. */
    connectRequests: number;
    connectBytes: number;
    /** One poll with nothing new. */
    pollRequests: number;
    pollBytes: number;
    /** Per hour, nothing happening: the instant stream at the Backbone's 240 s keep-alive, and 60 polls. */
    instantPerHour: { requests: number; bytes: number };
    pollingPerHour: { requests: number; bytes: number };
  };
}

const POLL_INTERVAL_MS = 60_000;
const BACKBONE_KEEP_ALIVE_MS = 240_000;
const KEEP_ALIVE_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
}

const idsOf = (events: TriggerEvent[]): string[] => events.flatMap((e) => ('message' in e ? [e.message.id] : 'dto' in e ? [e.dto.id] : []));


export async function benchInstant(quick: boolean): Promise<InstantBench> {
  const messages = 100;
  const spreadMs = quick ? 60_000 : 120_000;
  const idleMs = quick ? 10_000 : 20_000;
  const options: PollOptions = { events: ['messageReceived'] };
  const platform = await startBenchPlatform({ maxUnreceivedMessages: 1_000_000, sseKeepAliveMs: KEEP_ALIVE_MS });
  const runs: InstantRun[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const sender = await newParticipant(platform.baseUrl);
    const recipient = await newParticipant(platform.baseUrl);
    await relate(sender, recipient);
    // The polling trigger as another workflow (its own Participant object, its own cursor).
    const polled = await openParticipant(recipient.credential, { shared: false });

    const emitted = { instant: new Map<string, number[]>(), polling: new Map<string, number[]>() };
    const record = (side: keyof typeof emitted, events: TriggerEvent[]) => {
      const t = now();
      for (const id of idsOf(events)) emitted[side].set(id, [...(emitted[side].get(id) ?? []), t]);
    };

    let instantState: TriggerState = await seed(recipient, options);
    let open = false;
    runs.push(
      runInstant(
        recipient,
        {
          poll: async () => {
            const result = await poll(recipient, instantState, options);
            instantState = result.state;
            record('instant', result.events);
            return false;
          },
          stateChanged: (state: StreamState) => {
            open = state.kind === 'open';
          },
        },
        { fallbackPollMs: POLL_INTERVAL_MS, keepAliveMs: KEEP_ALIVE_MS, lingerMs: 0 },
      ),
    );
    await until('the event stream', () => open, 10_000);

    let pollingState: TriggerState = await seed(polled, options);
    let polling = false;
    timer = setInterval(() => {
      if (polling) return; // n8n does not prevent overlaps; a poll here takes milliseconds anyway
      polling = true;
      poll(polled, pollingState, options)
        .then((result) => {
          pollingState = result.state;
          record('polling', result.events);
        })
        .finally(() => (polling = false));
    }, POLL_INTERVAL_MS);

    // Send at random moments over the spread, one at a time.
    const offsets = Array.from({ length: messages }, () => Math.random() * spreadMs).sort((a, b) => a - b);
    const sentAt = new Map<string, number>();
    const start = now();
    for (const offset of offsets) {
      const wait = start + offset - now();
      if (wait > 0) await sleep(wait);
      const t = now();
      const { id } = await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject: 'bench', body: 'instant or not' }) });
      sentAt.set(id, t);
    }
    await until('both triggers', () => emitted.instant.size === messages && emitted.polling.size === messages, 2 * POLL_INTERVAL_MS + 30_000);
    clearInterval(timer);
    timer = undefined;
    await sleep(500);
    const exactlyOnce = (['instant', 'polling'] as const).every(
      (side) => emitted[side].size === messages && [...emitted[side].entries()].every(([id, times]) => times.length === 1 && sentAt.has(id)),
    );
    const latencies = (side: keyof typeof emitted) => [...sentAt.entries()].map(([id, t]) => emitted[side].get(id)![0] - t);
    const instant = latency(latencies('instant'));
    const pollingLatency = latency(latencies('polling'));
    for (const run of runs.splice(0)) run.close();
    await sleep(500); // the SseServer handles the end of that stream before the next one of the identity opens

    // Idle cost, counted through a proxy: the same identity, another Participant object reaching the Platform through it.
    const proxy = await startCountingProxy(platform.baseUrl);
    try {
      const counted = await openParticipant({ ...recipient.credential, platformUrl: proxy.baseUrl }, { shared: false });
      let idleState = await seed(counted, options);
      await counted.client.messagesPage(1, 1); // logged in before counting
      proxy.reset();
      let catchUps = 0;
      let idleOpen = false;
      runs.push(
        runInstant(
          counted,
          {
            poll: async () => {
              idleState = (await poll(counted, idleState, options)).state;
              catchUps++;
              return false;
            },
            stateChanged: (state: StreamState) => {
              idleOpen = state.kind === 'open';
            },
          },
          { fallbackPollMs: POLL_INTERVAL_MS, keepAliveMs: KEEP_ALIVE_MS, lingerMs: 0 },
        ),
      );
      await until('the idle stream and its catch-up poll', () => idleOpen && catchUps === 1, 10_000);
      const connect = proxy.counts();
      const connectRequests = connect.requests;
      const connectBytes = connect.responseBytes;
      proxy.reset();
      await sleep(idleMs);
      const stream = proxy.counts();
      const streamRequests = stream.requests;
      const streamBytes = stream.responseBytes;
      for (const run of runs.splice(0)) run.close();

      proxy.reset();
      idleState = (await poll(counted, idleState, options)).state;
      const one = proxy.counts();
      const pollRequests = one.requests;
      const pollBytes = one.responseBytes;

      const hour = 3_600_000;
      return {
        messages,
        spreadMs,
        pollIntervalMs: POLL_INTERVAL_MS,
        instant,
        polling: pollingLatency,
        exactlyOnce,
        idle: {
          windowMs: idleMs,
          keepAliveMs: KEEP_ALIVE_MS,
          streamRequests,
          streamBytes,
          connectRequests,
          connectBytes,
          pollRequests,
          pollBytes,
          instantPerHour: {
            requests: Math.round((streamRequests * hour) / idleMs),
            bytes: Math.round(((streamBytes * KEEP_ALIVE_MS) / BACKBONE_KEEP_ALIVE_MS) * (hour / idleMs)),
          },
          pollingPerHour: { requests: pollRequests * (hour / POLL_INTERVAL_MS), bytes: pollBytes * (hour / POLL_INTERVAL_MS) },
        },
      };
    } finally {
      await proxy.close();
    }
  } finally {
    clearInterval(timer);
    for (const run of runs) run.close();
    await platform.close();
  }
}

/** Runs the benchmark, prints its table, and adds its figures and target to the bench summary. */
export async function reportInstant(quick: boolean, summary: Record<string, unknown>, targets: Record<string, boolean>): Promise<void> {
  const r = await benchInstant(quick);
  const row = (name: string, l: Latency) => `  ${name.padEnd(8)} ${l.p50.toFixed(0).padStart(8)} ${l.p95.toFixed(0).padStart(8)} ${l.max.toFixed(0).padStart(8)}`;
  console.log(`\nTrigger latency: Send → trigger emits, ${r.messages} messages at random moments over ${r.spreadMs / 1000} s, both triggers on the same identity and Platform`);
  console.log(`(polling: a poll every ${r.pollIntervalMs / 1000} s, n8n's shortest schedule; every message emitted exactly once by each: ${r.exactlyOnce})`);
  console.log('  trigger    p50 ms   p95 ms   max ms');
  console.log(row('instant', r.instant));
  console.log(row('polling', r.polling));
  const i = r.idle;
  console.log(`\nNothing happening (response body bytes through a counting proxy; the local Platform sends a keep-alive every ${i.keepAliveMs / 1000} s, the Backbone every 240 s)`);
  console.log(`  instant: ${i.streamRequests} requests and ${i.streamBytes} B in ${i.windowMs / 1000} s held idle → per hour at 240 s: ${i.instantPerHour.requests} requests, ${i.instantPerHour.bytes} B`);
  console.log(`           once per connection: ${i.connectRequests} requests, ${i.connectBytes} B (the stream request and its catch-up poll)`);
  console.log(`  polling: ${i.pollRequests} request(s) and ${i.pollBytes} B per poll → per hour: ${i.pollingPerHour.requests} requests, ${i.pollingPerHour.bytes} B`);
  summary.instant_messages = r.messages;
  summary.instant_latency_p50_ms = Math.round(r.instant.p50);
  summary.instant_latency_p95_ms = Math.round(r.instant.p95);
  summary.instant_latency_max_ms = Math.round(r.instant.max);
  summary.polling_latency_p50_ms = Math.round(r.polling.p50);
  summary.polling_latency_p95_ms = Math.round(r.polling.p95);
  summary.polling_latency_max_ms = Math.round(r.polling.max);
  summary.instant_and_polling_exactly_once = r.exactlyOnce;
  summary.idle_instant_requests_per_hour = i.instantPerHour.requests;
  summary.idle_instant_bytes_per_hour = i.instantPerHour.bytes;
  summary.idle_instant_connect_requests = i.connectRequests;
  summary.idle_instant_connect_bytes = i.connectBytes;
  summary.idle_polling_requests_per_hour = i.pollingPerHour.requests;
  summary.idle_polling_bytes_per_hour = i.pollingPerHour.bytes;
  targets.instant_trigger_p95_at_most_1_s = r.instant.p95 <= 1_000 && r.exactlyOnce;
}
