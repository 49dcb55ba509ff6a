/**
 * SIGKILLs of n8n main aimed at a poll of the Enmeshed Trigger, counting what the trigger lost or
 * emitted twice — on n8n's default poll path or with its durable poll cursors.
 *
 *   the local Platform · sender and receiver with an Active relationship · n8n 2.41.1 (regular mode,
 *   SQLite) with the packed package · the receiver's workflow: Enmeshed Trigger (Message Received,
 *   every minute) → HTTP Request to a recorder (workflow R of the scale check).
 *
 *   each round: the sender sends `perRound` messages (through lib/protocol, not n8n); when the
 *   trigger's next poll reads the message list, the harness counts the writes to n8n's SQLite files
 *   (inotify) and SIGKILLs main right after the `killAtWrite`-th: the first write after a poll is
 *   where n8n commits its cursor (default path: the static data, saved without being awaited, before
 *   the execution row exists; durable path: the poll's state, then cursor + execution row in one
 *   transaction). n8n is started again at once.
 *   at the end: one more poll after the last restart; then every message the sender sent must have
 *   been emitted once (counted in n8n's executions, which hold what a poll emitted even when the
 *   execution never ran or crashed).
 *
 * CLI (one JSON line on stdout, progress on stderr):
 *   node -r ts-node/register/transpile-only scripts/scale/poll-crash.ts [--durable] [--kills 10]
 *        [--per-round 5] [--writes 1,2,3 | --delays 100,200,400]   (kill after that write, or that many ms)
 */
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { sendMessage, type Participant } from '../../lib/protocol';
import { createIdentity } from '../../lib/protocol/onboarding';
import { buildAndPack, cli, createHome, ensureN8n, freePort, importJson, N8N_VERSION, start, type N8nHome, type Running } from '../lib/n8n';
import { ensureRelationship, openBoth } from '../lib/setup';
import { emissionsOf, type Emission, type ExecutionRow } from './executions';
import { credential, RECEIVER_CREDENTIAL, RECEIVER_WORKFLOW_ID, receiverWorkflow, TRIGGER_NODE } from './workflows';

/** What turns on n8n 2.41's durable poll cursors (the first needs the other three). */
export const DURABLE_CURSOR_ENV: NodeJS.ProcessEnv = {
  N8N_POLLER_DURABLE_CURSORS_ENABLED: 'true',
  N8N_SCHEDULER_ENABLED: 'true',
  N8N_SCHEDULER_POLL_TRIGGERS_ENABLED: 'true',
  N8N_USE_WORKFLOW_PUBLICATION_SERVICE: 'true',
};

export interface PollCrashOptions {
  durable: boolean;
  kills: number;
  /** Messages sent before each aimed poll. */
  perRound: number;
  /** Kill k comes right after write number writes[k % writes.length] following the poll's list read … */
  writes: number[];
  /** … or, if given, delaysMs[k % delaysMs.length] milliseconds after that list read. */
  delaysMs?: number[];
  /** Keep the temporary folder (n8n's log, its database). */
  keep?: boolean;
  progress?: (line: string) => void;
}

export interface KillReport {
  round: number;
  /** How many writes after the list read the kill followed (undefined: the target write did not come within 20 s, killed then). */
  afterWrite?: number;
  /** Milliseconds from the poll's list read to the kill. */
  msAfterListRead: number;
  /** Executions holding this round's messages, with their status. */
  executions: string[];
  lost: number;
  duplicated: number;
}

export interface PollCrashResult {
  path: 'default' | 'durable';
  /** Polls seen after the last restart (at least one: else what is missing is not known to be lost). */
  pollsAfterLastRestart: number;
  /** n8n exiting by itself after a restart (it did, once: an error in its crash recovery's insights hook). */
  selfExits: string[];
  sent: number;
  emitted: number;
  lost: number;
  duplicated: number;
  recordedByWorkflow: number;
  executions: Record<string, number>;
  kills: KillReport[];
  durationS: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The trigger's read of the message list (the harness itself never reads it). */
const isListRead = (req: { method: string; path: string; url: string }): boolean =>
  req.method === 'GET' && /^\/api\/v2\/messages$/i.test(req.path) && !/[?&]ids=/i.test(req.url);

/** n8n's executions of `workflowId`, read from its SQLite file with Node 24's node:sqlite (n8n's own sqlite3 is built for Node 24). */
function readExecutions(home: N8nHome, workflowId: string): Promise<ExecutionRow[]> {
  const script = `
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(process.argv[1], { readOnly: true });
    const rows = db.prepare('SELECT e.id, e.status, e.createdAt, d.data FROM execution_entity e LEFT JOIN execution_data d ON d.executionId = e.id WHERE e.workflowId = ? ORDER BY e.id').all(process.argv[2]);
    process.stdout.write(JSON.stringify(rows));`;
  const file = path.join(home.dir, '.n8n', 'database.sqlite');
  return new Promise((resolve, reject) =>
    execFile(home.node, ['--no-warnings', '-e', script, file, workflowId], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as ExecutionRow[]),
    ),
  );
}

function mail(from: Participant, to: string, subject: string) {
  return { recipients: [to], content: { '@type': 'Mail' as const, to: [to], subject, body: `Sent by ${from.address} to test crashes of n8n main` } };
}

export async function runPollCrash(options: PollCrashOptions): Promise<PollCrashResult> {
  const began = Date.now();
  const say = options.progress ?? (() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-poll-crash-'));
  let platform: PlatformHandle | undefined;
  try {
    const packing = buildAndPack(path.join(tmp, 'package'));
    const binaries = await ensureN8n(say);
    platform = await startPlatform({});
    const access = { platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
    const identities = { clinic: (await createIdentity(access)).credential, lab: (await createIdentity(access)).credential };
    const { clinic: sender, lab: receiver } = await openBoth(identities);
    await ensureRelationship(sender, receiver);

    const recorded = new Set<string>();
    const recorder = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        const id = (JSON.parse(body || '{}') as { id?: string }).id;
        if (id) recorded.add(id);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => recorder.close(() => resolve())));

    const tgz = await packing;
    const home = await createHome('poll-crash', tgz, { port: await freePort(), broker: await freePort() }, {
      dir: path.join(tmp, 'n8n'),
      binaries,
      env: { N8N_LISTEN_ADDRESS: '127.0.0.1', ...(options.durable ? DURABLE_CURSOR_ENV : {}) },
    });
    await importJson(home, 'credentials', [credential(RECEIVER_CREDENTIAL, identities.lab)]);
    await importJson(home, 'workflow', [receiverWorkflow(`http://127.0.0.1:${(recorder.address() as AddressInfo).port}/record`)]);
    await cli(home, ['publish:workflow', `--id=${RECEIVER_WORKFLOW_ID}`]);
    say(`n8n ${N8N_VERSION}, ${options.durable ? 'durable poll cursors' : 'default poll path'}; user folder ${home.dir}`);

    // The trigger's polls (a list read more than 5 s after the one before: a poll may read several
    // pages), and the writes to n8n's database files after one (inotify).
    const polls: number[] = [];
    let lastListRead = 0;
    let onPoll: (() => void) | undefined;
    platform.setFaults((req) => {
      if (isListRead(req)) {
        if (Date.now() - lastListRead > 5_000) {
          polls.push(Date.now());
          onPoll?.();
        }
        lastListRead = Date.now();
      }
      return undefined;
    });
    const waitForPoll = async (after: number, timeoutMs: number): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while (!polls.some((t) => t > after)) {
        if (Date.now() > deadline) return false;
        await sleep(500);
      }
      await sleep(5_000);
      return true;
    };
    let onWrite: (() => void) | undefined;
    const watcher = fs.watch(path.join(home.dir, '.n8n'), (_event, file) => {
      if (file && String(file).startsWith('database.sqlite')) onWrite?.();
    });
    stops.push(async () => watcher.close());

    let n8n: Running | undefined;
    const log = fs.createWriteStream(path.join(tmp, 'n8n.log'));
    stops.push(() => new Promise<void>((resolve) => log.end(resolve)));
    const startN8n = async (): Promise<void> => {
      const startedAt = Date.now();
      n8n = await start(home, { cwd: home.dir, detached: true, timeoutMs: 180_000, onOutput: (chunk) => void log.write(chunk) });
      // The default path polls at every activation, this start's included: the kills aim at
      // scheduled polls, so that one is awaited (it is n8n's 2-minute activation lease when the
      // kill came during an activation).
      if (!options.durable && !(await waitForPoll(startedAt, 180_000))) say('no activation poll within 180 s');
    };
    stops.push(async () => {
      await n8n?.stop();
      killGroup(n8n?.process);
    });
    await startN8n();
    // In the durable path the activation poll's cursor is not committed: the first scheduled poll
    // seeds it again, and messages are sent after that one.
    if (options.durable) {
      await waitForPoll(0, 60_000);
      await waitForPoll(polls[polls.length - 1], 70_000);
    }
    say(`trigger active, cursor seeded (${polls.length} polls)`);

    const sentByRound: string[][] = [];
    const kills: { round: number; afterWrite?: number; msAfterListRead: number; at: number }[] = [];
    /** Times n8n exited by itself (then it is started again, and the round waits for the next poll). */
    const selfExits: string[] = [];
    for (let round = 0; kills.length < options.kills; round++) {
      const ids: string[] = [];
      for (let i = 0; i < options.perRound; i++) ids.push((await sendMessage(sender, mail(sender, receiver.address, `Round ${round} #${i}`))).id);
      sentByRound.push(ids);
      const target = options.writes[kills.length % options.writes.length];
      const kill = await new Promise<{ afterWrite?: number; msAfterListRead: number } | 'exited'>((resolve) => {
        const running = n8n!;
        void running.exited.then(({ code, signal }) => {
          if (signal === 'SIGKILL') return;
          onPoll = undefined;
          onWrite = undefined;
          selfExits.push(`round ${round}: code ${code} signal ${signal}`);
          resolve('exited');
        });
        onPoll = () => {
          onPoll = undefined;
          const readAt = Date.now();
          let writes = 0;
          const fire = (afterWrite?: number) => {
            onWrite = undefined;
            clearTimeout(fallback);
            killGroup(n8n?.process);
            resolve({ afterWrite, msAfterListRead: Date.now() - readAt });
          };
          const delay = options.delaysMs?.length ? options.delaysMs[kills.length % options.delaysMs.length] : undefined;
          const fallback = setTimeout(() => fire(delay === undefined ? undefined : writes), delay ?? 20_000);
          onWrite = () => {
            ++writes;
            if (delay === undefined && writes >= target) fire(writes);
          };
        };
      });
      if (kill === 'exited') {
        // no kill this round: its messages come with a later poll
        say(`round ${round}: n8n exited by itself (${selfExits[selfExits.length - 1]}); started again`);
        await startN8n();
        continue;
      }
      kills.push({ round, ...kill, at: Date.now() });
      say(`round ${round}: ${ids.length} sent; main SIGKILLed ${kill.msAfterListRead} ms after the poll's list read, after write ${kill.afterWrite ?? '— (none in 20 s)'}`);
      await n8n!.exited;
      await startN8n();
    }

    // Every message emitted, or two more polls without it: then what is missing is lost.
    const all = sentByRound.flat();
    const emitted = async (): Promise<Emission[]> => emissionsOf(await readExecutions(home, RECEIVER_WORKFLOW_ID), parseFlatted(home), TRIGGER_NODE);
    const deadline = Date.now() + 200_000;
    let emissions = await emitted();
    while (Date.now() < deadline) {
      const seen = new Set(emissions.flatMap((e) => e.ids));
      if (all.every((id) => seen.has(id))) break;
      if (n8n!.process.exitCode !== null || n8n!.process.signalCode !== null) {
        selfExits.push(`after the last kill: code ${n8n!.process.exitCode} signal ${n8n!.process.signalCode}`);
        say('n8n exited by itself after the last kill; started again');
        await startN8n();
      }
      await sleep(3_000);
      emissions = await emitted();
    }
    // One poll after the last restart at least (nothing may come twice with it); executions it
    // started finish before the count.
    if (!(await waitForPoll(kills[kills.length - 1].at, 75_000))) say('no poll after the last restart within 75 s');
    await n8n!.stop();
    emissions = await emitted();

    const perId = new Map<string, string[]>();
    for (const e of emissions) for (const id of e.ids) perId.set(id, [...(perId.get(id) ?? []), `${e.execution} ${e.status}`]);
    const lostOf = (ids: string[]) => ids.filter((id) => !perId.has(id)).length;
    const dupOf = (ids: string[]) => ids.filter((id) => (perId.get(id)?.length ?? 0) > 1).length;
    const executions: Record<string, number> = {};
    for (const e of emissions) executions[e.status] = (executions[e.status] ?? 0) + 1;
    if (options.keep) say(`n8n's log: ${path.join(tmp, 'n8n.log')}`);
    return {
      path: options.durable ? 'durable' : 'default',
      pollsAfterLastRestart: polls.filter((t) => t > kills[kills.length - 1].at).length,
      selfExits,
      sent: all.length,
      emitted: all.filter((id) => perId.has(id)).length,
      lost: lostOf(all),
      duplicated: dupOf(all),
      recordedByWorkflow: all.filter((id) => recorded.has(id)).length,
      executions,
      kills: kills.map((k) => ({
        round: k.round,
        afterWrite: k.afterWrite,
        msAfterListRead: k.msAfterListRead,
        executions: [...new Set(sentByRound[k.round].flatMap((id) => perId.get(id) ?? []))],
        lost: lostOf(sentByRound[k.round]),
        duplicated: dupOf(sentByRound[k.round]),
      })),
      durationS: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await platform?.close();
    if (!options.keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function parseFlatted(home: N8nHome): (text: string) => unknown {
  const require = createRequire(path.join(home.cache, `n8n-${N8N_VERSION}`, 'node_modules', 'n8n', 'package.json'));
  return (require('flatted') as { parse: (text: string) => unknown }).parse;
}

/** SIGKILL to n8n and its process group (its task runner). */
function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (require.main === module) {
  const t0 = Date.now();
  const say = (line: string) => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  runPollCrash({
    durable: process.argv.includes('--durable'),
    kills: Number(option('kills') ?? 10),
    perRound: Number(option('per-round') ?? 5),
    writes: (option('writes') ?? '1,2,3').split(',').map(Number),
    delaysMs: option('delays')?.split(',').map(Number),
    keep: process.argv.includes('--keep'),
    progress: say,
  }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      say(`✗ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
