/**
 * `npm start` (scripts/start.ts) without n8n: NPM_START_FAKE_N8N runs test/fixtures/fake-n8n.js in
 * n8n's place, with everything else real (the local Platform, identities, relationship, owner login,
 * process handling).
 *
 *   - by default n8n gets N8N_LISTEN_ADDRESS=127.0.0.1 and the local Platform listens on loopback
 *     only; --public opens both (0.0.0.0) and prints a warning;
 *   - the owner password is generated on the first start, kept in <data>/owner.json (mode 0600), and
 *     the same on the next start;
 *   - SIGTERM or SIGINT to the start process alone (not its process group) stops n8n — even one that
 *     ignores SIGTERM — with its children and the Platform, and the process exits 0 within 5 s.
 *
 * Listening sockets are read from /proc/net/tcp{,6} (Linux), so no traffic goes to other addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../scripts/lib/n8n';

const ROOT = resolve(__dirname, '../..');
const FAKE = join(ROOT, 'test', 'fixtures', 'fake-n8n.js');

interface Report {
  pid: number;
  childPid: number;
  address: { address: string; port: number };
  env: Record<string, string | undefined>;
}

/** Local addresses listening on `port` (IPv4 and IPv6), from /proc/net. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // LISTEN
      const [hex, portHex] = cols[1].split(':');
      if (parseInt(portHex, 16) !== port) continue;
      if (hex.length === 8) out.push(Buffer.from(hex, 'hex').reverse().join('.'));
      else if (hex === '00000000000000000000000001000000') out.push('::1');
      else if (/^0+$/.test(hex)) out.push('::');
      else out.push(`ipv6:${hex}`);
    }
  }
  return out.sort();
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const refused = (port: number): Promise<boolean> =>
  new Promise((res) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), res(false)));
    socket.once('error', () => res(true));
  });

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startFake(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/start.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NPM_START_FAKE_N8N: FAKE, N8N_DEMO_PASSWORD: '', N8N_DEMO_EMAIL: '', N8N_LISTEN_ADDRESS: '', ...env },
    // Its own process group, like a service: only its PID gets the signal below.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, at: Date.now() })),
  );
  const deadline = Date.now() + 90_000;
  while (!/n8n ready at /.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, exited };
}

describe('npm start (with a stand-in for n8n)', () => {
  const data = mkdtempSync(join(tmpdir(), 'npm-start-'));
  const report = join(data, 'fake-n8n.json');
  afterAll(() => rmSync(data, { recursive: true, force: true }));
  let password = '';

  it('loopback by default; SIGTERM to the process alone stops an n8n that ignores SIGTERM, its children and the Platform within 5 s', async () => {
    const [port, broker, platformPort] = [await freePort(), await freePort(), await freePort()];
    const run = await startFake(['--port', String(port), '--platform-port', String(platformPort), '--data', data], {
      FAKE_N8N_REPORT: report,
      FAKE_N8N_ON_SIGTERM: 'ignore',
      N8N_RUNNERS_BROKER_PORT: String(broker),
    });
    try {
      const fake = JSON.parse(readFileSync(report, 'utf8')) as Report;
      expect(fake.env.N8N_LISTEN_ADDRESS).toBe('127.0.0.1');
      expect(fake.address.address).toBe('127.0.0.1');
      const platformListens = listeners(platformPort);
      expect(platformListens).toContain('127.0.0.1');
      expect(platformListens.every((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
      expect(run.output()).not.toMatch(/⚠/);

      // The owner login: generated, printed, kept with mode 0600.
      const owner = JSON.parse(readFileSync(join(data, 'owner.json'), 'utf8')) as { email: string; password: string };
      expect(statSync(join(data, 'owner.json')).mode & 0o777).toBe(0o600);
      expect(owner.email).toBe('demo@example.com');
      expect(owner.password).toMatch(/^(?=.*\d)(?=.*[A-Z])(?=.*[a-z])[A-Za-z0-9]{20}$/);
      expect(run.output()).toContain(`demo@example.com / ${owner.password}   (generated now`);
      expect(fake.env.N8N_INSTANCE_OWNER_EMAIL).toBe('demo@example.com');
      password = owner.password;

      const sent = Date.now();
      process.kill(run.child.pid!, 'SIGTERM');
      const exit = await run.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - sent).toBeLessThan(5_000);
      expect(run.output()).toMatch(/SIGTERM: stopping n8n and the local Platform …\nstopped\.\n$/);
      expect(alive(fake.pid)).toBe(false);
      expect(alive(fake.childPid)).toBe(false);
      expect(await refused(platformPort)).toBe(true);
      expect(await refused(port)).toBe(true);
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    }
  }, 120_000);

  it('--public opens n8n and the Platform with a warning; the password is kept; SIGINT stops it', async () => {
    const [port, broker, platformPort] = [await freePort(), await freePort(), await freePort()];
    const run = await startFake(['--port', String(port), '--platform-port', String(platformPort), '--data', data, '--public'], {
      FAKE_N8N_REPORT: report,
      N8N_RUNNERS_BROKER_PORT: String(broker),
    });
    try {
      const fake = JSON.parse(readFileSync(report, 'utf8')) as Report;
      expect(fake.env.N8N_LISTEN_ADDRESS).toBe('0.0.0.0');
      expect(fake.address.address).toBe('0.0.0.0');
      expect(listeners(platformPort)).toContain('0.0.0.0');
      expect(run.output()).toMatch(/⚠ n8n and the local Platform listen on 0\.0\.0\.0/);
      expect(run.output()).toContain(`demo@example.com / ${password}   (kept in`);

      const sent = Date.now();
      process.kill(run.child.pid!, 'SIGINT');
      const exit = await run.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.at - sent).toBeLessThan(5_000);
      expect(alive(fake.pid)).toBe(false);
      expect(await refused(platformPort)).toBe(true);
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    }
  }, 120_000);
});
