import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { sendMessage } from '../../lib/protocol';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import type { TriggerState } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform } from '../../platform/server';
import { pollContext } from '../nodes/context';
import { newParticipant } from './participants';
import { relate } from './relate';

/**
 * A message trigger through a simulated stretch of time: a peer sends `messages` messages spread
 * evenly over `spanMs` of the local Platform's clock (which is moved forward; the sender's clock
 * follows it), and the Enmeshed Trigger node polls after each one, as n8n polls every minute. After
 * every poll `sample` gets the size of the node's static data (JSON bytes, as n8n stores it).
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

export async function simulateTriggerWeek(options: { messages: number; spanMs: number; sampleEvery?: number }): Promise<TriggerWeekResult> {
  const started = Date.now();
  const platform = await startPlatform({ maxUnreceivedMessages: 1_000_000 });
  let offset = 0;
  try {
    const org = await newParticipant(platform.baseUrl);
    const peer = await newParticipant(platform.baseUrl, { now: () => new Date(Date.now() + offset) });
    await relate(org, peer);
    const staticData: IDataObject = {};
    const run = async (): Promise<INodeExecutionData[]> => {
      const ctx = pollContext({ parameters: { events: ['messageReceived'] }, credentials: { ...org.credential }, mode: 'trigger', staticData });
      const out = await new EnmeshedTrigger().poll.call(ctx);
      // n8n stores static data as JSON: what the next poll gets is what survived the round trip.
      const saved = JSON.parse(JSON.stringify(staticData)) as IDataObject;
      for (const key of Object.keys(staticData)) delete staticData[key];
      Object.assign(staticData, saved);
      return out?.[0] ?? [];
    };
    await run(); // activation: seeds
    const step = Math.round(options.spanMs / options.messages);
    const sampleEvery = options.sampleEvery ?? 1;
    const samples: TriggerWeekSample[] = [];
    const ids = new Set<string>();
    let emitted = 0;
    let errors = 0;
    let duplicates = 0;
    for (let i = 1; i <= options.messages; i++) {
      platform.advanceClock(step);
      offset += step;
      await sendMessage(peer, { recipients: [org.address], content: { '@type': 'ArbitraryMessageContent', value: i } });
      for (const item of await run()) {
        if (item.json.error) errors++;
        else emitted++;
        if (ids.has(String(item.json.id))) duplicates++;
        ids.add(String(item.json.id));
      }
      if (i % sampleEvery === 0 || i === options.messages) {
        const cursor = (staticData.cursor as unknown as TriggerState).messages!;
        samples.push({ sent: i, bytes: JSON.stringify(staticData).length, seen: cursor.seen.length, recent: cursor.recent?.length ?? 0 });
      }
    }
    return { samples, emitted, errors, duplicates, ms: Date.now() - started };
  } finally {
    await platform.close();
  }
}
