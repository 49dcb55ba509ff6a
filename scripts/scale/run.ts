/**
 * npm run test:scale — the package on n8n in queue mode, under load, checked on the Platform.
 *
 *   Redis + PostgreSQL (Debian's packages, installed if missing; own instances on loopback in a
 *   temporary folder) · the local Platform · two identities (sender, receiver) with an Active
 *   relationship · n8n 2.41.1 main (EXECUTIONS_MODE=queue, PostgreSQL) and two `n8n worker
 *   --concurrency=10`, each with the packed package installed as the Community Nodes UI does ·
 *   workflow S (sender): Webhook → Code → Enmeshed Message Send, 1 in 10 with an attachment ·
 *   workflow R (receiver): Enmeshed Trigger (Message Received) → HTTP Request to our recorder, then
 *
 *   phase 1: 500 webhook requests, 20 at a time. Asserted on the Platform, as the receiver: 500
 *            distinct messages, each request number once, attachments where asked for.
 *   phase 2: 150 more; after 50 are answered one worker (its process group) is SIGKILLed. Lost
 *            (no message) and duplicated (two messages with one request number) sends are counted
 *            (reported). Then every request of phase 2 not answered with a message id is sent
 *            again, as a caller would (Message Send's Idempotency Key is `p2-<n>`): asserted on the
 *            Platform, nothing lost and nothing sent twice.
 *   always:  no (relationship, direction, counter) used twice, over every message and the
 *            acceptance; the receiver's trigger emitted every message exactly once (its executions
 *            in n8n's database: main stores what a poll emitted with the execution it creates).
 *
 * Progress goes to stderr; stdout gets one JSON line with the figures. Exit code 0 only if every
 * assertion held. Everything started is stopped at the end, on failure and on Ctrl-C.
 *
 *   npm run test:scale [-- --keep] [--requests 500] [--concurrency 20] [--kill-requests 150]
 *                      [--kill-after 50] [--workers 2] [--worker-concurrency 10]
 *                      [--binary-mode database|filesystem]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { getRelationship } from '../../lib/protocol';
import { createIdentity } from '../../lib/protocol/onboarding';
import { buildAndPack, cli, createHome, ensureN8n, freePort, importJson, start, startWorker, type N8nHome } from '../lib/n8n';
import { ensureRelationship, openBoth, type DemoIdentities } from '../lib/setup';
import { N8nDatabase, type Emission } from './executions';
import { acceptanceWrap, counterReuse, Drain, landedMessages, type Landed } from './platform-check';
import { ensureInstalled, startPostgres, startRedis, type Postgres, type Service } from './services';
import {
  ATTACHMENT_EVERY,
  attachmentText,
  credential,
  RECEIVER_CREDENTIAL,
  RECEIVER_WORKFLOW_ID,
  receiverWorkflow,
  SENDER_CREDENTIAL,
  SENDER_WORKFLOW_ID,
  senderWorkflow,
  TRIGGER_NODE,
  WEBHOOK_PATH,
} from './workflows';
import { waitFor } from '../lib/wait';

// --- options ---------------------------------------------------------------------------------------

function intOption(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

const OPTIONS = {
  keep: process.argv.includes('--keep'),
  requests: intOption('requests', 500),
  concurrency: intOption('concurrency', 20),
  killRequests: intOption('kill-requests', 150),
  killAfter: intOption('kill-after', 50),
  workers: intOption('workers', 2),
  workerConcurrency: intOption('worker-concurrency', 10),
  binaryMode: binaryModeOption(),
};

/** n8n's binary data mode: `database` (queue mode's default), or `filesystem` in one folder all processes share. */
function binaryModeOption(): 'database' | 'filesystem' {
  const i = process.argv.indexOf('--binary-mode');
  const value = i < 0 ? 'database' : process.argv[i + 1];
  if (value !== 'database' && value !== 'filesystem') throw new Error('--binary-mode is database or filesystem');
  return value;
}
/**
 * How long a webhook request may take before it counts as unanswered: in phase 1 ten times the
 * usual worst case; in phase 2 longer than n8n takes to fail a dead worker's jobs (lock 60 s +
 * stall check every 30 s).
 */
const TIMEOUT_MS = { p1: 60_000, p2: 150_000 };
/** A request refused with maxNumberOfUnreceivedMessagesReached (nothing stored) is sent again, at most this often. */
const LIMIT_RETRIES = 30;
/** How long to wait for the trigger after the last send (it emits at most 100 messages per poll, polls once a minute). */
const receiveTimeoutMs = (messages: number): number => (Math.ceil(messages / 100) + 3) * 70_000;

// --- output ------------------------------------------------------------------------------------------

const began = Date.now();
const secs = (ms: number): number => Math.round(ms / 100) / 10;
const stamp = (): string => `[${secs(Date.now() - began).toFixed(1).padStart(6)} s]`;
const say = (line: string): void => void process.stderr.write(`${stamp()} ${line}\n`);

async function step<T>(title: string, fn: () => Promise<T>, detail?: (value: T) => string): Promise<T> {
  const t0 = Date.now();
  const outcome = await fn().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ('error' in outcome) {
    say(`✗ ${title} (${secs(Date.now() - t0)} s)`);
    return Promise.reject(outcome.error);
  }
  say(`✓ ${title}${detail ? ` — ${detail(outcome.value)}` : ''} (${secs(Date.now() - t0)} s)`);
  return outcome.value;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


// --- cleanup -----------------------------------------------------------------------------------------

/** The n8n processes' output, shown when the run fails. */
const logs: Record<string, () => string> = {};
const showLogs = (): void => {
  for (const [name, log] of Object.entries(logs)) say(`--- ${name} log (last lines) ---\n${log().slice(-2500)}`);
};

const cleanups: { name: string; fn: () => Promise<void> }[] = [];
const onCleanup = (name: string, fn: () => Promise<void>): void => void cleanups.push({ name, fn });
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, fn } of cleanups.reverse()) {
      await Promise.race([fn(), sleep(60_000).then(() => Promise.reject(new Error('did not stop in 60 s')))]).catch((error: unknown) =>
        say(`  (stopping ${name}: ${error instanceof Error ? error.message : String(error)})`),
      );
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping everything`);
    void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

/**
 * If this process dies without cleaning up (SIGKILL, a crash), a detached watchdog stops the process
 * groups we started (they are detached so that a Ctrl-C reaches only us) and removes the temporary
 * folder: `add` records a group and the signal that stops it gently; SIGKILL follows after 15 s.
 */
function watchdog(tmp: string): { add: (child: ChildProcess, signal: NodeJS.Signals) => void; stop: () => void } {
  const list = path.join(tmp, 'process-groups');
  fs.writeFileSync(list, '');
  const script = `
    const fs = require('fs');
    const [parent, list, dir] = process.argv.slice(1);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const timer = setInterval(() => {
      if (alive(Number(parent))) return;
      clearInterval(timer);
      let groups = [];
      try { groups = fs.readFileSync(list, 'utf8').split('\\n').filter(Boolean).map((l) => l.split(' ')); } catch {}
      for (const [pid, signal] of groups) try { process.kill(-Number(pid), signal); } catch {}
      setTimeout(() => {
        for (const [pid] of groups) try { process.kill(-Number(pid), 'SIGKILL'); } catch {}
        if (dir) setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 1000);
      }, 15000);
    }, 1000);`;
  const child = spawn(process.execPath, ['-e', script, String(process.pid), list, OPTIONS.keep ? '' : tmp], { detached: true, stdio: 'ignore' });
  child.unref();
  return {
    add: (c, signal) => {
      if (c.pid !== undefined) fs.appendFileSync(list, `${c.pid} ${signal}\n`);
    },
    stop: () => void child.kill('SIGKILL'),
  };
}

/** Kills what is left of a detached child's process group (e.g. n8n's task runner). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone already
  }
}

// --- the recorder (workflow R's HTTP Request posts here) ----------------------------------------------

interface Record_ {
  id?: string;
  subject?: string;
  error?: string;
  /** The size of the message's attachment as the worker read it from n8n's binary data store. */
  bytes?: number | null;
  execution?: string;
  at: number;
}

async function startRecorder(): Promise<{ url: string; records: Record_[]; close: () => Promise<void> }> {
  const records: Record_[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      try {
        records.push({ ...(JSON.parse(body) as Omit<Record_, 'at'>), at: Date.now() });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/record`,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// --- firing webhook requests ---------------------------------------------------------------------------

interface Answer {
  n: number;
  outcome: 'ok' | 'error' | 'noAnswer';
  messageId?: string;
  error?: string;
  ms: number;
  /** Sent again after maxNumberOfUnreceivedMessagesReached (refused before anything was stored). */
  limitRetries: number;
  answeredAt: number;
  /** Message Send's answer for a key that had sent already. */
  alreadySent?: boolean;
}

async function sendOne(url: string, phase: 'p1' | 'p2', n: number): Promise<Answer> {
  const t0 = Date.now();
  let limitRetries = 0;
  for (;;) {
    let status = 0;
    let text = '';
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n, phase }),
        signal: AbortSignal.timeout(TIMEOUT_MS[phase]),
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      return { n, outcome: 'noAnswer', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), ms: Date.now() - t0, limitRetries, answeredAt: Date.now() };
    }
    let json: { id?: unknown; alreadySent?: unknown; error?: unknown; description?: unknown; message?: unknown } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // not JSON
    }
    if (status === 200 && typeof json.id === 'string' && json.id.startsWith('MSG')) {
      return { n, outcome: 'ok', messageId: json.id, alreadySent: json.alreadySent === true, ms: Date.now() - t0, limitRetries, answeredAt: Date.now() };
    }
    const error = `${status} ${[json.error, json.description, json.message].filter((v) => typeof v === 'string').join(' — ') || text.slice(0, 300)}`;
    if (/maxNumberOfUnreceivedMessagesReached/.test(error) && limitRetries < LIMIT_RETRIES) {
      limitRetries++;
      await sleep(200 + Math.random() * 300);
      continue;
    }
    return { n, outcome: 'error', error, ms: Date.now() - t0, limitRetries, answeredAt: Date.now() };
  }
}

/** Requests 1..count of `phase`, `concurrency` at a time; `onAnswer` sees each answer as it comes. */
function fire(url: string, phase: 'p1' | 'p2', count: number, concurrency: number, onAnswer?: (a: Answer, all: Answer[]) => void): Promise<Answer[]> {
  return fireNumbers(url, phase, range(count), concurrency, onAnswer);
}

/** The requests numbered `numbers` of `phase`, `concurrency` at a time. */
async function fireNumbers(url: string, phase: 'p1' | 'p2', numbers: number[], concurrency: number, onAnswer?: (a: Answer, all: Answer[]) => void): Promise<Answer[]> {
  const answers: Answer[] = [];
  const queue = [...numbers];
  const lane = async (): Promise<void> => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const answer = await sendOne(url, phase, n);
      answers.push(answer);
      onAnswer?.(answer, answers);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, lane));
  return answers.sort((a, b) => a.n - b.n);
}

function answerStats(answers: Answer[]) {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? 0;
  return {
    answeredOk: answers.filter((a) => a.outcome === 'ok').length,
    answeredError: answers.filter((a) => a.outcome === 'error').length,
    noAnswer: answers.filter((a) => a.outcome === 'noAnswer').length,
    limitRetries: answers.reduce((s, a) => s + a.limitRetries, 0),
    latencyMs: { p50: pct(50), p95: pct(95), max: ms[ms.length - 1] ?? 0 },
  };
}

/** How often a request of phase 2 is sent again at most (a retry can fail too, e.g. on n8n's regex timeout). */
const RETRY_ROUNDS = 3;

/**
 * After the worker's death: every request of phase 2 not answered with a message id is sent again
 * with the same number, so Message Send gets the same Idempotency Key — what a caller does after an
 * error or a timeout (n8n itself never re-runs an execution a dead worker held). A send that reached
 * the Platform before the kill comes back as that message (`alreadySent`), one that did not goes out
 * now. Each round retries what the previous left unanswered.
 */
async function retryPhase(webhook: string, answers: Answer[]): Promise<{ rounds: number; retried: number; answers: Answer[] }> {
  let current = answers;
  let rounds = 0;
  const retried = new Set<number>();
  for (; rounds < RETRY_ROUNDS; rounds++) {
    const failed = current.filter((a) => a.outcome !== 'ok').map((a) => a.n);
    if (!failed.length) break;
    for (const n of failed) retried.add(n);
    current = mergeRetry(current, await fireNumbers(webhook, 'p2', failed, OPTIONS.concurrency));
  }
  return { rounds, retried: retried.size, answers: current };
}

// --- the run -----------------------------------------------------------------------------------------------

interface Summary {
  ok: boolean;
  failures: string[];
  [key: string]: unknown;
}

async function main(): Promise<Summary> {
  const failures: string[] = [];
  const fail = (what: string): void => {
    failures.push(what);
    say(`  FAILED: ${what}`);
  };
  const warnings: string[] = [];
  const warn = (what: string): void => {
    warnings.push(what);
    say(`  warning: ${what}`);
  };
  const summary: Summary = { ok: false, failures, warnings, options: OPTIONS };
  say(`npm run test:scale: n8n 2.41.1 in queue mode (main + ${OPTIONS.workers} workers), PostgreSQL, Redis, local Platform`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-scale-'));
  fs.chmodSync(tmp, 0o755); // the postgres user reaches its folder inside
  say(`  temporary folder ${tmp}${OPTIONS.keep ? ' (kept)' : ''}`);
  onCleanup('temporary folder', async () => {
    if (!OPTIONS.keep) fs.rmSync(tmp, { recursive: true, force: true });
  });
  const guard = watchdog(tmp);
  onCleanup('watchdog', async () => guard.stop());

  // --- infrastructure -------------------------------------------------------------------------------
  const setupStarted = Date.now();
  const packing = buildAndPack(path.join(tmp, 'package'));
  packing.catch(() => undefined);
  const n8nReady = ensureN8n((line) => say(`  ${line}`));
  n8nReady.catch(() => undefined);
  const bins = await step('Redis and PostgreSQL installed', () => ensureInstalled((line) => say(`  ${line}`)), (b) => (b.installed.length ? `installed ${b.installed.join(', ')}` : 'already there'));
  const [redis, postgres] = await step(
    'Redis and PostgreSQL started on loopback',
    async (): Promise<[Service, Postgres]> => {
      const r = await startRedis(bins.redis, path.join(tmp, 'redis'), await freePort(), (child) => guard.add(child, 'SIGTERM'));
      onCleanup('redis', () => r.stop());
      const p = await startPostgres(bins.postgres, path.join(tmp, 'postgres'), await freePort(), (child) => guard.add(child, 'SIGINT'));
      onCleanup('postgres', () => p.stop());
      return [r, p];
    },
    ([r, p]) => `redis :${r.port}, postgres :${p.port}`,
  );

  const platform: PlatformHandle = await step('local Platform (in memory)', () => startPlatform({}), (p) => p.baseUrl);
  onCleanup('platform', () => platform.close());
  const access = { platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
  const identities: DemoIdentities = await step('identities: sender and receiver', async () => ({
    clinic: (await createIdentity(access)).credential,
    lab: (await createIdentity(access)).credential,
  }));
  const { clinic: sender, lab: receiver } = await openBoth(identities);
  const relationship = await step('relationship sender ↔ receiver', () => ensureRelationship(sender, receiver), (r) => `${r.id} Active`);
  const receiverRelationship = await getRelationship(receiver, relationship.id);

  const recorder = await startRecorder();
  onCleanup('recorder', () => recorder.close());

  const tgz = await step('build and pack the package', () => packing, (p) => path.basename(p));
  const binaries = await step('n8n 2.41.1 and Node 24 (scripts/ensure-n8n.sh)', () => n8nReady);
  const [port, ...brokers] = await Promise.all([freePort(), ...Array.from({ length: OPTIONS.workers + 1 }, () => freePort())]);
  const healthPorts = await Promise.all(Array.from({ length: OPTIONS.workers }, () => freePort()));
  const queueEnv: NodeJS.ProcessEnv = {
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: '127.0.0.1',
    QUEUE_BULL_REDIS_PORT: String(redis.port),
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: '127.0.0.1',
    DB_POSTGRESDB_PORT: String(postgres.port),
    DB_POSTGRESDB_DATABASE: postgres.database,
    DB_POSTGRESDB_USER: postgres.user,
    DB_POSTGRESDB_PASSWORD: '',
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_DEFAULT_BINARY_DATA_MODE: OPTIONS.binaryMode,
    // filesystem: one folder for main (the trigger stores attachments) and the workers (they read them)
    ...(OPTIONS.binaryMode === 'filesystem' ? { N8N_BINARY_DATA_STORAGE_PATH: path.join(tmp, 'binary-data') } : {}),
    OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
  };
  const encryptionKey = `scale-${Date.now()}`;
  const homes: N8nHome[] = await step(
    `n8n user folders (main + ${OPTIONS.workers} workers) with the packed package installed as the Community Nodes UI does`,
    async () => {
      const mainHome = await createHome('scale-main', tgz, { port, broker: brokers[0] }, { dir: path.join(tmp, 'n8n-main'), binaries, encryptionKey, env: queueEnv });
      const out = [mainHome];
      for (let w = 1; w <= OPTIONS.workers; w++) {
        const dir = path.join(tmp, `n8n-worker${w}`);
        // the same install, as each worker's image would have it (installPackage sees it unchanged)
        fs.cpSync(path.join(mainHome.dir, '.n8n', 'nodes'), path.join(dir, '.n8n', 'nodes'), { recursive: true, verbatimSymlinks: true });
        out.push(await createHome(`scale-worker${w}`, tgz, { port, broker: brokers[w] }, { dir, binaries, encryptionKey, env: queueEnv }));
      }
      return out;
    },
  );
  const mainHome = homes[0];

  await step('import the credentials and workflows S and R into PostgreSQL (migrations on first use), publish both', async () => {
    await importJson(mainHome, 'credentials', [credential(SENDER_CREDENTIAL, identities.clinic), credential(RECEIVER_CREDENTIAL, identities.lab)]);
    await importJson(mainHome, 'workflow', [senderWorkflow(receiver.address), receiverWorkflow(recorder.url)]);
    // (import:workflow --activeState=fromJson leaves them unpublished in 2.41.1)
    await Promise.all([SENDER_WORKFLOW_ID, RECEIVER_WORKFLOW_ID].map((id) => cli(mainHome, ['publish:workflow', `--id=${id}`])));
  });

  const db = new N8nDatabase(path.join(binaries.cache, 'n8n-2.41.1', 'node_modules'), { host: '127.0.0.1', port: postgres.port, user: postgres.user, database: postgres.database });
  await db.connect();
  onCleanup('database client', () => db.close());

  // The trigger's reads of the message list (GET /Messages without ids, while the harness reads
  // nothing there itself): tell when it polled.
  const feedReads: number[] = [];
  let harnessReading = false;
  platform.setFaults((req) => {
    if (!harnessReading && req.method === 'GET' && /^\/api\/v2\/messages$/i.test(req.path) && !/[?&]ids=/i.test(req.url)) feedReads.push(Date.now());
    return undefined;
  });
  const readLanded = async (): Promise<Landed[]> => {
    harnessReading = true;
    try {
      return await landedMessages(receiver, sender.address, receiverRelationship);
    } finally {
      harnessReading = false;
    }
  };

  // Main and the workers start side by side (the import ran the migrations already).
  fs.mkdirSync(path.join(tmp, 'logs'));
  const logFile = (name: string) => {
    const stream = fs.createWriteStream(path.join(tmp, 'logs', `${name}.log`));
    onCleanup(`${name}.log`, () => new Promise<void>((resolve) => stream.end(resolve)));
    return (chunk: string) => void stream.write(chunk);
  };
  // Executions each worker is running now, from its log ("Worker started/finished execution N").
  const running = Array.from({ length: OPTIONS.workers }, () => new Set<string>());
  const stopper = (name: string) => (child: ChildProcess) => {
    guard.add(child, 'SIGTERM');
    onCleanup(name, async () => {
      child.kill('SIGTERM');
      await waitExit(child, 30_000);
      killGroup(child);
    });
  };
  const [mainRunning, ...workers] = await step(
    `n8n main (queue mode) and ${OPTIONS.workers} × n8n worker --concurrency=${OPTIONS.workerConcurrency} started`,
    () =>
      Promise.all([
        start(mainHome, { cwd: mainHome.dir, detached: true, timeoutMs: 180_000, onSpawn: stopper('n8n main'), onOutput: logFile('main') }),
        ...homes.slice(1).map((home, k) =>
          startWorker(home, {
            concurrency: OPTIONS.workerConcurrency,
            healthPort: healthPorts[k],
            cwd: home.dir,
            detached: true,
            timeoutMs: 180_000,
            onSpawn: stopper(`n8n worker ${k + 1}`),
            onOutput: ((file, tracker) => (chunk: string) => {
              file(chunk);
              tracker(chunk);
            })(logFile(`worker${k + 1}`), trackRunning(running[k])),
          }),
        ),
      ]),
    () => `http://127.0.0.1:${port}`,
  );
  logs.main = mainRunning.log;
  workers.forEach((w, k) => (logs[`worker${k + 1}`] = w.log));

  await step('workflow S\'s webhook registered, workflow R\'s trigger activated (its first poll seeded the cursor)', async () => {
    await waitFor('the trigger cursor in the static data', 120_000, async () => {
      const data = await db.staticData(RECEIVER_WORKFLOW_ID);
      return (data?.[`node:${TRIGGER_NODE}`] as { cursor?: unknown } | undefined)?.cursor ? true : undefined;
    });
    await waitFor('the webhook', 60_000, async () => {
      // A GET to a registered POST webhook: "not registered for GET requests. Did you mean to make a POST request?"
      const res = await fetch(`http://127.0.0.1:${port}/webhook/${WEBHOOK_PATH}`, { method: 'GET' }).catch(() => undefined);
      const body = res ? await res.text() : '';
      return /make a POST request/.test(body) ? true : undefined;
    });
  });
  const setupMs = Date.now() - setupStarted;

  const drain = new Drain(receiver);
  drain.start();
  onCleanup('drain', () => drain.stop());
  const webhook = `http://127.0.0.1:${port}/webhook/${WEBHOOK_PATH}`;

  // --- phase 1 -----------------------------------------------------------------------------------------
  const p1Start = Date.now();
  let progress = 0;
  const answers1 = await step(`phase 1: ${OPTIONS.requests} webhook requests, ${OPTIONS.concurrency} at a time`, () =>
    fire(webhook, 'p1', OPTIONS.requests, OPTIONS.concurrency, (_a, all) => {
      if (all.length >= progress + 100) {
        progress = all.length;
        say(`  … ${all.length} answered`);
      }
    }),
  (a) => JSON.stringify(answerStats(a)),
  );
  const p1SendMs = Date.now() - p1Start;
  const p1LastOkMs = Math.max(0, ...answers1.filter((a) => a.outcome === 'ok').map((a) => a.answeredAt)) - p1Start;
  for (const a of answers1.filter((x) => x.outcome !== 'ok').slice(0, 5)) say(`  request ${a.n}: ${a.outcome} ${a.error ?? ''}`);

  const landed1 = await step('phase 1 on the Platform, as the receiver', async () => {
    const all = await readLanded();
    return all.filter((m) => m.phase === 'p1');
  }, (l) => `${l.length} messages`);
  {
    const ok = answers1.filter((a) => a.outcome === 'ok');
    // n8n's answers are reported; what counts is the Platform (a lost answer shows here only if its message is missing too)
    if (ok.length !== OPTIONS.requests) warn(`phase 1: ${OPTIONS.requests - ok.length} of ${OPTIONS.requests} webhook requests were not answered with a message id: ${preview(answers1.filter((a) => a.outcome !== 'ok').map((a) => `#${a.n} ${a.outcome} ${a.error ?? ''}`))}`);
    const ids = new Set(landed1.map((m) => m.id));
    if (ids.size !== OPTIONS.requests || landed1.length !== OPTIONS.requests) fail(`phase 1: ${ids.size} distinct messages on the Platform, expected ${OPTIONS.requests}`);
    const perN = countBy(landed1, (m) => m.n!);
    const missing = range(OPTIONS.requests).filter((n) => !perN.has(n));
    const twice = [...perN].filter(([, c]) => c > 1).map(([n]) => n);
    if (missing.length) fail(`phase 1: request numbers without a message: ${preview(missing)}`);
    if (twice.length) fail(`phase 1: request numbers with more than one message: ${preview(twice)}`);
    const notLanded = ok.filter((a) => !ids.has(a.messageId!)).map((a) => a.n);
    if (notLanded.length) fail(`phase 1: answered message ids not on the Platform: requests ${preview(notLanded)}`);
    const wrongAttachments = landed1.filter((m) => m.attachments !== (m.n! % ATTACHMENT_EVERY === 0 ? 1 : 0)).map((m) => m.n);
    if (wrongAttachments.length) fail(`phase 1: wrong number of attachments: requests ${preview(wrongAttachments)}`);
  }

  // --- phase 2: a worker SIGKILLed mid-batch -----------------------------------------------------------------
  const victim = workers[0];
  let runningOnVictim: string[] = [];
  let killedAt: number | undefined;
  let acceptedBeforeKill = 0;
  const p2Start = Date.now();
  const answers2 = await step(
    `phase 2: ${OPTIONS.killRequests} webhook requests, ${OPTIONS.concurrency} at a time; worker 1 SIGKILLed after ${OPTIONS.killAfter} are answered`,
    () =>
      fire(webhook, 'p2', OPTIONS.killRequests, OPTIONS.concurrency, (_a, all) => {
        const accepted = all.filter((x) => x.outcome === 'ok').length;
        // mid-batch: enough answered, and worker 1 is running executions right now
        if (killedAt === undefined && accepted >= OPTIONS.killAfter && (running[0].size >= Math.min(3, OPTIONS.workerConcurrency) || accepted >= OPTIONS.killAfter + 30)) {
          runningOnVictim = [...running[0]];
          killedAt = Date.now();
          acceptedBeforeKill = accepted;
          killGroup(victim.process, 'SIGKILL');
          say(`  worker 1 (pid ${victim.process.pid}) and its task runner SIGKILLed after ${accepted} answered sends, running executions ${runningOnVictim.join(', ')}`);
        }
      }),
    (a) => JSON.stringify(answerStats(a)),
  );
  const p2SendMs = Date.now() - p2Start;
  for (const a of answers2.filter((x) => x.outcome !== 'ok').slice(0, 5)) say(`  request ${a.n}: ${a.outcome} ${a.error ?? ''}`);

  // What the kill did, before any retry: messages of the killed worker's jobs may still land (an
  // HTTP request already on its way), a moment for them.
  await sleep(2_000);
  const beforeRetry = await step('phase 2 on the Platform before the retry', async () => phase2Report(answers2, (await readLanded()).filter((m) => m.phase === 'p2')), (r) => `lost ${r.lost}, duplicated ${r.duplicated}`);
  const retryStart = Date.now();
  const retry = await step(
    'phase 2 retry: every request not answered with a message id sent again (same Idempotency Key)',
    () => retryPhase(webhook, answers2),
    (r) => `${r.retried} requests in ${r.rounds} round(s); ${r.answers.filter((a) => a.alreadySent).length} answered alreadySent; ${r.answers.filter((a) => a.outcome !== 'ok').length} still failing`,
  );
  const retryMs = Date.now() - retryStart;

  // --- everything on the Platform ----------------------------------------------------------------------------
  const lastSendAt = Date.now();
  const landed = await step('every message on the Platform, opened as the receiver', () => readLanded(), (l) => `${l.length} messages`);
  const unreadable = landed.filter((m) => m.error);
  if (unreadable.length) fail(`${unreadable.length} messages the receiver cannot open: ${preview(unreadable.map((m) => `${m.id} ${m.error}`))}`);
  const landed2 = landed.filter((m) => m.phase === 'p2');
  const phase2 = phase2Report(retry.answers, landed2);
  say(`  phase 2 after the retry: ${JSON.stringify(phase2)}`);
  if (phase2.lost) fail(`phase 2 after the retry: ${phase2.lost} requests without a message: ${preview(phase2.lostRequests)}`);
  if (phase2.duplicated) fail(`phase 2 after the retry: ${phase2.duplicated} requests with more than one message: ${preview(phase2.duplicatedRequests)}`);
  if (phase2.answeredOkButNotOnPlatform) fail(`phase 2: ${phase2.answeredOkButNotOnPlatform} answered message ids not on the Platform`);
  const stillFailing = retry.answers.filter((a) => a.outcome !== 'ok');
  if (stillFailing.length) warn(`phase 2: ${stillFailing.length} requests still not answered with a message id after ${RETRY_ROUNDS} retries: ${preview(stillFailing.map((a) => `#${a.n} ${a.outcome} ${a.error ?? ''}`))}`);

  const acceptance = await acceptanceWrap(sender, relationship.id);
  const wraps = [acceptance, ...landed];
  const reused = counterReuse(wraps);
  const notCounterMode = landed.filter((m) => m.counter < 0);
  if (acceptance.counter !== 0) fail(`the acceptance used counter ${acceptance.counter}, expected 0`);
  if (notCounterMode.length) fail(`${notCounterMode.length} key wraps without a counter: ${preview(notCounterMode.map((m) => m.id))}`);
  if (reused.length) fail(`(relationship, direction, counter) used twice: ${preview(reused)}`);
  const counters = { checked: wraps.length, reused: reused.length, max: Math.max(...wraps.map((w) => w.counter)), unused: 0 };
  counters.unused = counters.max + 1 - wraps.length; // reserved in blocks of 16 per process, burnt by refusals and the kill
  say(`  counters: ${JSON.stringify(counters)}`);

  // --- the trigger: every message emitted exactly once ----------------------------------------------------------
  const expected = new Set(landed.map((m) => m.id));
  let emissions: Emission[] = [];
  const covered = (): boolean => {
    const emitted = new Set(emissions.flatMap((e) => e.ids));
    return [...expected].every((id) => emitted.has(id));
  };
  await step(
    `the receiver's trigger emitted all ${expected.size} messages (at most 100 per poll, one poll a minute)`,
    () =>
      waitFor(
        'the trigger',
        receiveTimeoutMs(expected.size),
        async () => {
          emissions = await db.emissions(RECEIVER_WORKFLOW_ID, TRIGGER_NODE);
          return covered() ? true : undefined;
        },
        { everyMs: 3_000 },
      ).catch((error: unknown) => {
        say(`  ${error instanceof Error ? error.message : String(error)}`);
        return false;
      }),
  );
  const allEmittedAt = Date.now();
  // One more poll after that: nothing may come twice later.
  await step('one more trigger poll (nothing may be emitted again)', async () => {
    await waitFor('a trigger poll', 100_000, async () => (feedReads.some((t) => t > allEmittedAt + 1_000) ? true : undefined)).catch(() => say('  no poll seen'));
    await sleep(8_000);
    emissions = await db.emissions(RECEIVER_WORKFLOW_ID, TRIGGER_NODE);
  });
  const perId = new Map<string, string[]>();
  for (const e of emissions) for (const id of e.ids) perId.set(id, [...(perId.get(id) ?? []), e.execution]);
  const duplicates = [...perId].filter(([, executions]) => executions.length > 1);
  const missing = [...expected].filter((id) => !perId.has(id));
  const strangers = [...perId.keys()].filter((id) => !expected.has(id));
  const errorItems = emissions.flatMap((e) => e.errors);
  if (duplicates.length) fail(`the trigger emitted ${duplicates.length} messages more than once: ${preview(duplicates.map(([id, ex]) => `${id} in executions ${ex.join(', ')}`))}`);
  if (missing.length) fail(`the trigger never emitted ${missing.length} messages: ${preview(missing)}`);
  if (strangers.length) fail(`the trigger emitted ${strangers.length} ids that are not messages from the sender: ${preview(strangers)}`);
  if (errorItems.length) fail(`the trigger emitted ${errorItems.length} error items: ${preview(errorItems)}`);
  const recordedIds = new Set(recorder.records.map((r) => r.id).filter(Boolean));
  // Attachments the trigger downloaded on main, read back by the worker that ran the execution.
  const bytesOf = new Map(recorder.records.filter((r) => r.id).map((r) => [r.id!, r.bytes]));
  const withAttachment = landed.filter((m) => m.attachments > 0 && m.n !== undefined && m.phase);
  const unreadAttachments = withAttachment.filter((m) => bytesOf.get(m.id) !== Buffer.byteLength(attachmentText(m.phase!, m.n!)));
  if (unreadAttachments.length) fail(`${unreadAttachments.length} of ${withAttachment.length} attachments not read back by a worker with their size: ${preview(unreadAttachments.map((m) => `${m.id} ${String(bytesOf.get(m.id))}`))}`);
  const statuses = await db.statuses(RECEIVER_WORKFLOW_ID);
  const senderStatuses = await db.statuses(SENDER_WORKFLOW_ID);
  const senderErrors = await db.errors(SENDER_WORKFLOW_ID);
  if (Object.keys(senderErrors).length) say(`  workflow S's failed executions: ${JSON.stringify(senderErrors)}`);
  const emittedAt = (ids: Set<string>): number | undefined => {
    const times = emissions.filter((e) => e.ids.some((id) => ids.has(id))).map((e) => e.createdAt.getTime());
    return times.length ? Math.max(...times) : undefined;
  };
  const p1Emitted = emittedAt(new Set(landed1.map((m) => m.id)));
  const p1EndToEndMs = p1Emitted ? p1Emitted - p1Start : undefined;

  summary.setupS = secs(setupMs);
  summary.phase1 = {
    requests: OPTIONS.requests,
    concurrency: OPTIONS.concurrency,
    ...answerStats(answers1),
    landed: landed1.length,
    distinct: new Set(landed1.map((m) => m.id)).size,
    withAttachment: landed1.filter((m) => m.attachments > 0).length,
    sendS: secs(p1SendMs),
    lastAnswerS: secs(p1LastOkMs),
    sendPerS: round1(answers1.filter((a) => a.outcome === 'ok').length / (p1LastOkMs / 1000)),
    notAnsweredButLanded: answers1.filter((a) => a.outcome !== 'ok' && landed1.some((m) => m.n === a.n)).length,
    endToEndS: p1EndToEndMs ? secs(p1EndToEndMs) : null,
    endToEndPerS: p1EndToEndMs ? round1(landed1.length / (p1EndToEndMs / 1000)) : null,
  };
  summary.phase2 = {
    requests: OPTIONS.killRequests,
    killedWorkerAfterAnswered: acceptedBeforeKill,
    executionsOnKilledWorker: runningOnVictim.length,
    killedAtS: killedAt ? secs(killedAt - p2Start) : null,
    ...answerStats(answers2),
    beforeRetry: { lost: beforeRetry.lost, duplicated: beforeRetry.duplicated, failedButLanded: beforeRetry.failedButLanded },
    retry: {
      requests: retry.retried,
      rounds: retry.rounds,
      answeredAlreadySent: retry.answers.filter((a) => a.alreadySent).length,
      stillFailing: stillFailing.length,
      retryS: secs(retryMs),
    },
    afterRetry: phase2,
    sendS: secs(p2SendMs),
  };
  summary.senderExecutions = { ...senderStatuses, errors: senderErrors };
  summary.counters = counters;
  summary.trigger = {
    expected: expected.size,
    emitted: perId.size,
    duplicates: duplicates.length,
    missing: missing.length,
    errorItems: errorItems.length,
    executions: statuses,
    emissions: emissions.length,
    recordedByWorkflow: recordedIds.size,
    attachmentsReadByWorkers: withAttachment.length - unreadAttachments.length,
    binaryMode: OPTIONS.binaryMode,
    receiveAfterLastSendS: secs(allEmittedAt - lastSendAt),
    polls: countPolls(feedReads),
  };
  summary.drain = { polls: drain.polls, fetched: drain.fetched.size, errors: drain.errors };
  await drain.stop();
  summary.durationS = secs(Date.now() - began);
  summary.ok = failures.length === 0;
  if (!summary.ok) showLogs();
  return summary;
}

/** Keeps `set` to the executions a worker has started and not yet finished, from its log output. */
function trackRunning(set: Set<string>): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const started = /Worker started execution (\d+)/.exec(line);
      if (started) set.add(started[1]);
      const ended = /Worker (?:finished|errored while running) execution (\d+)/.exec(line);
      if (ended) set.delete(ended[1]);
    }
  };
}

function phase2Report(answers: Answer[], landed: Landed[]) {
  const perN = countBy(landed, (m) => m.n!);
  const ids = new Set(landed.map((m) => m.id));
  const requested = range(answers.length);
  const lost = requested.filter((n) => !perN.has(n));
  const duplicated = requested.filter((n) => (perN.get(n) ?? 0) > 1);
  const failedButLanded = answers.filter((a) => a.outcome !== 'ok' && perN.has(a.n)).map((a) => a.n);
  const okButMissing = answers.filter((a) => a.outcome === 'ok' && !ids.has(a.messageId!)).map((a) => a.n);
  return {
    landed: landed.length,
    lost: lost.length,
    duplicated: duplicated.length,
    failedButLanded: failedButLanded.length,
    answeredOkButNotOnPlatform: okButMissing.length,
    lostRequests: lost.slice(0, 20),
    duplicatedRequests: duplicated.slice(0, 20),
  };
}

function mergeRetry(first: Answer[], retried: Answer[]): Answer[] {
  const byN = new Map(first.map((a) => [a.n, a]));
  for (const a of retried) byN.set(a.n, a);
  return [...byN.values()].sort((a, b) => a.n - b.n);
}

/** Trigger polls: bursts of feed reads more than 20 s apart. */
function countPolls(reads: number[]): number {
  let polls = 0;
  let last = -Infinity;
  for (const t of reads) {
    if (t - last > 20_000) polls++;
    last = t;
  }
  return polls;
}

function countBy<T, K>(items: T[], key: (item: T) => K): Map<K, number> {
  const out = new Map<K, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const round1 = (x: number): number => Math.round(x * 10) / 10;
const preview = (values: unknown[]): string => `${values.slice(0, 10).join('; ')}${values.length > 10 ? ` … (${values.length})` : ''}`;

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

if (require.main === module) {
  main()
    .catch((error: unknown): Summary => {
      say(`✗ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      showLogs();
      return { ok: false, failures: [error instanceof Error ? error.message.split('\n')[0] : String(error)], durationS: secs(Date.now() - began) };
    })
    .then(async (summary) => {
      await cleanup();
      summary.durationS = secs(Date.now() - began);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      say(summary.ok ? `scale check OK in ${summary.durationS} s` : `scale check FAILED after ${summary.durationS} s`);
      process.exit(summary.ok ? 0 : 1);
    });
}
