/**
 * Command line entry of the local Platform.
 *
 *   node -r ts-node/register/transpile-only platform/cli.ts [--port 8091] [--data DIR]
 *        [--client-id test --client-secret test] [--admin-key KEY] [--token-lifetime SECONDS]
 *        [--max-recipients N] [--max-unreceived N] [--lenient-passwords] [--sse-keep-alive-ms N (240000)] [--no-sse]
 *
 * Prints exactly one line on stdout once it accepts requests:
 *   enmeshed local Platform ready at http://localhost:N
 * Without --data the state lives in memory. Stops cleanly on SIGINT/SIGTERM (exit 0).
 *
 * Adding OAuth clients while it runs: POST /admin/clients {"clientId","clientSecret"} with header
 * `X-Admin-Key: <key>` on the same port. Without --admin-key a random key is generated and written to stderr
 * (stdout stays the single ready line).
 */
import { startPlatform, type PlatformHandle } from './server';
import { randomSecret } from './util';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--lenient-passwords') out.set('lenient-passwords', 'true');
    else if (a === '--no-sse') out.set('no-sse', 'true');
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`missing value for ${a}`);
      out.set(a.slice(2), v);
      i++;
    }
  }
  return out;
}

function intArg(args: Map<string, string>, name: string): number | undefined {
  const v = args.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative integer`);
  return Number(v);
}

async function main(): Promise<void> {
  let args: Map<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
    if (intArg(args, 'sse-keep-alive-ms') === 0) throw new Error('--sse-keep-alive-ms must be at least 1');
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const adminKeyGiven = args.get('admin-key');
  const adminKey = adminKeyGiven ?? randomSecret(18);
  let handle: PlatformHandle;
  try {
    handle = await startPlatform({
      port: intArg(args, 'port') ?? 8091,
      dataDir: args.get('data'),
      clients: [{ clientId: args.get('client-id') ?? 'test', clientSecret: args.get('client-secret') ?? 'test' }],
      adminKey,
      tokenLifetimeSeconds: intArg(args, 'token-lifetime'),
      maxNumberOfMessageRecipients: intArg(args, 'max-recipients'),
      maxUnreceivedMessages: intArg(args, 'max-unreceived'),
      strictPasswordPolicy: args.has('lenient-passwords') ? false : undefined,
      sseKeepAliveMs: intArg(args, 'sse-keep-alive-ms'),
      sse: args.has('no-sse') ? false : undefined,
    });
  } catch (e) {
    process.stderr.write(`could not start the local Platform: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (!adminKeyGiven) process.stderr.write(`admin key (X-Admin-Key for /admin/clients): ${adminKey}\n`);
  process.stdout.write(`enmeshed local Platform ready at ${handle.baseUrl}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    handle.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
