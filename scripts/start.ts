/**
 * npm start — a real n8n 2.41.1 with this package, against the local Platform, ready to click through:
 *
 *   1. builds and packs the package (skipped when the sources did not change since the last start)
 *   2. starts the local Platform with its data in .demo/platform (or uses a real Backbone, see below)
 *   3. the first time: creates the identities Clinic and Lab (credential JSON in .demo/identities.json,
 *      mode 0600) and an Active relationship between them
 *   4. installs n8n and Node 24 once into ~/.cache/n8n-nodes-enmeshed (scripts/ensure-n8n.sh)
 *   5. installs the packed package into .demo/n8n/.n8n/nodes as the Community Nodes UI does
 *   6. imports the credentials "Clinic (enmeshed)", "Lab (enmeshed)", "Ollama (local)" and the
 *      examples/*.json (again whenever a file changed), publishes examples 1 and 3
 *   7. `n8n start` on http://localhost:5678, with an owner account set from the environment
 *      (N8N_INSTANCE_OWNER_MANAGED_BY_ENV): log in with the e-mail and password it prints. The
 *      password is generated on the first start and kept in .demo/owner.json (mode 0600), unless
 *      --password / N8N_DEMO_PASSWORD gives one.
 * n8n and the local Platform listen on loopback only (127.0.0.1; the Platform also on ::1) unless
 * --listen-address ADDR or --public (= 0.0.0.0) opens them, with a warning.
 * n8n's data (owner, executions, your own workflows) stays in .demo/n8n between starts.
 *
 * Stopping: SIGINT (Ctrl-C) or SIGTERM to this process alone — as systemd, docker or pm2 send it — is
 * passed on to n8n and every other child (each runs in its own process group), whatever is left after
 * 2.5 s is killed, the Platform closes, and the process exits 0, within 5 s. A second signal kills at once.
 *
 * Options (flags win over environment variables):
 *   --port N              n8n's port (N8N_PORT, default 5678); its task runner broker uses N+1
 *   --platform-port N     the local Platform's port (default 8091)
 *   --platform-url URL    a real Backbone instead of the local Platform (ENMESHED_PLATFORM_URL),
 *   --client-id ID        with its OAuth client (ENMESHED_CLIENT_ID; the secret in ENMESHED_CLIENT_SECRET)
 *   --email, --password   the n8n owner login (N8N_DEMO_EMAIL, N8N_DEMO_PASSWORD; default
 *                         demo@example.com and a random password kept in <data>/owner.json)
 *   --listen-address ADDR where n8n and the local Platform listen (N8N_LISTEN_ADDRESS; default 127.0.0.1)
 *   --public              = --listen-address 0.0.0.0 (reachable from other machines)
 *   --data DIR            instead of .demo
 *   --rebuild             build and reinstall the package even if the sources look unchanged
 *   --reimport            import credentials and examples even if unchanged
 *
 * For tests only: NPM_START_FAKE_N8N=<file.js> runs that script with Node instead of n8n (`start` and
 * every CLI command), and skips what needs the real n8n (build and pack, the n8n install, the package
 * install, the password hash): test/scripts/start.test.ts checks signals and listen addresses with it.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { startPlatform, type PlatformHandle } from '../platform/server';
import {
  buildAndPack,
  childrenExited,
  cli,
  createHome,
  ensureN8n,
  importJson,
  installPackage,
  n8nCached,
  N8N_VERSION,
  hostFor,
  portInUse,
  ROOT,
  signalChildren,
  start,
  superviseChildren,
  type N8nBinaries,
  type N8nHome,
} from './lib/n8n';
import { ACTIVE_EXAMPLES, addressOf, CREDENTIALS, credentialsFor, ensureIdentities, ensureRelationship, FILES_DIR, INBOX_DIRS, loadExamples, openBoth } from './lib/setup';

const USAGE = `Usage: npm start [-- --port 5678] [--platform-port 8091] [--platform-url URL --client-id ID]
                 [--email E --password P] [--listen-address ADDR | --public] [--data DIR] [--rebuild] [--reimport]
Environment: N8N_PORT, ENMESHED_PLATFORM_URL, ENMESHED_CLIENT_ID, ENMESHED_CLIENT_SECRET, N8N_DEMO_EMAIL, N8N_DEMO_PASSWORD,
             N8N_LISTEN_ADDRESS`;

interface Options {
  port: number;
  platformPort: number;
  platformUrl?: string;
  clientId?: string;
  clientSecret?: string;
  email?: string;
  /** Given by the user; otherwise the one in <data>/owner.json, generated on the first start. */
  password?: string;
  listenAddress: string;
  data: string;
  rebuild: boolean;
  reimport: boolean;
}

/** Stop: SIGTERM to every child's process group, SIGKILL to what is left after this long. */
const STOP_GRACE_MS = 2_500;

const isLoopback = (address: string): boolean => /^127\./.test(address) || address === '::1';

/** n8n's own password rules: 8 to 64 characters, a digit and an upper-case letter. */
function checkPassword(password: string, what: string): void {
  if (password.length < 8 || password.length > 64 || !/\d/.test(password) || !/[A-Z]/.test(password)) {
    throw new Error(`${what}: n8n wants 8 to 64 characters with at least one digit and one upper-case letter`);
  }
}

/** 20 characters from an unambiguous alphabet, with at least one digit, upper- and lower-case letter. */
function randomPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  for (;;) {
    const p = Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join('');
    if (/\d/.test(p) && /[A-Z]/.test(p) && /[a-z]/.test(p)) return p;
  }
}

interface OwnerFile {
  email: string;
  password: string;
}

/**
 * The n8n owner's login: e-mail and password from the options, else from <data>/owner.json, else
 * generated (a random password) and saved there with mode 0600.
 */
function ownerLogin(options: Options): { email: string; password: string; source: 'option' | 'file' | 'generated'; file: string } {
  const file = path.join(options.data, 'owner.json');
  const saved = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OwnerFile>) : {};
  const email = options.email ?? saved.email ?? 'demo@example.com';
  if (options.password) return { email, password: options.password, source: 'option', file };
  if (saved.password) return { email, password: saved.password, source: 'file', file };
  const password = randomPassword();
  fs.writeFileSync(file, `${JSON.stringify({ email, password } satisfies OwnerFile, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { email, password, source: 'generated', file };
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--rebuild' || arg === '--reimport' || arg === '--public') {
      flags.set(arg.slice(2), 'true');
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (!['port', 'platform-port', 'platform-url', 'client-id', 'client-secret', 'email', 'password', 'listen-address', 'data'].includes(m[1]))
      throw new Error(`unknown option --${m[1]}\n${USAGE}`);
    flags.set(m[1], value);
  }
  const int = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined || value === '') return fallback;
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65534) throw new Error(`${name} must be a port number, not ${value}`);
    return Number(value);
  };
  const options: Options = {
    port: int('--port', flags.get('port') ?? env.N8N_PORT, 5678),
    platformPort: int('--platform-port', flags.get('platform-port'), 8091),
    platformUrl: (flags.get('platform-url') ?? env.ENMESHED_PLATFORM_URL) || undefined,
    clientId: (flags.get('client-id') ?? env.ENMESHED_CLIENT_ID) || undefined,
    clientSecret: (flags.get('client-secret') ?? env.ENMESHED_CLIENT_SECRET) || undefined,
    email: (flags.get('email') ?? env.N8N_DEMO_EMAIL) || undefined,
    password: (flags.get('password') ?? env.N8N_DEMO_PASSWORD) || undefined,
    listenAddress: flags.has('public') ? '0.0.0.0' : (flags.get('listen-address') ?? env.N8N_LISTEN_ADDRESS) || '127.0.0.1',
    data: path.resolve(flags.get('data') ?? path.join(ROOT, '.demo')),
    rebuild: flags.has('rebuild'),
    reimport: flags.has('reimport'),
  };
  if (options.platformUrl && (!options.clientId || !options.clientSecret)) {
    throw new Error('A real Backbone needs its OAuth client: --client-id (or ENMESHED_CLIENT_ID) and ENMESHED_CLIENT_SECRET');
  }
  if (options.email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(options.email)) throw new Error(`--email: ${options.email} is not an e-mail address`);
  if (options.password !== undefined) checkPassword(options.password, '--password');
  if (flags.has('public') && flags.has('listen-address')) throw new Error('--public and --listen-address exclude each other');
  if (!isIP(options.listenAddress)) throw new Error(`--listen-address: ${options.listenAddress} is not an IP address`);
  return options;
}

interface State {
  v: 1;
  encryptionKey: string;
  build?: string;
  credentials?: string;
  examples?: Record<string, string>;
}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** A hash over everything `npm run build` reads. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(path.relative(ROOT, full)).update('\0').update(fs.readFileSync(full)).update('\0');
    }
  };
  for (const dir of ['credentials', 'nodes', 'lib', 'icons']) if (fs.existsSync(path.join(ROOT, dir))) walk(path.join(ROOT, dir));
  for (const file of ['package.json', 'tsconfig.json', 'gulpfile.js']) hash.update(file).update('\0').update(fs.readFileSync(path.join(ROOT, file)));
  return hash.digest('hex');
}

/** A path for messages: relative to the repository when inside it. */
const shown = (file: string): string => (path.relative(ROOT, file).startsWith('..') ? file : path.relative(ROOT, file) || '.');

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/** Set by the signal handler. */
let stopping = false;

async function main(): Promise<void> {
  const began = Date.now();
  const options = parseOptions(process.argv.slice(2), process.env);
  const local = !options.platformUrl;
  fs.mkdirSync(options.data, { recursive: true, mode: 0o700 });
  const stateFile = path.join(options.data, 'state.json');
  const state: State = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as State) : { v: 1, encryptionKey: randomBytes(24).toString('base64url') };
  const saveState = () => fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  saveState();

  // What runs, for the signal handlers. Every child process runs in its own process group and is
  // tracked (superviseChildren), so a signal to this process alone reaches all of them.
  superviseChildren();
  const handles: { platform?: PlatformHandle; n8n?: ChildProcess } = {};
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      // A second signal: no more waiting.
      signalChildren('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    const { platform, n8n } = handles;
    const alive = n8n && n8n.exitCode === null && n8n.signalCode === null;
    console.log(`\n${signal}: stopping${alive ? ' n8n' : ''}${platform ? `${alive ? ' and' : ''} the local Platform` : ''} …`);
    signalChildren('SIGTERM');
    const killer = setTimeout(() => signalChildren('SIGKILL'), STOP_GRACE_MS);
    const clean = await childrenExited(STOP_GRACE_MS + 1_000);
    clearTimeout(killer);
    await platform?.close();
    console.log(clean ? 'stopped.' : 'stopped (some child processes did not exit).');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Never leave a child running when this process ends, however it ends.
  process.on('exit', () => signalChildren('SIGKILL'));

  const fake = process.env.NPM_START_FAKE_N8N ? path.resolve(process.env.NPM_START_FAKE_N8N) : undefined;
  if (!isLoopback(options.listenAddress)) {
    console.log(
      `⚠ ${local ? 'n8n and the local Platform listen' : 'n8n listens'} on ${options.listenAddress}, not only on this machine's loopback: ` +
        `other machines can reach n8n's login page${local ? ' and the local Platform, which anyone can use (its OAuth client is test/test)' : ''}. ` +
        'Use this only on a network you trust.',
    );
  }
  const owner = ownerLogin(options);

  async function phase<T>(title: string, fn: () => Promise<T>, done?: (value: T) => string): Promise<T> {
    const t0 = Date.now();
    process.stdout.write(`• ${title} …\n`);
    const value = await fn();
    console.log(`  ${done ? done(value) : 'done'} (${seconds(Date.now() - t0)})`);
    return value;
  }

  // Ports first: failing after minutes of setup would be rude.
  const broker = Number(process.env.N8N_RUNNERS_BROKER_PORT || options.port + 1);
  for (const [port, what] of [
    [options.port, 'n8n (--port)'],
    [broker, "n8n's task runner broker (port + 1, or N8N_RUNNERS_BROKER_PORT)"],
    ...(local ? [[options.platformPort, 'the local Platform (--platform-port)'] as const] : []),
  ] as const) {
    if (await portInUse(port)) throw new Error(`Port ${port} for ${what} is in use: is another \`npm start\` or n8n running? Stop it or choose another port.`);
  }

  // 1. The package.
  const pkgDir = path.join(options.data, 'package');
  const tgz = path.join(pkgDir, `n8n-nodes-enmeshed-${(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}.tgz`);
  const sources = sourceHash();
  if (fake) {
    console.log('• Package: not built (NPM_START_FAKE_N8N)');
  } else if (options.rebuild || state.build !== sources || !fs.existsSync(tgz)) {
    await phase('Building and packing n8n-nodes-enmeshed', () => buildAndPack(pkgDir), (file) => shown(file));
    state.build = sources;
    saveState();
  } else {
    console.log('• Package unchanged since the last start (npm start -- --rebuild to force a build)');
  }

  // 2. The Platform.
  let access: { platformUrl: string; clientId: string; clientSecret: string };
  let platformIsNew = false;
  if (local) {
    const dataDir = path.join(options.data, 'platform');
    platformIsNew = !fs.existsSync(path.join(dataDir, 'platform.sqlite'));
    fs.mkdirSync(dataDir, { recursive: true });
    const platform = await phase(
      'Starting the local Platform',
      () => startPlatform({ port: options.platformPort, dataDir, host: isLoopback(options.listenAddress) ? undefined : options.listenAddress }),
      (p) => `${p.baseUrl} (data in ${shown(dataDir)})`,
    );
    handles.platform = platform;
    access = { platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
  } else {
    access = { platformUrl: options.platformUrl!.replace(/\/+$/, ''), clientId: options.clientId!, clientSecret: options.clientSecret! };
    console.log(`• Using the Backbone at ${access.platformUrl} (client ${access.clientId})`);
  }

  // 3. Identities and their relationship.
  const identitiesFile = path.join(options.data, 'identities.json');
  if (local && platformIsNew && fs.existsSync(identitiesFile)) {
    // A fresh local Platform knows none of the saved local identities.
    const saved = JSON.parse(fs.readFileSync(identitiesFile, 'utf8')) as { platforms: Record<string, unknown> };
    delete saved.platforms.local;
    fs.writeFileSync(identitiesFile, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  }
  const { identities, created } = await phase(
    'Identities Clinic and Lab',
    () => ensureIdentities(identitiesFile, local ? 'local' : access.platformUrl, access, (line) => console.log(`  ${line}`)),
    (r) => `${r.created ? 'created' : 'kept'}: Clinic ${addressOf(r.identities.clinic)}, Lab ${addressOf(r.identities.lab)} (${shown(identitiesFile)}, mode 0600)`,
  );
  await phase(
    'Relationship Clinic ↔ Lab',
    async () => {
      const { clinic, lab } = await openBoth(identities);
      return ensureRelationship(clinic, lab);
    },
    (r) => `${r.id} Active${r.created ? ' (created: template → request → accept)' : ''}`,
  );

  // 4. n8n itself.
  const firstInstall = !fake && !n8nCached();
  const fakeBinaries: N8nBinaries | undefined = fake ? { cache: '', n8n: fake, node: process.execPath } : undefined;
  const binaries = fakeBinaries ?? await phase(
    firstInstall ? `Installing n8n ${N8N_VERSION} and Node 24 into the cache (once; a few minutes)` : `n8n ${N8N_VERSION} (cached)`,
    async () => {
      // On a terminal the elapsed time counts up in place; in a log, a line every 30 s.
      const tty = Boolean(process.stdout.isTTY);
      let ticking = false;
      const result = await ensureN8n(
        (line) => {
          if (tty && line.startsWith('…')) {
            process.stdout.write(`\r  ${line}`);
            ticking = true;
            return;
          }
          if (ticking) process.stdout.write('\n');
          ticking = false;
          console.log(`  ${line}`);
        },
        tty ? 1_000 : 30_000,
      );
      if (ticking) process.stdout.write('\n');
      return result;
    },
    (b) => b.cache,
  );

  // 5. The package in n8n's user folder.
  const n8nDir = path.join(options.data, 'n8n');
  fs.mkdirSync(n8nDir, { recursive: true });
  if (options.rebuild) fs.rmSync(path.join(n8nDir, '.n8n', 'nodes', '.n8n-nodes-enmeshed.sha256'), { force: true });
  if (!fake) await phase(
    'Installing the package into n8n (as the Community Nodes UI does)',
    () => installPackage(n8nDir, tgz),
    (r) => (r === 'installed' ? `installed into ${shown(path.join(n8nDir, '.n8n', 'nodes'))}` : 'unchanged'),
  );
  // n8n's data was removed (or never there): import everything again. If n8n has its own key in
  // its config file (it writes the one it started with), that key decrypts the stored credentials.
  if (!fs.existsSync(path.join(n8nDir, '.n8n', 'database.sqlite'))) {
    delete state.credentials;
    delete state.examples;
  }
  const configFile = path.join(n8nDir, '.n8n', 'config');
  if (fs.existsSync(configFile)) {
    const key = (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { encryptionKey?: string }).encryptionKey;
    if (key) state.encryptionKey = key;
  }
  saveState();

  const filesRoot = path.join(n8nDir, FILES_DIR);
  for (const dir of INBOX_DIRS) fs.mkdirSync(path.join(n8nDir, dir), { recursive: true });
  const n8nModules = path.join(binaries.cache, `n8n-${N8N_VERSION}`, 'node_modules');
  const passwordHash = fake
    ? 'not hashed (NPM_START_FAKE_N8N)'
    : (createRequire(path.join(n8nModules, 'n8n', 'package.json'))('bcryptjs') as { hashSync: (password: string, rounds: number) => string }).hashSync(owner.password, 10);
  const home: N8nHome = await createHome('start', tgz, { port: options.port, broker }, {
    dir: n8nDir,
    binaries,
    encryptionKey: state.encryptionKey,
    install: !fake,
    env: {
      N8N_LISTEN_ADDRESS: options.listenAddress,
      N8N_RESTRICT_FILE_ACCESS_TO: filesRoot,
      N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
      N8N_INSTANCE_OWNER_EMAIL: owner.email,
      N8N_INSTANCE_OWNER_PASSWORD_HASH: passwordHash,
      N8N_INSTANCE_OWNER_FIRST_NAME: 'Demo',
      N8N_INSTANCE_OWNER_LAST_NAME: 'Owner',
      N8N_EDITOR_BASE_URL: process.env.N8N_EDITOR_BASE_URL || `http://localhost:${options.port}`,
      // n8n's own graceful stop (waiting for running executions) must fit into ours.
      N8N_GRACEFUL_SHUTDOWN_TIMEOUT: String(Math.floor(STOP_GRACE_MS / 1000)),
    },
  });

  // 6. Credentials and examples.
  const credentials = credentialsFor(identities);
  const credentialsHash = sha256(JSON.stringify(credentials));
  if (options.reimport || state.credentials !== credentialsHash) {
    await phase('Importing the credentials', () => importJson(home, 'credentials', credentials), () => Object.values(CREDENTIALS).map((c) => `"${c.name}" (${c.id})`).join(', '));
    state.credentials = credentialsHash;
    saveState();
  }
  const examples = loadExamples();
  const changed = examples.filter((e) => options.reimport || state.examples?.[e.id] !== sha256(JSON.stringify(e.workflow)));
  if (changed.length) {
    await phase(
      `Importing ${changed.length === examples.length ? 'the' : changed.length} example workflow${changed.length === 1 ? '' : 's'}`,
      async () => {
        await importJson(home, 'workflow', changed.map((e) => e.workflow));
        for (const e of changed) if (ACTIVE_EXAMPLES.includes(e.id)) await cli(home, ['publish:workflow', `--id=${e.id}`]);
      },
      () => changed.map((e) => `${e.file}${ACTIVE_EXAMPLES.includes(e.id) ? ' (published)' : ''}`).join(', '),
    );
    state.examples = { ...state.examples, ...Object.fromEntries(changed.map((e) => [e.id, sha256(JSON.stringify(e.workflow))])) };
    saveState();
  } else {
    console.log('• Examples unchanged since the last import (npm start -- --reimport to import them again)');
  }

  // 7. n8n start.
  const logFile = path.join(options.data, 'n8n.log');
  const logStream = fs.createWriteStream(logFile, { flags: 'a' });
  let ready = false;
  const running = await phase(
    `Starting n8n on port ${options.port} (log: ${shown(logFile)})`,
    () =>
      start(home, {
        cwd: n8nDir,
        timeoutMs: 180_000,
        onSpawn: (child) => (handles.n8n = child),
        onOutput: (chunk) => {
          logStream.write(chunk);
          // After startup, show what n8n reports (problems, executions that failed, …), without
          // stack traces (they are in the log file).
          if (ready) for (const line of chunk.split('\n')) if (line.trim() && !/^\s+at /.test(line)) console.log(`  n8n │ ${line}`);
        },
      }),
    () => 'answering',
  );
  const everywhere = options.listenAddress === '0.0.0.0' || options.listenAddress === '::';
  const editor = `http://${isLoopback(options.listenAddress) || everywhere ? 'localhost' : hostFor(options.listenAddress)}:${options.port}`;
  // The editor page, not just the health check.
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${editor}/rest/settings`).catch(() => undefined);
    if (res?.ok) {
      const settings = (await res.json()) as { data?: { userManagement?: { showSetupOnFirstLoad?: boolean } } };
      if (settings.data?.userManagement?.showSetupOnFirstLoad) console.log('  The first visit shows n8n\'s owner setup page: create your owner account there.');
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  ready = true;

  console.log(`
n8n ready at ${editor}   (started in ${seconds(Date.now() - began)})

  Log in:        ${owner.email} / ${owner.source === 'option' ? '(your --password)' : `${owner.password}   (${owner.source === 'generated' ? 'generated now, ' : ''}kept in ${shown(owner.file)}, mode 0600)`}
  Credentials:   "${CREDENTIALS.clinic.name}" ${addressOf(identities.clinic)}
                 "${CREDENTIALS.lab.name}" ${addressOf(identities.lab)}
                 on ${access.platformUrl}${local ? ' (the local Platform)' : ''}
  Workflows:     ${examples.map((e) => `${e.name}${ACTIVE_EXAMPLES.includes(e.id) ? '  [active]' : ''}`).join('\n                 ')}
  Try:           open Example 2, click "Execute workflow": Clinic sends Lab a PDF; within a minute
                 Example 1 (active, Lab) saves it to ${shown(path.join(n8nDir, INBOX_DIRS[0]))} and replies.
${created ? '                 (Clinic and Lab were created just now; they are kept in ' + shown(identitiesFile) + ')\n' : ''}
Ctrl-C stops n8n${local ? ' and the local Platform' : ''}.`);

  const exit = await running.exited;
  if (!stopping) {
    console.error(`n8n exited (${exit.signal ?? `code ${exit.code}`}); see ${shown(logFile)}`);
    await handles.platform?.close();
    process.exit(exit.code === 0 ? 0 : 1);
  }
}

main().catch((error: unknown) => {
  // A child killed by a stop signal makes a phase fail: the signal handler finishes the stop.
  if (stopping) return;
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
