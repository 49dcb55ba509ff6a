/**
 * Runs in a fresh process, on plain Node (cold-start.ts transpiles it to .tmp/: no ts-node), against
 * the BUILT package, as n8n uses it: require of dist/nodes/Enmeshed/Enmeshed.node.js (n8n does this
 * for every installed node when it starts; n8n-workflow is loaded before, as in n8n), then the
 * node's first execution of "Message → Send" (a Mail to a peer) with a minimal n8n execution
 * context, then the same execution warm. Prints one JSON line.
 *
 *   node .tmp/bench/cold-probe.js <credential JSON> <peer address> <warm runs>
 *
 * For the breakdown it wraps two functions of the loaded package (observing only): the Platform
 * client's `request` (each call with its path and time) and `cryptoReady` (libsodium's load and
 * initialisation, on the first call).
 */
import * as path from 'node:path';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const root = path.join(__dirname, '..', '..'); // .tmp/bench → the repository

interface RequestLog {
  method: string;
  path: string;
  ms: number;
}

type Execute = (this: unknown) => Promise<unknown[][]>;

/** The part of IExecuteFunctions that Message → Send uses (a Mail without attachments). */
function context(credential: Record<string, string>, parameters: Record<string, unknown>): unknown {
  return {
    getInputData: () => [{ json: {} }],
    getNode: () => ({ id: 'probe', name: 'Enmeshed', type: 'n8n-nodes-enmeshed.enmeshed', typeVersion: 1, position: [0, 0], parameters }),
    getCredentials: async () => credential,
    continueOnFail: () => false,
    getNodeParameter(name: string, _item: number, fallback?: unknown, options?: { extractValue?: boolean }): unknown {
      const value = name.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], parameters) ?? fallback;
      if (value === undefined) throw new Error(`Could not get parameter "${name}"`);
      const locator = value as { __rl?: boolean; value?: unknown };
      return options?.extractValue && locator?.__rl ? locator.value : value;
    },
    helpers: {},
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  };
}

async function main(): Promise<void> {
  const [credentialText, peer, runsText] = process.argv.slice(2);
  const bootMs = process.uptime() * 1000;
  // by the package's folder name (the install may be a shared folder not called node_modules)
  const loaded = (name: string): boolean => Object.keys(require.cache).some((file) => file.includes(`${path.sep}${name}${path.sep}`));

  let t = now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(root, 'node_modules', 'n8n-workflow'));
  const n8nWorkflowMs = now() - t;

  t = now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Enmeshed } = require(path.join(root, 'dist', 'nodes', 'Enmeshed', 'Enmeshed.node.js')) as { Enmeshed: new () => { nodeVersions: Record<number, { execute: Execute }> } };
  const node = new Enmeshed();
  const requireMs = now() - t;
  const atRequire = { libsodium: loaded('libsodium-wrappers-sumo'), axios: loaded('axios') };

  const requests: RequestLog[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require(path.join(root, 'dist', 'lib', 'platform', 'http.js')) as { HttpClient: { prototype: { request: (spec: { method: string; path: string }) => Promise<unknown> } } };
  const request = http.HttpClient.prototype.request;
  http.HttpClient.prototype.request = async function (this: unknown, spec: { method: string; path: string }, ...rest: unknown[]) {
    const started = now();
    try {
      return await (request as (...args: unknown[]) => Promise<unknown>).call(this, spec, ...rest);
    } finally {
      requests.push({ method: spec.method.toUpperCase(), path: spec.path.replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}'), ms: Math.round(now() - started) });
    }
  };
  let cryptoReadyMs: number | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sodium = require(path.join(root, 'dist', 'lib', 'crypto', 'sodium.js')) as { cryptoReady: () => Promise<unknown> };
  const cryptoReady = sodium.cryptoReady;
  sodium.cryptoReady = async () => {
    const started = now();
    const result = await cryptoReady();
    cryptoReadyMs ??= now() - started;
    return result;
  };

  const credential = JSON.parse(credentialText) as Record<string, string>;
  const execute = node.nodeVersions[1].execute;
  const send = async (i: number): Promise<number> => {
    const parameters = {
      resource: 'message',
      operation: 'send',
      to: { __rl: true, mode: 'address', value: peer },
      contentType: 'mail',
      subject: `cold start ${i}`,
      body: 'hello',
      attachments: '',
      options: {},
    };
    const started = now();
    const [items] = await execute.call(context(credential, parameters));
    if (items.length !== 1) throw new Error('the send returned no item');
    return now() - started;
  };

  const firstMs = await send(0);
  const first = { ms: firstMs, cryptoReadyMs: cryptoReadyMs ?? 0, requests: requests.length, requestLog: requests.map((r) => `${r.method} ${r.path} ${r.ms}ms`) };

  const warm: number[] = [];
  let warmRequests = 0;
  for (let i = 1; i <= Number(runsText || 10); i++) {
    const before = requests.length;
    warm.push(await send(i));
    warmRequests = requests.length - before;
  }
  warm.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ bootMs, n8nWorkflowMs, requireMs, atRequire, first, warmMs: warm[Math.floor(warm.length / 2)], warmRequests }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
