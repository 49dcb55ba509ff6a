import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveLoopback } from './loopback-server';

/**
 * A real HTTP proxy on loopback that stands between one of our clients and the local Platform and
 * rewrites chosen responses: a Platform (or a network) that changes what it hands out.
 *
 * It forwards method, path, query, headers and body unchanged and reads the whole answer; a test
 * registers rewrites per method and path pattern, which get the answer (status, headers, body) and
 * may return a changed body. Content-Length is recomputed. Like the Platform it listens on
 * 127.0.0.1 and, when possible, ::1 on the same port, so that `http://localhost:<port>` works —
 * enmeshed addresses derive from the host name, and a client must see `localhost`.
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

export interface ProxyLogEntry {
  method: string;
  url: string;
  status: number;
  rewritten: boolean;
}

export interface TamperingProxy {
  /** http://localhost:<port> */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request that went through, in order. */
  readonly log: ProxyLogEntry[];
  /** Registers a rewrite for `method` (case-insensitive) and responses whose path matches `path`. Returns its remover. */
  rewrite(method: string, path: RegExp, fn: Rewrite, options?: RewriteOptions): () => void;
  /**
   * The same for JSON answers: `fn` gets the parsed body (the Platform's `{result: …}` envelope) and
   * may change it in place or return a replacement.
   */
  rewriteJson(method: string, path: RegExp, fn: (json: any, request: ProxiedRequest) => unknown, options?: RewriteOptions): () => void;
  /** Removes all rewrites. */
  clear(): void;
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

/** Starts a proxy in front of `target` (e.g. the local Platform's baseUrl). */
export async function startTamperingProxy(target: string): Promise<TamperingProxy> {
  const upstream = new URL(target);
  // The Platform listens on 127.0.0.1 for sure; talk to it there (no name resolution in between).
  const upstreamHost = upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname;
  const upstreamPort = Number(upstream.port || 80);
  let rules: Rule[] = [];
  const log: ProxyLogEntry[] = [];

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

  const handle = async (incoming: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = incoming.url ?? '/';
    const request: ProxiedRequest = {
      method: (incoming.method ?? 'GET').toUpperCase(),
      path: url.split('?')[0],
      url,
      headers: incoming.headers,
      body: await readAll(incoming),
    };
    let response: ProxiedResponse;
    try {
      response = await forward(request);
    } catch {
      res.writeHead(502).end();
      log.push({ method: request.method, url, status: 502, rewritten: false });
      return;
    }
    let rewritten = false;
    for (const rule of rules) {
      if (rule.remaining <= 0 || rule.method !== request.method || rule.status !== response.status || !rule.path.test(request.path)) continue;
      rule.remaining--;
      const result = rule.fn(response, request);
      if (result === undefined) continue;
      rewritten = true;
      if (Buffer.isBuffer(result)) response = { ...response, body: result };
      else if (typeof result === 'string') response = { ...response, body: Buffer.from(result, 'utf8') };
      else response = result;
    }
    rules = rules.filter((r) => r.remaining > 0);
    const headers = strip(response.headers);
    headers['content-length'] = String(response.body.length);
    res.writeHead(response.status, headers as Record<string, string | string[]>);
    res.end(response.body);
    log.push({ method: request.method, url, status: response.status, rewritten });
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
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
    close: served.close,
  };
}
