import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A handler served on 127.0.0.1 and, on the same port where possible, ::1 — so that
 * `http://localhost:<port>` works whichever address `localhost` resolves to (addresses derive from
 * the hostname, so test proxies must be reachable as `localhost` too).
 */
export interface LoopbackServer {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function serveLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LoopbackServer> {
  const servers: Server[] = [];
  const main = createServer(handler);
  await listen(main, 0, '127.0.0.1');
  servers.push(main);
  const port = (main.address() as AddressInfo).port;
  const v6 = createServer(handler);
  await listen(v6, port, '::1').then(
    () => servers.push(v6),
    () => undefined,
  );
  return {
    baseUrl: `http://localhost:${port}`,
    port,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}
