/**
 * A stand-in for one n8n queue-mode worker: a separate Node process that knows nothing but the
 * credential (platformUrl, clientId, clientSecret, identity) and sends messages to one recipient —
 * or, with `mode: 'sync'`, runs `count` sync runs one after the other, as a worker running the trigger does.
 *
 *   node -r ts-node/register/transpile-only test/helpers/sender-worker.ts
 *
 * Input: the JSON of `SenderWorkerConfig` in the environment variable SENDER_WORKER_CONFIG (not on
 * the command line: the credential holds secrets). Output: one JSON object per line on stdout
 * (`SenderWorkerLine`): `sent` after every message the Platform acknowledged (`synced` after every
 * sync run), `done` with the participant's statistics, or `error`. The process exits by itself: 0 when all messages went out,
 * 1 on an error, 2 when the deadline passed first. With `waitForGo` it sends only after reading a
 * line `go` on stdin.
 */
import { openParticipant, isProtocolError, sendMessage, sync, syncRegistry, type ParticipantCredential } from '../../lib/protocol';
import { isPlatformError } from '../../lib/backbone';

export interface SenderWorkerConfig {
  /** 'send' (default) or 'sync': sync runs instead of sends. */
  mode?: 'send' | 'sync';
  credential: ParticipantCredential;
  recipient: string;
  /** Messages to send. */
  count: number;
  /** Sends in flight at the same time inside this process. */
  concurrency: number;
  /** Written into every message's content, to tell the workers apart. */
  tag: string;
  /** Counter block size (default: the library's). */
  counterBlockSize?: number;
  /** Give up after this long (ms). */
  deadlineMs: number;
  /** Pause between two sends of one lane (ms), to stretch a run out (default 0). */
  pauseMs?: number;
  /** Wait for a line `go` on stdin after `ready` (so that several workers start sending together). */
  waitForGo?: boolean;
}

export type SenderWorkerLine =
  | { type: 'ready'; pid: number }
  | { type: 'sent'; tag: string; i: number; id: string; attempts: number }
  | { type: 'synced'; tag: string; events: number; newRelationships: number; changedRelationships: number; busy: boolean }
  | {
      type: 'done';
      tag: string;
      sent: number;
      /** Sends refused because the recipient's inbox was full (protocol.message.inboxFull), and repeated. */
      unreceivedRetries: number;
      store: { pushes: number; conflicts: number; lockWaits: number };
      counters: { handedOut: number; blocksReserved: number };
      /** From the first send (after `go`) to the last. */
      ms: number;
    }
  | { type: 'error'; tag: string; message: string; code?: string };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves on a line `go` on stdin; rejects at the deadline or when stdin closes first. */
function go(deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('no "go" before the deadline')), Math.max(0, deadline - Date.now()));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      process.stdin.pause();
      process.stdin.removeAllListeners('data');
      if (error) reject(error);
      else resolve();
    };
    process.stdin.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (text.split('\n').includes('go')) finish();
    });
    process.stdin.once('end', () => finish(new Error('stdin closed before "go"')));
  });
}

function emit(line: SenderWorkerLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<number> {
  const raw = process.env.SENDER_WORKER_CONFIG;
  if (!raw) throw new Error('SENDER_WORKER_CONFIG is not set');
  const config = JSON.parse(raw) as SenderWorkerConfig;
  const started = Date.now();
  const deadline = started + config.deadlineMs;
  const participant = await openParticipant(config.credential, config.counterBlockSize ? { counterBlockSize: config.counterBlockSize } : {});
  emit({ type: 'ready', pid: process.pid });
  if (config.waitForGo) await go(deadline);
  const sending = Date.now();

  let next = 0;
  let sent = 0;
  let unreceivedRetries = 0;
  let timedOut = false;

  const syncs = async (): Promise<void> => {
    for (let i = 0; i < config.count && Date.now() <= deadline; i++) {
      await syncRegistry(participant);
      const last = await sync(participant); // a second run right away: the first one may have met another's
      emit({
        type: 'synced',
        tag: config.tag,
        events: last.events.length,
        newRelationships: last.newRelationships.length,
        changedRelationships: last.changedRelationships.length,
        busy: last.busy,
      });
      if (config.pauseMs) await sleep(config.pauseMs);
    }
  };

  const lane = async (): Promise<void> => {
    while (next < config.count) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        try {
          const message = await sendMessage(participant, {
            recipients: [config.recipient],
            content: { '@type': 'ArbitraryMessageContent', value: { tag: config.tag, i } },
          });
          sent++;
          emit({ type: 'sent', tag: config.tag, i, id: message.id, attempts: attempt });
          break;
        } catch (error) {
          // The recipient has not fetched enough yet: the Platform refuses (before storing anything).
          // The counter reserved for this attempt is burnt, never reused.
          if (isProtocolError(error, 'protocol.message.inboxFull')) {
            unreceivedRetries++;
            await sleep(20 + Math.random() * 40);
            continue;
          }
          throw error;
        }
      }
      if (config.pauseMs) await sleep(config.pauseMs);
    }
  };

  if (config.mode === 'sync') await syncs();
  else await Promise.all(Array.from({ length: config.concurrency }, () => lane()));
  emit({
    type: 'done',
    tag: config.tag,
    sent,
    unreceivedRetries,
    store: { ...participant.store.stats },
    counters: { ...participant.counters.stats },
    ms: Date.now() - sending,
  });
  return timedOut ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const tag = (() => {
      try {
        return (JSON.parse(process.env.SENDER_WORKER_CONFIG ?? '{}') as { tag?: string }).tag ?? '?';
      } catch {
        return '?';
      }
    })();
    emit({
      type: 'error',
      tag,
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      code: isProtocolError(error) || isPlatformError(error) ? (error as { code: string }).code : undefined,
    });
    process.exitCode = 1;
  },
);
