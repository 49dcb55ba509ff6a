/**
 * Message → Send with an idempotency key sends at most once across crashes and retries. A sender
 * process (test/helpers/send-once-worker.ts) talks to the local Platform through the fault proxy and
 * is killed (SIGKILL) in each window of a send; then another process — the node v2, or lib — retries
 * with the same key, and the recipient must hold exactly one such message:
 *
 *   - between the POST and its answer (the Platform stored the message, the sender never heard):
 *     the retry returns that message with alreadySent: true;
 *   - after the answer, before the sender recorded it: the same;
 *   - before the POST (claimed, nothing sent): the retry sends, once the lease of the cut-off
 *     attempt has passed — one message.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { buildMail, getMessage, openParticipant, sendMessage, sendOnce, type Participant } from '../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { startProxy, type Fault, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';
import type { SendOnceWorkerConfig, SendOnceWorkerLine } from '../helpers/send-once-worker';
import { rl } from '../nodes/context';
import { runNode } from '../nodes/helpers';

const ROOT = resolve(__dirname, '../..');
jest.setTimeout(120_000);

let platform: PlatformHandle;
let proxy: TestProxy;
let sender: Awaited<ReturnType<typeof newParticipant>>;
let recipient: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  sender = await newParticipant(platform.baseUrl);
  recipient = await newParticipant(platform.baseUrl);
  await relate(sender, recipient);
  // Warm the datawallet (registry, a counter block) so the worker's requests are the send's own.
  await sendMessage(sender, { recipients: [recipient.address], content: buildMail({ to: [recipient.address], subject: 'warm', body: '' }) });
  proxy = await startProxy(platform.baseUrl);
});
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

/** Messages from the sender with this subject, as the recipient sees them. */
async function delivered(subject: string): Promise<string[]> {
  const ids: string[] = [];
  for (const dto of await recipient.client.all(recipient.client.messages())) {
    if (dto.createdBy !== sender.address) continue;
    if ((((await getMessage(recipient, dto.id)).content as { subject?: string }).subject) === subject) ids.push(dto.id);
  }
  return ids;
}

interface KilledRun {
  /** SIGKILLs the worker. */
  kill(): void;
  done: Promise<{ signal: NodeJS.Signals | null; lines: SendOnceWorkerLine[] }>;
}

/**
 * Starts the worker through the proxy. `decide` sees each request as it reaches the proxy and returns
 * the fault to inject and whether to kill the worker right then (while that request is held).
 */
function startWorker(idempotencyKey: string, subject: string, decide: (method: string, path: string, run: KilledRun) => Fault | undefined): KilledRun {
  const config: SendOnceWorkerConfig = { credential: { ...sender.credential, platformUrl: proxy.baseUrl }, recipient: recipient.address, idempotencyKey, subject };
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/helpers/send-once-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, SEND_ONCE_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const done = new Promise<{ signal: NodeJS.Signals | null; lines: SendOnceWorkerLine[] }>((resolveDone) =>
    child.on('exit', (_code, signal) => {
      proxy.setDecide(undefined);
      resolveDone({ signal, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SendOnceWorkerLine) });
    }),
  );
  const run: KilledRun = { kill: () => child.kill('SIGKILL'), done };
  proxy.setDecide((r) => decide(r.method, r.path, run));
  return run;
}

const isPost = (method: string, path: string, pattern: RegExp) => method === 'POST' && pattern.test(path);
const MESSAGES = /^\/api\/v2\/Messages$/;
const PUSH = /^\/api\/v2\/Datawallet\/Modifications$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const retryWithNode = (subject: string, idempotencyKey: string) =>
  runNode({
    credentials: { ...sender.credential },
    version: 2,
    parameters: { resource: 'message', operation: 'send', to: rl('address', recipient.address), subject, body: 'once', options: { idempotencyKey } },
  });

test('killed between the POST and its answer: the retry (node v2, another process) returns the message with alreadySent: true', async () => {
  const subject = 'order 1001';
  const run = startWorker('order-1001', subject, (method, path) =>
    // forwarded, so the Platform stores the message; the answer is held back
    isPost(method, path, MESSAGES) ? { kind: 'delay', ms: 60_000 } : undefined,
  );
  // kill once the Platform has the message: the worker is still waiting for the answer
  const deadline = Date.now() + 60_000;
  while ((await delivered(subject)).length === 0 && Date.now() < deadline) await sleep(100);
  run.kill();
  const { signal, lines } = await run.done;
  expect(signal).toBe('SIGKILL');
  expect(lines).toEqual([]);
  const sent = await delivered(subject);
  expect(sent).toHaveLength(1);

  const retry = await retryWithNode(subject, 'order-1001');
  expect(retry).toHaveLength(1);
  expect(retry[0].json).toMatchObject({ id: sent[0], alreadySent: true, subject });
  // and again: the record now says sent
  expect((await retryWithNode(subject, 'order-1001'))[0].json).toMatchObject({ id: sent[0], alreadySent: true });
  expect(await delivered(subject)).toEqual(sent);
});

test('killed after the answer, before recording it: the retry returns the message with alreadySent: true', async () => {
  const subject = 'order 1002';
  let posted = false;
  const run = startWorker('order-1002', subject, (method, path, self) => {
    if (isPost(method, path, MESSAGES)) posted = true;
    else if (posted && isPost(method, path, PUSH)) {
      self.kill(); // the push that would record "sent" never arrives
      return { kind: 'drop' };
    }
    return undefined;
  });
  const { signal } = await run.done;
  expect(signal).toBe('SIGKILL');
  const sent = await delivered(subject);
  expect(sent).toHaveLength(1);
  expect((await retryWithNode(subject, 'order-1002'))[0].json).toMatchObject({ id: sent[0], alreadySent: true });
  expect(await delivered(subject)).toEqual(sent);
});

test('killed after claiming, before the POST: nothing was sent, so the retry sends — once — after the lease', async () => {
  const subject = 'order 1003';
  const run = startWorker('order-1003', subject, (method, path, self) => {
    if (!isPost(method, path, MESSAGES)) return undefined;
    self.kill();
    return { kind: 'drop' }; // never forwarded
  });
  expect((await run.done).signal).toBe('SIGKILL');
  expect(await delivered(subject)).toEqual([]);

  const content = buildMail({ to: [recipient.address], subject, body: 'once' });
  // within the lease the cut-off attempt may still be under way elsewhere: a clear error, nothing sent
  await expect(sendOnce(sender, 'order-1003', { recipients: [recipient.address], content }, { leaseMs: 60_000, maxWaitMs: 500 })).rejects.toMatchObject({
    code: 'protocol.send.inProgress',
  });
  expect(await delivered(subject)).toEqual([]);
  const retried = await sendOnce(sender, 'order-1003', { recipients: [recipient.address], content }, { leaseMs: 1_000 });
  expect(retried.alreadySent).toBe(false);
  expect(await delivered(subject)).toEqual([retried.message.id]);
  const again = await sendOnce(sender, 'order-1003', { recipients: [recipient.address], content }, { leaseMs: 1_000 });
  expect(again).toMatchObject({ alreadySent: true, message: { id: retried.message.id } });
});

test('workers racing with the same key: one message, every worker returns it', async () => {
  const subject = 'order 1004';
  const content = buildMail({ to: [recipient.address], subject, body: 'once' });
  const workers = await Promise.all([0, 1, 2].map(() => openParticipant(sender.credential, { shared: false })));
  const results = await Promise.all(workers.map((w) => sendOnce(w, 'order-1004', { recipients: [recipient.address], content })));
  const ids = new Set(results.map((r) => r.message.id));
  expect(ids.size).toBe(1);
  expect(results.filter((r) => !r.alreadySent)).toHaveLength(1);
  expect(await delivered(subject)).toEqual([...ids]);
});
