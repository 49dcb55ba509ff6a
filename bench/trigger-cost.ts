/**
 * What one trigger poll costs (nodes/EnmeshedTrigger/poller.ts), as requests and response bytes
 * counted by a pass-through proxy in front of the recipient's client, and in time (total, and the
 * part spent inside the Platform according to its X-Response-Duration-ms headers):
 *
 *   - a poll with nothing new,
 *   - a poll with 50 new messages (each opened: decrypted and verified),
 *
 * each with 1,000 and with 10,000 old messages in the recipient's list, to show that the work
 * follows the new messages, not the old ones. The one-time seed (first active poll) is shown too:
 * it reads the count, the newest message and the tail pages its look-back reaches.
 *
 * The old messages are filled in fast: the sender sends one real message, then posts copies of it
 * (the same encrypted body and key wrap, so each is a valid message the recipient could open)
 * through the Platform API, 1 request each, 8 at a time. The Platform clock moves 10 minutes after
 * every 100, so the mailbox looks filled over time (~17 h for 10,000) and only the newest batch is
 * inside the poller's 5-minute look-back window, as in a mailbox where messages do not arrive in
 * bursts of thousands. The 50 new messages are real sends, 10 minutes after the last old one.
 */
import { buildMail, sendMessage } from '../lib/protocol';
import { poll, seed, type PollOptions, type TriggerState } from '../nodes/EnmeshedTrigger/poller';
import { newParticipant } from '../test/helpers/participants';
import { startCountingProxy } from './counting-proxy';
import { startBenchPlatform } from './platform-host';
import { relate } from '../test/helpers/relate';
import { median, now } from './setup';

export interface PollCost {
  requests: number;
  responseBytes: number;
  ms: number;
  platformMs: number;
  events: number;
}

export interface TriggerCostCase {
  old: number;
  fillMs: number;
  seed: PollCost;
  nothingNew: PollCost;
  fiftyNew: PollCost;
}

const TEN_MINUTES = 10 * 60_000;
const NEW = 50;

async function measure(fn: () => Promise<number>, counter: Awaited<ReturnType<typeof startCountingProxy>>, runs: number): Promise<PollCost> {
  const samples: PollCost[] = [];
  for (let i = 0; i < runs; i++) {
    counter.reset();
    const t = now();
    const events = await fn();
    const ms = now() - t;
    const c = counter.counts();
    samples.push({ requests: c.requests, responseBytes: c.responseBytes, ms, platformMs: c.platformMs, events });
  }
  // Counts of the first run (the real one; repeats only steady the time), median time.
  return { ...samples[0], ms: median(samples.map((s) => s.ms)), platformMs: median(samples.map((s) => s.platformMs)) };
}

async function oneCase(old: number, runs: number): Promise<TriggerCostCase> {
  const platform = await startBenchPlatform({ maxUnreceivedMessages: 1_000_000 });
  const proxy = await startCountingProxy(platform.baseUrl);
  try {
    const sender = await newParticipant(platform.baseUrl);
    const recipient = await newParticipant(proxy.baseUrl); // every request of the recipient is counted
    await relate(sender, recipient);
    const options: PollOptions = { events: ['messageReceived'] };

    // Fill the mailbox with `old` messages.
    const t = now();
    const first = await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject: 'old', body: 'old message' }) });
    const dto = await sender.client.getMessage(first.id);
    const copy = { recipients: [{ address: recipient.address, encryptedKey: dto.recipients[0].encryptedKey }], body: dto.body, attachments: [] };
    for (let sent = 1; sent < old; ) {
      const batch = Math.min(100 - (sent % 100), old - sent);
      const parallel = 8;
      for (let i = 0; i < batch; i += parallel) {
        await Promise.all(Array.from({ length: Math.min(parallel, batch - i) }, () => sender.client.sendMessage(copy)));
      }
      sent += batch;
      if (sent % 100 === 0) await platform.advanceClock(TEN_MINUTES);
    }
    const fillMs = now() - t;

    // Seed (first active poll) and polls with nothing new, each from the stored state.
    let saved = '';
    const seedCost = await measure(
      async () => {
        saved = JSON.stringify(await seed(recipient, options));
        return 0;
      },
      proxy,
      1,
    );
    const nothingNew = await measure(async () => (await poll(recipient, JSON.parse(saved) as TriggerState, options)).events.length, proxy, runs);

    // 50 new messages, 10 minutes after the old ones.
    await platform.advanceClock(TEN_MINUTES);
    for (let i = 0; i < NEW; i++) {
      await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject: `new ${i}`, body: 'new message' }) });
    }
    const fiftyNew = await measure(async () => (await poll(recipient, JSON.parse(saved) as TriggerState, options)).events.length, proxy, runs);
    if (fiftyNew.events !== NEW) throw new Error(`trigger: expected ${NEW} events, got ${fiftyNew.events}`);
    return { old, fillMs, seed: seedCost, nothingNew, fiftyNew };
  } finally {
    await proxy.close();
    await platform.close();
  }
}

export async function benchTriggerCost(quick: boolean): Promise<TriggerCostCase[]> {
  const runs = quick ? 2 : 5;
  return [await oneCase(1_000, runs), await oneCase(quick ? 3_000 : 10_000, runs)];
}
