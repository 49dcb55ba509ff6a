/**
 * Runs in a fresh process: the first node-style call (what an Enmeshed node does for "Message →
 * Send": libsodium init, open the participant for the credential, then the operation, which logs
 * in, reads the datawallet, derives the relationship keys, reserves counters and sends) against the
 * same call once the process is warm. Prints one JSON line.
 *
 *   cold-probe.ts <credential JSON> <peer address> <warm runs>
 */
import type { RequestEvent } from '../lib/backbone';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const [credentialText, peer, runsText] = process.argv.slice(2);
  const startedAt = now();
  const bootMs = process.uptime() * 1000; // node start + ts-node register, until this module runs

  let t = now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require('../lib/protocol') as typeof import('../lib/protocol');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cryptoReady } = require('../lib/crypto') as typeof import('../lib/crypto');
  const loadMs = now() - t;

  const credential = JSON.parse(credentialText) as import('../lib/protocol').ParticipantCredential;
  const events: (RequestEvent & { at: number })[] = [];
  const http = { onRequest: (e: RequestEvent) => events.push({ ...e, at: now() }) };

  const call = async (i: number): Promise<{ ms: number; sodiumMs: number; openMs: number; sendMs: number; requests: number }> => {
    const before = events.length;
    const t0 = now();
    await cryptoReady();
    const t1 = now();
    const participant = await lib.openParticipant(credential, { http });
    const t2 = now();
    await lib.sendMessage(participant, { recipients: [peer], content: lib.buildMail({ to: [peer], subject: `cold start ${i}`, body: 'hello' }) });
    const t3 = now();
    return { ms: t3 - t0, sodiumMs: t1 - t0, openMs: t2 - t1, sendMs: t3 - t2, requests: events.length - before };
  };

  t = now();
  const first = await call(0);
  const firstRequests = events.map((e) => `${e.method} ${e.path.replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}')} ${e.ms}ms`);
  const firstWallMs = now() - t;

  const warm: number[] = [];
  let warmRequests = 0;
  for (let i = 1; i <= Number(runsText || 10); i++) {
    const r = await call(i);
    warm.push(r.ms);
    warmRequests = r.requests;
  }
  warm.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      bootMs,
      loadMs,
      first: { ...first, wallMs: firstWallMs, requestLog: firstRequests },
      warmMs: warm[Math.floor(warm.length / 2)],
      warmRequests,
      sinceModuleStartMs: now() - startedAt,
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
