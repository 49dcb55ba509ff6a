/**
 * Redis and PostgreSQL for n8n's queue mode, on loopback, in a temporary folder: installed from
 * Debian's packages when missing (`apt-get update` once, then `apt-get install -y redis-server
 * postgresql`), started as our own child processes on free ports, stopped (and their folders
 * removed with the rest of the temporary folder) at the end. Nothing of the system's own clusters
 * or services is used or touched.
 *
 * PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user the
 * Debian package creates, else as nobody (setpriv, so the process we spawn *is* postgres and signals
 * reach it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Service {
  name: string;
  port: number;
  process: ChildProcess;
  /** Last 50 kB of its output. */
  log: () => string;
  stop: () => Promise<void>;
}

export interface Postgres extends Service {
  user: string;
  database: string;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The folder with initdb and postgres: Debian's newest /usr/lib/postgresql/<v>/bin, else PATH. */
function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (fs.existsSync(base)) {
    const versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(base, versions[0], 'bin');
  }
  const onPath = which('postgres');
  return onPath && which('initdb') ? path.dirname(fs.realpathSync(onPath)) : undefined;
}

const redisBin = (): string | undefined => which('redis-server') ?? (fs.existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);

/** Installs redis-server and postgresql from Debian's packages if either is missing. */
export async function ensureInstalled(progress: (line: string) => void): Promise<{ installed: string[]; redis: string; postgres: string }> {
  const missing: string[] = [];
  if (!redisBin()) missing.push('redis-server');
  if (!postgresBin()) missing.push('postgresql');
  if (missing.length) {
    const sudo = isRoot() ? [] : ['sudo', '-n'];
    if (!isRoot() && !which('sudo')) throw new Error(`${missing.join(' and ')} missing, and neither root nor sudo is available to install them`);
    const apt = async (args: string[]) => {
      const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
      await run(cmd, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 }).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`apt-get ${args.join(' ')} failed: ${(error.stderr ?? '').slice(-2000) || error.message}`);
      });
    };
    progress(`installing ${missing.join(' and ')} from Debian's packages (apt-get update, apt-get install -y redis-server postgresql)`);
    await apt(['update', '-q']);
    await apt(['install', '-y', '-q', '--no-install-recommends', 'redis-server', 'postgresql']);
    // The packages start system services; we use our own instances, on our own ports.
  }
  const redis = redisBin();
  const pg = postgresBin();
  if (!redis || !pg) throw new Error(`after installing: redis-server ${redis ?? 'missing'}, postgres ${pg ?? 'missing'}`);
  return { installed: missing, redis, postgres: pg };
}

const LOG_LIMIT = 50_000;

function track(name: string, child: ChildProcess): { log: () => string; exited: Promise<void> } {
  let log = '';
  const onData = (d: Buffer) => (log = (log + d.toString()).slice(-LOG_LIMIT));
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('error', (e) => (log += `\n${name}: ${e.message}`));
  return { log: () => log, exited };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitUntil(what: string, timeoutMs: number, child: ChildProcess, log: () => string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited early:\n${log().slice(-3000)}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start in time:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startRedis(binary: string, dir: string, port: number, onSpawn?: (child: ChildProcess) => void): Promise<Service> {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a Ctrl-C reaches only us; we stop it
  });
  onSpawn?.(child);
  const { log, exited } = track('redis', child);
  await waitUntil('redis-server', 20_000, child, log, async () => log().includes('Ready to accept connections'));
  return { name: 'redis', port, process: child, log, stop: () => stopChild(child, exited, 'SIGTERM') };
}

/** Runs `command` as the postgres user (else nobody) when we are root (PostgreSQL refuses root). */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [command, args];
  const { uid, gid } = pgIds();
  return ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', command, ...args]];
}

export async function startPostgres(bin: string, dir: string, port: number, onSpawn?: (child: ChildProcess) => void): Promise<Postgres> {
  const data = path.join(dir, 'data');
  const sockets = path.join(dir, 'run');
  fs.mkdirSync(sockets, { recursive: true });
  if (isRoot()) {
    // the postgres user must reach the folder (the temporary root is 0755) and own its parts
    fs.chownSync(dir, pgIds().uid, pgIds().gid);
    fs.chownSync(sockets, pgIds().uid, pgIds().gid);
  }
  const user = 'n8n';
  const [initCmd, initArgs] = asPostgresUser(path.join(bin, 'initdb'), ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  await run(initCmd, initArgs, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`initdb failed: ${(error.stderr ?? '').slice(-2000) || error.message}`);
  });
  // A throwaway database: no fsync (the run's figures are about n8n and the Platform, not disk flushes).
  const [cmd, args] = asPostgresUser(path.join(bin, 'postgres'), [
    '-D', data,
    '-p', String(port),
    '-k', sockets,
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=200',
  ]);
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  onSpawn?.(child);
  const { log, exited } = track('postgres', child);
  const psql = which('psql');
  const database = psql ? 'n8n' : 'postgres';
  await waitUntil('postgres', 60_000, child, log, async () => log().includes('database system is ready to accept connections'));
  if (psql) await run(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${database}`]);
  // SIGINT: PostgreSQL's "fast" shutdown (SIGTERM would wait for n8n's connections to close)
  return { name: 'postgres', port, user, database, process: child, log, stop: () => stopChild(child, exited, 'SIGINT', 30_000) };
}

let ids: { uid: number; gid: number } | undefined;
function pgIds(): { uid: number; gid: number } {
  if (ids) return ids;
  const users = fs.readFileSync('/etc/passwd', 'utf8').split('\n');
  const line = users.find((l) => l.startsWith('postgres:')) ?? users.find((l) => l.startsWith('nobody:'));
  if (!line) throw new Error('running as root, but there is neither a postgres nor a nobody user to run PostgreSQL as (it refuses root)');
  const [, , uid, gid] = line.split(':');
  ids = { uid: Number(uid), gid: Number(gid) };
  return ids;
}
