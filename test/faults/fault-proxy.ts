import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveLoopback } from '../helpers/loopback-server';

/**
 * A fault-injecting HTTP proxy on loopback between one of our clients and the local Platform. For
 * every request a `decide` function picks a fault (or none):
 *
 *   drop           close the connection without forwarding (nothing reached the Platform)
 *   status         answer 500 / 502 / 503 without forwarding
 *   quota          answer 429 error.platform.quotaExhausted with isExhaustedUntil = now + untilMs, without forwarding
 *   delay          forward, then hold the answer back for `ms` (beyond the client's timeout: the Platform DID act)
 *   loseResponse   forward, then close the connection without answering (the Platform DID act)
 *   cut            forward, then send the headers and half of the body, and close (a download cut midway)
 *
 * Listens on 127.0.0.1 and ::1 on the same port, so `http://localhost:<port>` works (enmeshed
 * addresses derive from the host name).
 */

export type Fault =
  | { kind: 'drop' }
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'quota'; untilMs: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'loseResponse' }
  | { kind: 'cut' };

export interface FaultRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  url: string;
}

export type Decide = (request: FaultRequest) => Fault | undefined;

export interface FaultLogEntry extends FaultRequest {
  fault?: Fault['kind'];
  status?: number;
}

export interface FaultProxy {
  readonly baseUrl: string;
  readonly log: FaultLogEntry[];
  /** Faults injected so far, per kind. */
  readonly injected: Record<Fault['kind'], number>;
  setDecide(decide: Decide | undefined): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length'];

function strip(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

export async function startFaultProxy(target: string, initial?: Decide): Promise<FaultProxy> {
  const upstream = new URL(target);
  const host = upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname;
  const port = Number(upstream.port || 80);
  let decide = initial;
  const log: FaultLogEntry[] = [];
  const injected: Record<Fault['kind'], number> = { drop: 0, status: 0, quota: 0, delay: 0, loseResponse: 0, cut: 0 };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = strip(req.headers);
      headers['accept-encoding'] = 'identity';
      headers['content-length'] = String(body.length);
      const out = httpRequest({ host, port, method: req.method, path: req.url, headers }, (res) => {
        readAll(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const request: FaultRequest = { method: (req.method ?? 'GET').toUpperCase(), path: url.split('?')[0], url };
    const body = await readAll(req);
    const fault = decide?.(request);
    const entry: FaultLogEntry = { ...request, fault: fault?.kind };
    log.push(entry);
    if (fault) injected[fault.kind]++;

    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      entry.status = fault.status;
      const text = JSON.stringify({ error: { id: 'ERRfault', code: 'error.platform.unexpected', message: `Injected ${fault.status}.`, docs: '', time: new Date().toISOString() } });
      res.writeHead(fault.status, { 'Content-Type': 'application/json' }).end(text);
      return;
    }
    if (fault?.kind === 'quota') {
      entry.status = 429;
      const until = new Date(Date.now() + fault.untilMs).toISOString();
      const text = JSON.stringify({
        error: {
          id: 'ERRquota',
          code: 'error.platform.quotaExhausted',
          message: 'A quota is exhausted.',
          docs: '',
          time: new Date().toISOString(),
          data: [{ metricKey: 'NumberOfSentMessages', isExhaustedUntil: until }],
        },
      });
      res.writeHead(429, { 'Content-Type': 'application/json' }).end(text);
      return;
    }

    let answer: { status: number; headers: IncomingHttpHeaders; body: Buffer };
    try {
      answer = await forward(req, body);
    } catch {
      res.writeHead(502).end();
      entry.status = 502;
      return;
    }
    entry.status = answer.status;
    if (fault?.kind === 'loseResponse') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    const headers = strip(answer.headers);
    headers['content-length'] = String(answer.body.length);
    if (fault?.kind === 'cut' && answer.body.length > 1) {
      res.writeHead(answer.status, headers as Record<string, string | string[]>);
      res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)), () => req.socket.destroy());
      return;
    }
    if (res.destroyed || req.socket.destroyed) return;
    res.writeHead(answer.status, headers as Record<string, string | string[]>).end(answer.body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
    });
  };
  const served = await serveLoopback(handler);
  return {
    baseUrl: served.baseUrl,
    log,
    injected,
    setDecide: (d) => {
      decide = d;
    },
    close: served.close,
  };
}
