/**
 * Messages end to end through the local Platform: A sends N Mails, each with a small attachment
 * (1 KiB, uploaded first), to B; B receives them all: every message decrypted and verified, every
 * attachment downloaded and decrypted. Sequential, one message at a time, as a workflow loop does.
 *
 *   ours:      uploadFile + sendMessage; B: the trigger's poller (`seed`, then `poll` until all N
 *              arrived, the state JSON-round-tripped between polls as n8n stores it) + downloadFile
 *   transport: files.sendFile + messages.sendMessage (harness sendMail); B: syncEverything() until
 *              all N arrived (it decrypts each message and loads its attachments' metadata) +
 *              files.downloadFileContent. Without its datawallet (no sync of local changes), which
 *              spares transport the datawallet pushes; ours keeps its counters in the datawallet.
 *
 * Each side has its own pair of identities with one relationship, set up the same way, and one
 * warm-up message. The Platform's limit of unreceived messages per sender is raised for the bench
 * (see run.ts), so all N go out before B reads. Rounds alternate (ours, transport, ours, …) and the
 * best round of each side counts, which keeps other load on the machine out of the ratio.
 */
import { randomBytes } from 'node:crypto';
import { buildMail, downloadFile, sendMessage, uploadFile } from '../lib/protocol';
import { poll, seed, type TriggerState } from '../nodes/EnmeshedTrigger/poller';
import type { Message as TransportMessage } from '../test/interop/transport/harness';
import type { BenchPlatform } from './platform-host';
import { inOneDay, now, ourPair, transportPair } from './setup';

export interface MessagesResult {
  n: number;
  rounds: number;
  attachmentBytes: number;
  oursSendMs: number;
  oursReceiveMs: number;
  transportSendMs: number;
  transportReceiveMs: number;
  /** CPU of this process per phase (best round): the clients' own work when the Platform runs in a child process. */
  oursSendCpuMs: number;
  oursReceiveCpuMs: number;
  transportSendCpuMs: number;
  transportReceiveCpuMs: number;
  oursPolls: number;
  transportSyncs: number;
}

const ATTACHMENT_BYTES = 1024;

/** CPU time (user + system, ms) this process spent since `from`: with BENCH_PLATFORM=child, the client's alone. */
const cpuMs = (from?: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

interface Round {
  sendMs: number;
  receiveMs: number;
  sendCpuMs: number;
  receiveCpuMs: number;
  polls: number;
}

/** One round: N sends, then receiving them all, each phase timed on the clock and in this process' CPU. */
async function timed(n: number, send: (i: number) => Promise<unknown>, receive: (n: number) => Promise<number>): Promise<Round> {
  let t = now();
  let cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await send(i);
  const sendMs = now() - t;
  const sendCpuMs = cpuMs(cpu);
  t = now();
  cpu = process.cpuUsage();
  const polls = await receive(n);
  return { sendMs, receiveMs: now() - t, sendCpuMs, receiveCpuMs: cpuMs(cpu), polls };
}

async function oursSide(platform: BenchPlatform): Promise<(n: number) => Promise<Round>> {
  const { a, b } = await ourPair(platform.baseUrl);
  const options = { events: ['messageReceived' as const] };
  let state = JSON.stringify(await seed(b, options));
  const send = async (i: number): Promise<void> => {
    const file = await uploadFile(a, { content: randomBytes(ATTACHMENT_BYTES), filename: `note-${i}.txt`, mimetype: 'text/plain', expiresAt: inOneDay() });
    await sendMessage(a, {
      recipients: [b.address],
      content: buildMail({ to: [b.address], subject: `Message ${i}`, body: `Body of message ${i}` }),
      attachments: [file.reference],
    });
  };
  const receive = async (n: number): Promise<number> => {
    let received = 0;
    let polls = 0;
    while (received < n) {
      if (++polls > n + 5) throw new Error(`ours: only ${received} of ${n} messages arrived`);
      const result = await poll(b, JSON.parse(state) as TriggerState, options);
      for (const event of result.events) {
        if (!('message' in event)) throw new Error(`ours: ${'error' in event ? event.error?.message : 'unexpected event'}`);
        for (const attachment of event.message.attachments) {
          if ((await downloadFile(b, attachment)).content.length !== ATTACHMENT_BYTES) throw new Error('ours: attachment damaged');
        }
        received++;
      }
      state = JSON.stringify(result.state);
    }
    return polls;
  };
  await send(-1); // warm-up: one message through the whole path
  await receive(1);
  return (n) => timed(n, send, receive);
}

async function transportSide(platform: BenchPlatform): Promise<{ run: (n: number) => Promise<Round>; close: () => Promise<void> }> {
  const { a: ta, b: tb } = await transportPair(platform.baseUrl, 'msg');
  const send = (i: number): Promise<unknown> =>
    ta.sendMail(tb, {
      subject: `Message ${i}`,
      body: `Body of message ${i}`,
      attachments: [{ filename: `note-${i}.txt`, bytes: randomBytes(ATTACHMENT_BYTES), mimetype: 'text/plain' }],
    });
  const receive = async (n: number): Promise<number> => {
    const messages: TransportMessage[] = [];
    let syncs = 0;
    while (messages.length < n) {
      if (++syncs > n + 5) throw new Error(`transport: only ${messages.length} of ${n} messages arrived`);
      const changes = await tb.sync();
      for (const message of changes.messages) {
        for (const attachment of message.attachments) {
          if ((await tb.controller.files.downloadFileContent(attachment)).length !== ATTACHMENT_BYTES) throw new Error('transport: attachment damaged');
        }
        messages.push(message);
      }
    }
    return syncs;
  };
  await send(-1);
  await receive(1);
  return {
    run: (n) => timed(n, send, receive),
    close: async () => {
      await ta.close();
      await tb.close();
    },
  };
}

/** `rounds` alternating rounds (ours, then transport) of N messages each; the best round of each side counts. */
export async function benchMessages(platform: BenchPlatform, n: number, rounds: number): Promise<MessagesResult> {
  const ours = await oursSide(platform);
  const theirs = await transportSide(platform);
  const oursRounds: Round[] = [];
  const theirRounds: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    oursRounds.push(await ours(n));
    theirRounds.push(await theirs.run(n));
  }
  await theirs.close();
  // Each figure is its best round; the poll and sync counts are those of the last round.
  const best = (of: Round[], key: keyof Round): number => Math.min(...of.map((round) => round[key]));
  return {
    n,
    rounds,
    attachmentBytes: ATTACHMENT_BYTES,
    oursSendMs: best(oursRounds, 'sendMs'),
    oursReceiveMs: best(oursRounds, 'receiveMs'),
    transportSendMs: best(theirRounds, 'sendMs'),
    transportReceiveMs: best(theirRounds, 'receiveMs'),
    oursSendCpuMs: best(oursRounds, 'sendCpuMs'),
    oursReceiveCpuMs: best(oursRounds, 'receiveCpuMs'),
    transportSendCpuMs: best(theirRounds, 'sendCpuMs'),
    transportReceiveCpuMs: best(theirRounds, 'receiveCpuMs'),
    oursPolls: oursRounds[rounds - 1].polls,
    transportSyncs: theirRounds[rounds - 1].polls,
  };
}
