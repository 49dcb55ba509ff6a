/**
 * Counter-mode key wraps under real concurrency: two separate processes (two n8n queue-mode
 * workers) that share nothing but A's credential and the Platform send to B at the same time, each
 * with several sends in flight. Afterwards every message A ever sent is read back from the Platform
 * and no (relationship, direction, counter) may appear twice — including counter 0 of the
 * acceptance. Then a worker is SIGKILLed mid-run and a fresh one must not reuse any of its counters.
 *
 * The Platform keeps its real limit of 20 unreceived messages per sender and recipient: B fetches
 * concurrently (sync events → GET Messages?ids=…, which marks them received) like a live n8n trigger
 * would. Sends that hit the limit anyway are refused by the Platform before anything is stored;
 * the worker repeats them, and the counter reserved for the refused attempt is burnt (never reused),
 * which this test covers too. Last, a third process syncs while two send, and the relationship they
 * send on changes status under them: the sync run's entry (which carries the counter reservation)
 * never lets a counter be handed out twice.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { base64UrlToJson, parseCipher } from '../../lib/crypto';
import type { MessageDto } from '../../lib/backbone';
import {
  acceptRelationship,
  changeRelationship,
  createTemplate,
  getRelationship,
  loadTemplate,
  openMessage,
  openParticipant,
  openRegistry,
  requestRelationship,
  sendMessage,
  sync,
  type Participant,
  type Relationship,
} from '../../lib/protocol';
import type { ParticipantCredential } from '../../lib/protocol/participant';
import { inOneDay, newParticipant } from '../helpers/participants';
import type { SenderWorkerConfig, SenderWorkerLine } from '../helpers/sender-worker';

jest.setTimeout(300_000); // worker processes start slowly on a loaded machine

const ROOT = resolve(__dirname, '../..');
const PER_WORKER = 250;
const IN_FLIGHT = 4;

let platform: PlatformHandle;
let a: Participant & { credential: ParticipantCredential };
let b: Participant & { credential: ParticipantCredential };
let relationshipId: string;
let relationshipOfB: Relationship;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- the worker processes ------------------------------------------------------------------------

interface Worker {
  tag: string;
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Lets a worker started with `waitForGo` begin sending. */
  go(): void;
  lines: SenderWorkerLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `predicate` holds for the lines seen so far. */
  until(predicate: (lines: SenderWorkerLine[]) => boolean, timeoutMs: number): Promise<void>;
}

function startWorker(config: Omit<SenderWorkerConfig, 'credential' | 'recipient' | 'concurrency' | 'deadlineMs'> & Partial<SenderWorkerConfig>): Worker {
  const full: SenderWorkerConfig = {
    credential: a.credential,
    recipient: b.address,
    concurrency: IN_FLIGHT,
    deadlineMs: 80_000,
    ...config,
  };
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/helpers/sender-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, SENDER_WORKER_CONFIG: JSON.stringify(full) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined); // a killed worker's stdin
  if (!full.waitForGo) child.stdin.end();
  const lines: SenderWorkerLine[] = [];
  const waiters: { predicate: (l: SenderWorkerLine[]) => boolean; resolve: () => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (text.trim()) lines.push(JSON.parse(text) as SenderWorkerLine);
    }
    for (const w of [...waiters]) {
      if (w.predicate(lines)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  return {
    tag: full.tag,
    child,
    go: () => child.stdin.end('go\n'),
    lines,
    stderr: () => stderr,
    exited,
    until(predicate, timeoutMs) {
      if (predicate(lines)) return Promise.resolve();
      return new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`worker ${full.tag}: condition not reached in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const done = () => {
          clearTimeout(timer);
          res();
        };
        waiters.push({ predicate, resolve: done });
        void exited.then(() => {
          if (!waiters.some((w) => w.resolve === done)) return;
          clearTimeout(timer);
          rej(new Error(`worker ${full.tag} exited first; lines: ${JSON.stringify(lines.slice(-3))}; stderr: ${stderr}`));
        });
      });
    },
  };
}

const doneLine = (w: Worker) => w.lines.find((l): l is Extract<SenderWorkerLine, { type: 'done' }> => l.type === 'done');
const sentLines = (w: Worker) => w.lines.filter((l): l is Extract<SenderWorkerLine, { type: 'sent' }> => l.type === 'sent');

// --- B, reading while the workers send -----------------------------------------------------------

/** B as a live trigger: sync events → fetch the messages (which marks them received on the Platform). */
class Receiver {
  readonly fetched = new Map<string, MessageDto>();
  private stopped = false;
  private loop?: Promise<void>;
  polls = 0;

  start(): void {
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops polling after a final drain (no events left). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    while ((await this.poll()) > 0);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if ((await this.poll()) === 0) await sleep(15);
    }
  }

  private async poll(): Promise<number> {
    this.polls++;
    const { events } = await sync(b);
    const ids = [...new Set(events.map((e) => e.messageId).filter((id): id is string => !!id && !this.fetched.has(id)))];
    for (let i = 0; i < ids.length; i += 50) {
      for await (const dto of b.client.messages(ids.slice(i, i + 50))) this.fetched.set(dto.id, dto);
    }
    return ids.length;
  }
}

// --- reading the counters back -------------------------------------------------------------------

interface Wrap {
  messageId: string;
  relationshipId: string;
  direction: string;
  counter: number;
}

/** The counter of the acceptance (creation response), which is counter 0 of the templator's direction. */
async function acceptanceWrap(): Promise<Wrap> {
  const dto = await a.client.getRelationship(relationshipId);
  const outer = base64UrlToJson(dto.creationResponseContent!, 'creation response') as { cipher: unknown };
  const cipher = parseCipher(outer.cipher, 'creation response cipher');
  return { messageId: 'acceptance', relationshipId, direction: `${dto.to}->${dto.from}`, counter: cipher.cnt! };
}

/** Every message A sent, as A's own list shows it, with the counter of each recipient's key wrap. */
async function wrapsOfA(openedByB: Map<string, { relationshipId?: string }>): Promise<{ dtos: MessageDto[]; wraps: Wrap[] }> {
  const dtos = (await a.client.all(a.client.messages())).filter((m) => m.createdBy === a.address);
  const wraps: Wrap[] = [];
  for (const dto of dtos) {
    for (const r of dto.recipients) {
      const cipher = JSON.parse(Buffer.from(r.encryptedKey, 'base64url').toString('utf8')) as { cnt?: unknown; nnc?: unknown };
      expect(cipher.nnc).toBeUndefined();
      expect(Number.isInteger(cipher.cnt)).toBe(true);
      const rel = openedByB.get(dto.id)?.relationshipId;
      expect(rel).toBeDefined();
      wraps.push({ messageId: dto.id, relationshipId: rel!, direction: `${dto.createdBy}->${r.address}`, counter: cipher.cnt as number });
    }
  }
  return { dtos, wraps };
}

function duplicates(wraps: Wrap[]): string[] {
  const seen = new Map<string, string>();
  const dup: string[] = [];
  for (const w of wraps) {
    const k = `${w.relationshipId}|${w.direction}|${w.counter}`;
    const first = seen.get(k);
    if (first) dup.push(`${k} used by ${first} and ${w.messageId}`);
    else seen.set(k, w.messageId);
  }
  return dup;
}

/** B decrypts and verifies every message it fetched; returns the (tag, i) each carried. */
async function openAll(receiver: Receiver): Promise<Map<string, { tag: string; i: number; relationshipId?: string }>> {
  const opened = new Map<string, { tag: string; i: number; relationshipId?: string }>();
  for (const dto of receiver.fetched.values()) {
    const message = await openMessage(b, dto, [relationshipOfB]);
    const value = (message.content as { value: { tag: string; i: number } }).value;
    opened.set(dto.id, { ...value, relationshipId: message.relationshipId });
  }
  return opened;
}

function report(line: string): void {
  process.stderr.write(`[concurrency] ${line}\n`);
}

// --- setup ---------------------------------------------------------------------------------------

beforeAll(async () => {
  platform = await startPlatform({}); // default maxUnreceivedMessages (20): B keeps up by reading concurrently
  a = await newParticipant(platform.baseUrl);
  b = await newParticipant(platform.baseUrl);
  const template = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'workers' }, expiresAt: inOneDay() });
  const request = await requestRelationship(b, await loadTemplate(b, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 0 });
  relationshipId = request.id;
  await sync(a);
  await acceptRelationship(a, relationshipId);
  relationshipOfB = await getRelationship(b, relationshipId);
  expect(relationshipOfB.status).toBe('Active');
  // B's sync starts empty of old events (the acceptance)
  await sync(b);
});

afterAll(async () => {
  await platform?.close();
});

const receiver = new Receiver();
const openedByB = new Map<string, { tag: string; i: number; relationshipId?: string }>();

test(`two worker processes, ${IN_FLIGHT} sends in flight each, ${2 * PER_WORKER} messages: no counter is used twice`, async () => {
  const started = Date.now();
  receiver.start();
  const workers = [startWorker({ tag: 'w1', count: PER_WORKER, waitForGo: true }), startWorker({ tag: 'w2', count: PER_WORKER, waitForGo: true })];
  try {
    // both processes are up before either sends: the runs overlap for sure
    await Promise.all(workers.map((w) => w.until((lines) => lines.some((l) => l.type === 'ready'), 120_000)));
    for (const w of workers) w.go();
    const exits = await Promise.all(workers.map((w) => w.exited));
    for (const [k, w] of workers.entries()) {
      expect({ tag: w.tag, exit: exits[k], error: w.lines.find((l) => l.type === 'error'), stderr: w.stderr().slice(-2000) }).toEqual({
        tag: w.tag,
        exit: { code: 0, signal: null },
        error: undefined,
        stderr: '',
      });
    }
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await receiver.stop();
  }
  const sendMs = Date.now() - started;

  for (const w of workers) expect(sentLines(w)).toHaveLength(PER_WORKER);

  for (const [id, value] of await openAll(receiver)) openedByB.set(id, value);
  const { dtos, wraps } = await wrapsOfA(openedByB);
  expect(dtos).toHaveLength(2 * PER_WORKER);
  expect(openedByB.size).toBe(2 * PER_WORKER);
  // every (worker, index) exactly once, and every acknowledged id is one B read
  for (const w of workers) {
    const seen = [...openedByB.values()].filter((v) => v.tag === w.tag).map((v) => v.i).sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: PER_WORKER }, (_, i) => i));
    for (const line of sentLines(w)) expect(openedByB.get(line.id)).toMatchObject({ tag: w.tag, i: line.i });
  }
  expect(new Set(wraps.map((w) => w.relationshipId))).toEqual(new Set([relationshipId]));
  const all = [await acceptanceWrap(), ...wraps];
  expect(all[0].counter).toBe(0);
  expect(duplicates(all)).toEqual([]);

  // interleaving: both workers' counters alternate in blocks rather than forming two ranges
  const byCounter = [...wraps].sort((x, y) => x.counter - y.counter).map((w) => openedByB.get(w.messageId)!.tag);
  const switches = byCounter.filter((tag, k) => k > 0 && tag !== byCounter[k - 1]).length;
  expect(switches).toBeGreaterThan(2);

  const stats = workers.map((w) => doneLine(w)!);
  const maxCounter = Math.max(...wraps.map((w) => w.counter));
  report(
    `${dtos.length} messages in ${sendMs} ms (wall, incl. starting both processes); counters 1..${maxCounter} (${maxCounter - wraps.length} burnt/unused); ` +
      `block switches ${switches}; B polls ${receiver.polls}; ` +
      stats
        .map(
          (s) =>
            `${s.tag}: ${s.ms} ms, datawallet pushes ${s.store.pushes}, conflicts ${s.store.conflicts}, lockWaits ${s.store.lockWaits}, ` +
            `blocks ${s.counters.blocksReserved}, handedOut ${s.counters.handedOut}, unreceived retries ${s.unreceivedRetries}`,
        )
        .join('; '),
  );
  // every counter handed out belongs to at most one message, and refused attempts burnt theirs
  for (const s of stats) expect(s.counters.handedOut).toBe(PER_WORKER + s.unreceivedRetries);
});

test('a worker SIGKILLed mid-run: a fresh worker never reuses its counters', async () => {
  receiver.start();
  const killed = startWorker({ tag: 'killed', count: 400, pauseMs: 5 });
  let restarted: Worker | undefined;
  try {
    await killed.until((lines) => lines.filter((l) => l.type === 'sent').length >= 37, 60_000);
    killed.child.kill('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');
    restarted = startWorker({ tag: 'restarted', count: 60 });
    expect((await restarted.exited).code).toBe(0);
  } finally {
    if (killed.child.exitCode === null) killed.child.kill('SIGKILL');
    if (restarted && restarted.child.exitCode === null) restarted.child.kill('SIGKILL');
    await receiver.stop();
  }
  // messages of the killed worker still in flight may have landed after the kill
  await sleep(300);
  await receiver.stop();

  for (const [id, value] of await openAll(receiver)) openedByB.set(id, value);
  const { dtos, wraps } = await wrapsOfA(openedByB);
  const tagOf = (w: Wrap) => openedByB.get(w.messageId)!.tag;
  const acknowledged = sentLines(killed).length;
  const ofKilled = wraps.filter((w) => tagOf(w) === 'killed');
  const ofRestarted = wraps.filter((w) => tagOf(w) === 'restarted');
  expect(ofRestarted).toHaveLength(60);
  // acknowledged ones landed; at most IN_FLIGHT more were on their way
  expect(ofKilled.length).toBeGreaterThanOrEqual(acknowledged);
  expect(ofKilled.length).toBeLessThanOrEqual(acknowledged + IN_FLIGHT);
  for (const line of sentLines(killed)) expect(ofKilled.map((w) => w.messageId)).toContain(line.id);
  expect(dtos).toHaveLength(2 * PER_WORKER + ofKilled.length + 60);

  // over everything A ever sent on this relationship (both tests): no counter twice
  expect(duplicates([await acceptanceWrap(), ...wraps])).toEqual([]);
  // stronger: the restarted worker starts above every counter the killed one had (blocks are never reused)
  const maxKilled = Math.max(...ofKilled.map((w) => w.counter));
  const minRestarted = Math.min(...ofRestarted.map((w) => w.counter));
  expect(minRestarted).toBeGreaterThan(maxKilled);
  report(
    `killed after ${acknowledged} acknowledged (${ofKilled.length} landed, counters ≤ ${maxKilled}); ` +
      `restarted: 60 sent, counters ${minRestarted}..${Math.max(...ofRestarted.map((w) => w.counter))}; ` +
      `restarted stats ${JSON.stringify(doneLine(restarted!))}`,
  );
});

test('block size 1: every send of both workers is a compare-and-swap race on the datawallet', async () => {
  receiver.start();
  const before = new Set(openedByB.keys());
  const workers = [
    startWorker({ tag: 'cas1', count: 100, counterBlockSize: 1, waitForGo: true }),
    startWorker({ tag: 'cas2', count: 100, counterBlockSize: 1, waitForGo: true }),
  ];
  try {
    await Promise.all(workers.map((w) => w.until((lines) => lines.some((l) => l.type === 'ready'), 120_000)));
    for (const w of workers) w.go();
    const exits = await Promise.all(workers.map((w) => w.exited));
    for (const [k, w] of workers.entries()) expect({ tag: w.tag, exit: exits[k], error: w.lines.find((l) => l.type === 'error') }).toEqual({ tag: w.tag, exit: { code: 0, signal: null }, error: undefined });
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await receiver.stop();
  }
  for (const [id, value] of await openAll(receiver)) openedByB.set(id, value);
  const { wraps } = await wrapsOfA(openedByB);
  const fresh = wraps.filter((w) => !before.has(w.messageId));
  expect(fresh).toHaveLength(200);
  expect(duplicates([await acceptanceWrap(), ...wraps])).toEqual([]);
  const stats = workers.map((w) => doneLine(w)!);
  for (const st of stats) expect(st.counters.blocksReserved).toBe(st.counters.handedOut);
  report(
    'block size 1: ' +
      stats.map((st) => `${st.tag}: ${st.ms} ms, pushes ${st.store.pushes}, conflicts ${st.store.conflicts}, unreceived retries ${st.unreceivedRetries}`).join('; '),
  );
});

test("fresh processes over a relationship's life (send, terminate, reactivate, sync, send) never restart its counters", async () => {
  // Each `fresh()` is what a newly started n8n worker or trigger has: the credential, nothing else.
  const c = await newParticipant(platform.baseUrl);
  const d = await newParticipant(platform.baseUrl);
  const fresh = () => openParticipant(c.credential, { shared: false });
  const t = await createTemplate(c, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'life' }, expiresAt: inOneDay() });
  const rel = await requestRelationship(d, await loadTemplate(d, t.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 0 });
  await sync(c);
  await acceptRelationship(c, rel.id);

  const counters: number[] = [];
  const send = async (sender: Participant, value: number) => {
    const sent = await sendMessage(sender, { recipients: [d.address], content: { '@type': 'ArbitraryMessageContent', value } });
    const dto = await c.client.getMessage(sent.id);
    counters.push((JSON.parse(Buffer.from(dto.recipients[0].encryptedKey, 'base64url').toString('utf8')) as { cnt: number }).cnt);
    expect(await openMessage(d, await d.client.getMessage(sent.id))).toMatchObject({ relationshipId: rel.id, content: { value } });
    // checked after every send, so a reuse shows as such (not as a later failure)
    expect(counters.filter((n) => n === counters[counters.length - 1])).toHaveLength(1);
  };
  const firstWorker = await fresh(); // runs for a while
  await send(firstWorker, 1);
  await send(firstWorker, 2);
  await changeRelationship(d, rel.id, 'terminate');
  await changeRelationship(d, rel.id, 'requestReactivation');
  await changeRelationship(await fresh(), rel.id, 'acceptReactivation');
  await sync(await fresh()); // a trigger run: reads the relationship events
  await send(await fresh(), 3); // a newly started worker
  await send(await fresh(), 4);
  report(`relationship life: counters ${counters.join(', ')}`);
  expect(counters[2]).toBeGreaterThan(counters[1]);
});

test('two processes reserving counters while a third syncs and records status changes of that very relationship: no counter twice', async () => {
  // The sync worker writes the relationship's whole entry (with the counter reservation `next`) in its
  // finalize, without a compare-and-swap: safe only because the Backbone refuses every push while a
  // run is open. Here that entry changes status again and again (B terminates, A reactivates; the
  // Backbone takes messages on a Terminated relationship) while both senders reserve blocks of 4 on it.
  receiver.start();
  const before = new Set(openedByB.keys());
  const senders = [
    startWorker({ tag: 's1', count: 80, counterBlockSize: 4, waitForGo: true }),
    startWorker({ tag: 's2', count: 80, counterBlockSize: 4, waitForGo: true }),
  ];
  const syncer = startWorker({ mode: 'sync', tag: 'sync', count: 1_000, pauseMs: 5, waitForGo: true });
  const workers = [...senders, syncer];
  let cycles = 0;
  try {
    await Promise.all(workers.map((w) => w.until((lines) => lines.some((l) => l.type === 'ready'), 120_000)));
    for (const w of workers) w.go();
    const sendersDone = Promise.all(senders.map((w) => w.exited));
    let done = false;
    void sendersDone.then(() => (done = true));
    while (!done) {
      await changeRelationship(b, relationshipId, 'terminate');
      await sleep(40);
      await changeRelationship(b, relationshipId, 'requestReactivation');
      await changeRelationship(a, relationshipId, 'acceptReactivation');
      cycles++;
      await sleep(150);
    }
    const exits = await sendersDone;
    for (const [k, w] of senders.entries()) expect({ tag: w.tag, exit: exits[k], error: w.lines.find((l) => l.type === 'error') }).toEqual({ tag: w.tag, exit: { code: 0, signal: null }, error: undefined });
  } finally {
    syncer.child.kill('SIGTERM');
    for (const w of senders) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await receiver.stop();
  }
  for (const [id, value] of await openAll(receiver)) openedByB.set(id, value);
  const { wraps } = await wrapsOfA(openedByB);
  const fresh = wraps.filter((w) => !before.has(w.messageId));
  expect(fresh).toHaveLength(160);
  expect(duplicates([await acceptanceWrap(), ...wraps])).toEqual([]);
  // The race was there: the sync worker recorded status changes of this relationship while the senders sent.
  const synced = syncer.lines.filter((l): l is Extract<SenderWorkerLine, { type: 'synced' }> => l.type === 'synced');
  const recorded = synced.reduce((n, l) => n + l.changedRelationships, 0);
  expect(recorded).toBeGreaterThan(0);
  expect(cycles).toBeGreaterThan(0);
  // and the entry, read by a fresh process, reserves beyond every counter used
  const later = await openParticipant(a.credential, { shared: false });
  await openRegistry(later);
  expect(later.registry.get(relationshipId)!.next).toBeGreaterThan(Math.max(...wraps.map((w) => w.counter)));
  const stats = senders.map((w) => doneLine(w)!);
  report(
    `sync beside senders: ${cycles} terminate/reactivate cycles, ${synced.length} sync rounds recorded ${recorded} status changes; ` +
      stats.map((s) => `${s.tag}: pushes ${s.store.pushes}, conflicts ${s.store.conflicts}, lockWaits ${s.store.lockWaits}`).join('; '),
  );
});
