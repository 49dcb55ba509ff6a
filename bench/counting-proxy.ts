/**
 * A pass-through HTTP proxy on loopback that counts what one client costs: requests and response
 * bytes (body bytes as received from the Platform), in total and per route. Streams both ways, so
 * it adds little latency. Listens on 127.0.0.1 and, when possible, ::1 on the same port, so that
 * `http://localhost:<port>` works (enmeshed addresses derive from the host name `localhost`).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveLoopback } from '../test/helpers/loopback-server';

export interface Counts {
  requests: number;
  responseBytes: number;
  /** Sum of the Platform's X-Response-Duration-ms headers: time spent inside the Platform. */
  platformMs: number;
  /** "GET /api/v2/Messages" → requests and bytes; ids in paths are replaced by {id}. */
  byRoute: Record<string, { requests: number; responseBytes: number }>;
}

export interface CountingProxy {
  baseUrl: string;
  /** Counts since the last reset. */
  counts(): Counts;
  reset(): void;
  close(): Promise<void>;
}

const route = (method: string, url: string): string => `${method} ${url.split('?')[0].replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}')}`;

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const host = upstream.hostname === 'localhost' ? '127.0.0.1' : upstream.hostname;
  const port = Number(upstream.port || 80);
  let counts: Counts = { requests: 0, responseBytes: 0, platformMs: 0, byRoute: {} };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const key = route(req.method ?? 'GET', req.url ?? '/');
    const entry = (counts.byRoute[key] ??= { requests: 0, responseBytes: 0 });
    counts.requests++;
    entry.requests++;
    const out = httpRequest({ host, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      counts.platformMs += Number(answer.headers['x-response-duration-ms'] ?? 0) || 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => {
        counts.responseBytes += chunk.length;
        entry.responseBytes += chunk.length;
      });
      answer.pipe(res);
    });
    // A client that hangs up (an event stream closed) ends the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  };

  const served = await serveLoopback(handler);
  return {
    baseUrl: served.baseUrl,
    counts: () => counts,
    reset: () => {
      counts = { requests: 0, responseBytes: 0, platformMs: 0, byRoute: {} };
    },
    close: served.close,
  };
}
