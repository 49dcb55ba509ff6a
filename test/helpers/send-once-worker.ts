/**
 * A stand-in for an n8n worker that runs Message → Send with an idempotency key and can be killed
 * at any moment: a separate Node process that knows only the credential.
 *
 *   node -r ts-node/register/transpile-only test/helpers/send-once-worker.ts
 *
 * Input: the JSON of `SendOnceWorkerConfig` in SEND_ONCE_WORKER_CONFIG (the credential holds
 * secrets, so not on the command line). Output: one JSON line, `SendOnceWorkerLine`, then exit 0
 * (1 on an error).
 */
import { buildMail, openParticipant, sendOnce, type ParticipantCredential } from '../../lib/protocol';

export interface SendOnceWorkerConfig {
  credential: ParticipantCredential;
  recipient: string;
  idempotencyKey: string;
  subject: string;
}

export type SendOnceWorkerLine = { type: 'sent'; id: string; alreadySent: boolean } | { type: 'error'; message: string };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.SEND_ONCE_WORKER_CONFIG ?? '{}') as SendOnceWorkerConfig;
  const participant = await openParticipant(config.credential, { shared: false, http: { timeoutMs: 60_000 } });
  const { message, alreadySent } = await sendOnce(participant, config.idempotencyKey, {
    recipients: [config.recipient],
    content: buildMail({ to: [config.recipient], subject: config.subject, body: 'once' }),
  });
  process.stdout.write(`${JSON.stringify({ type: 'sent', id: message.id, alreadySent } satisfies SendOnceWorkerLine)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies SendOnceWorkerLine)}\n`);
    process.exit(1);
  },
);
