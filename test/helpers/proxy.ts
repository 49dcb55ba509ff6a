import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveLoopback } from './loopback-server';

/**
 * A real HTTP proxy on loopback that stands between one of our clients and the local Platform, for
 * tests that need a Platform (or a network) that misbehaves on purpose. Two ways, which can be
 * combined:
 *
 * Rewrites — a Platform that changes what it hands out. A test registers rewrites per method and
 * path pattern (`rewrite`, `rewriteJson`), which get the answer (status, headers, body) and may
 * return a changed body.
 *
 * Faults — for every request a `decide` function (`startProxy`'s second argument, or `setDecide`)
 * picks a fault, or none:
 *
 *   drop           close the connection without forwarding (nothing reached the Platform)
 *   status         answer 500 / 502 / 503 without forwarding
 *   quota          answer 429 error.platform.quotaExhausted with isExhaustedUntil = now + untilMs, without forwarding
 *   delay          forward, then hold the answer back for `ms` (beyond the client's timeout: the Platform DID act)
 *   loseResponse   forward, then close the connection without answering (the Platform DID act)
 *   cut            forward, then send the headers and half of the body, and close (a download cut midway)
 *
 * It forwards method, path, query, headers and body unchanged, reads the whole answer and
 * recomputes Content-Length. It listens on 127.0.0.1 and, when possible, ::1 on the same port, so
 * that `http://localhost:<port>` works — enmeshed addresses derive from the host name, and a client
 * must see `localhost`.
 */

export interface ProxiedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxiedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Returns the new body (Buffer or string), a whole new response, or nothing to leave the answer as it is. */
export type Rewrite = (response: ProxiedResponse, request: ProxiedRequest) => Buffer | string | ProxiedResponse | undefined | void;

export interface RewriteOptions {
  /** Only this many matching responses are rewritten (default: all, until removed). */
  times?: number;
  /** Only responses with this status (default 200). */
  status?: number;
}

export type Fault =
  | { kind: 'drop' }
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'quota'; untilMs: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'loseResponse' }
  | { kind: 'cut' };

export type Decide = (request: Pick<ProxiedRequest, 'method' | 'path' | 'url'>) => Fault | undefined;

/** One request that reached the proxy, logged when it arrives; `status` once there is an answer. */
export interface ProxyLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  url: string;
  status?: number;
  fault?: Fault['kind'];
  rewritten: boolean;
}

export interface TestProxy {
  /** http://localhost:<port> */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request that reached the proxy, in order of arrival. */
  readonly log: ProxyLogEntry[];
  /** Faults injected so far, per kind. */
  readonly injected: Record<Fault['kind'], number>;
  /** Registers a rewrite for `method` (case-insensitive) and responses whose path matches `path`. Returns its remover. */
  rewrite(method: string, path: RegExp, fn: Rewrite, options?: RewriteOptions): () => void;
  /**
   * The same for JSON answers: `fn` gets the parsed body (the Platform's `{result: …}` envelope) and
   * may change it in place or return a replacement.
   */
  rewriteJson(method: string, path: RegExp, fn: (json: any, request: ProxiedRequest) => unknown, options?: RewriteOptions): () => void;
  /** Removes all rewrites. */
  clear(): void;
  setDecide(decide: Decide | undefined): void;
  close(): Promise<void>;
}

interface Rule {
  method: string;
  path: RegExp;
  fn: Rewrite;
  status: number;
  remaining: number;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length'];

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function strip(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return out;
}

/** Waits `ms`, or less when the client hangs up first (a killed client leaves no timer behind). */
function holdUnlessClosed(incoming: IncomingMessage, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    incoming.socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A seeded pseudo-random generator (mulberry32), so fault sequences are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The answer of a fault that does not forward (status, quota), as the Platform's error envelope. */
function faultAnswer(fault: Extract<Fault, { kind: 'status' | 'quota' }>): { status: number; text: string } {
  const time = new Date().toISOString();
  if (fault.kind === 'status') {
    return { status: fault.status, text: JSON.stringify({ error: { id: 'ERRfault', code: 'error.platform.unexpected', message: `Injected ${fault.status}.`, docs: '', time } }) };
  }
  const until = new Date(Date.now() + fault.untilMs).toISOString();
  return {
    status: 429,
    text: JSON.stringify({
      error: {
        id: 'ERRquota',
        code: 'error.platform.quotaExhausted',
        message: 'A quota is exhausted.',
        docs: '',
        time,
        data: [{ metricKey: 'NumberOfSentMessages', isExhaustedUntil: until }],
      },
    }),
  };
}

/** Starts a proxy in front of `target` (e.g. the local Platform's baseUrl). */
export async function startProxy(target: string, initialDecide?: Decide): Promise<TestProxy> {
  const upstream = new URL(target);
  // The Platform listens on 127.0.0.1 for sure; talk to it there (no name resolution in between).
  const upstreamHost = upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname;
  const upstreamPort = Number(upstream.port || 80);
  let rules: Rule[] = [];
  let decide = initialDecide;
  const log: ProxyLogEntry[] = [];
  const injected: Record<Fault['kind'], number> = { drop: 0, status: 0, quota: 0, delay: 0, loseResponse: 0, cut: 0 };

  const forward = (req: ProxiedRequest): Promise<ProxiedResponse> =>
    new Promise((resolve, reject) => {
      const headers = strip(req.headers);
      headers['accept-encoding'] = 'identity';
      if (req.body.length > 0 || !['GET', 'HEAD'].includes(req.method)) headers['content-length'] = String(req.body.length);
      const out = httpRequest({ host: upstreamHost, port: upstreamPort, method: req.method, path: req.url, headers }, (res) => {
        readAll(res).then((body) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body }), reject);
      });
      out.on('error', reject);
      out.end(req.body);
    });

  const rewritten = (response: ProxiedResponse, request: ProxiedRequest): { response: ProxiedResponse; changed: boolean } => {
    let changed = false;
    for (const rule of rules) {
      if (rule.remaining <= 0 || rule.method !== request.method || rule.status !== response.status || !rule.path.test(request.path)) continue;
      rule.remaining--;
      const result = rule.fn(response, request);
      if (result === undefined) continue;
      changed = true;
      if (Buffer.isBuffer(result)) response = { ...response, body: result };
      else if (typeof result === 'string') response = { ...response, body: Buffer.from(result, 'utf8') };
      else response = result;
    }
    rules = rules.filter((r) => r.remaining > 0);
    return { response, changed };
  };

  const handle = async (incoming: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = incoming.url ?? '/';
    const method = (incoming.method ?? 'GET').toUpperCase();
    const request: ProxiedRequest = { method, path: url.split('?')[0], url, headers: incoming.headers, body: await readAll(incoming) };
    const fault = decide?.({ method, path: request.path, url });
    const entry: ProxyLogEntry = { method, path: request.path, url, fault: fault?.kind, rewritten: false };
    log.push(entry);
    if (fault) injected[fault.kind]++;

    if (fault?.kind === 'drop') {
      incoming.socket.destroy();
      return;
    }
    if (fault?.kind === 'status' || fault?.kind === 'quota') {
      const { status, text } = faultAnswer(fault);
      entry.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
      return;
    }

    let answer: ProxiedResponse;
    try {
      answer = await forward(request);
    } catch {
      entry.status = 502;
      res.writeHead(502).end();
      return;
    }
    entry.status = answer.status;
    if (fault?.kind === 'loseResponse') {
      incoming.socket.destroy();
      return;
    }
    const { response, changed } = rewritten(answer, request);
    entry.rewritten = changed;
    entry.status = response.status;
    if (fault?.kind === 'delay') await holdUnlessClosed(incoming, fault.ms);
    const headers = strip(response.headers);
    headers['content-length'] = String(response.body.length);
    if (fault?.kind === 'cut' && response.body.length > 1) {
      res.writeHead(response.status, headers as Record<string, string | string[]>);
      res.write(response.body.subarray(0, Math.floor(response.body.length / 2)), () => incoming.socket.destroy());
      return;
    }
    if (res.destroyed || incoming.socket.destroyed) return;
    res.writeHead(response.status, headers as Record<string, string | string[]>).end(response.body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const served = await serveLoopback(handler);

  const add = (method: string, path: RegExp, fn: Rewrite, options: RewriteOptions = {}): (() => void) => {
    const rule: Rule = { method: method.toUpperCase(), path, fn, status: options.status ?? 200, remaining: options.times ?? Infinity };
    rules.push(rule);
    return () => {
      rule.remaining = 0;
      rules = rules.filter((r) => r !== rule);
    };
  };

  return {
    baseUrl: served.baseUrl,
    port: served.port,
    log,
    injected,
    rewrite: add,
    rewriteJson(method, path, fn, options) {
      return add(
        method,
        path,
        (response, request) => {
          const json = JSON.parse(response.body.toString('utf8')) as unknown;
          const replaced = fn(json, request);
          return JSON.stringify(replaced === undefined ? json : replaced);
        },
        options,
      );
    },
    clear() {
      rules = [];
    },
    setDecide(d) {
      decide = d;
    },
    close: served.close,
  };
}
