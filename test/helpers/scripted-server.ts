import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on loopback that answers from a script: for faults the local Platform cannot
 * produce on demand (a 429 that frees up in 300 ms, a 2xx without "result", a hang).
 */
export type Step = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface ScriptedServer {
  url: string;
  requests: { method: string; url: string; body: string }[];
  close(): Promise<void>;
}

export async function scriptedServer(steps: Step[], fallback?: Step): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  let i = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8') });
      const step = steps[i++] ?? fallback;
      if (!step) {
        res.writeHead(500).end();
        return;
      }
      step(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json =
  (status: number, value: unknown, headers: Record<string, string> = {}): Step =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
  };

export const raw =
  (status: number, text: string): Step =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);
  };

/** Never answers (until the server closes). */
export const hang: Step = () => undefined;

/** Closes the socket without an answer. */
export const drop: Step = (req) => {
  req.socket.destroy();
};
