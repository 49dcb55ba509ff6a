import { sendMessage } from '../../lib/protocol';
import { poll, seed, type PollOptions, type TriggerEvent, type TriggerState } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform } from '../../platform/server';
import { newParticipant } from './participants';
import { relate } from './relate';

/**
 * A message trigger through a simulated stretch of time: a peer sends `messages` messages spread
 * evenly over `spanMs` of the local Platform's clock (which is moved forward; the sender's clock
 * follows it), and the trigger polls after each one, as n8n polls every minute — the node's poll
 * (seed on activation, then poll; the cursor goes into static data as `cursor` and is stored as
 * JSON). Samples: the size of that static data. Plain poller calls, so the bench can run it too.
 */

export interface TriggerWeekSample {
  /** Messages sent so far. */
  sent: number;
  /** Bytes of JSON.stringify(static data). */
  bytes: number;
  seen: number;
  recent: number;
}

export interface TriggerWeekResult {
  samples: TriggerWeekSample[];
  emitted: number;
  errors: number;
  duplicates: number;
  ms: number;
}

export async function simulateTriggerWeek(week: { messages: number; spanMs: number; sampleEvery?: number; onSample?: (sample: TriggerWeekSample) => void }): Promise<TriggerWeekResult> {
  const started = Date.now();
  const platform = await startPlatform({ maxUnreceivedMessages: 1_000_000 });
  let offset = 0;
  try {
    const org = await newParticipant(platform.baseUrl);
    const peer = await newParticipant(platform.baseUrl, { now: () => new Date(Date.now() + offset) });
    await relate(org, peer);
    const options: PollOptions = { events: ['messageReceived'] };
    // n8n stores static data as JSON: what the next poll gets is what survived the round trip.
    let staticData = JSON.stringify({ cursor: await seed(org, options) });
    const run = async (): Promise<TriggerEvent[]> => {
      const result = await poll(org, (JSON.parse(staticData) as { cursor: TriggerState }).cursor, options);
      staticData = JSON.stringify({ cursor: result.state });
      return result.events;
    };
    const step = Math.round(week.spanMs / week.messages);
    const sampleEvery = week.sampleEvery ?? 1;
    const samples: TriggerWeekSample[] = [];
    const ids = new Set<string>();
    let emitted = 0;
    let errors = 0;
    let duplicates = 0;
    for (let i = 1; i <= week.messages; i++) {
      platform.advanceClock(step);
      offset += step;
      await sendMessage(peer, { recipients: [org.address], content: { '@type': 'ArbitraryMessageContent', value: i } });
      for (const event of await run()) {
        const id = 'message' in event ? event.message.id : 'dto' in event ? event.dto.id : '';
        if ('error' in event) errors++;
        else emitted++;
        if (ids.has(id)) duplicates++;
        ids.add(id);
      }
      if (i % sampleEvery === 0 || i === week.messages) {
        const cursor = (JSON.parse(staticData) as { cursor: TriggerState }).cursor.messages!;
        const sample = { sent: i, bytes: Buffer.byteLength(staticData), seen: cursor.seen.length, recent: cursor.recent?.length ?? 0 };
        samples.push(sample);
        week.onSample?.(sample);
      }
    }
    return { samples, emitted, errors, duplicates, ms: Date.now() - started };
  } finally {
    await platform.close();
  }
}
