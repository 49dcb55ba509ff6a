/**
 * Requests whose body goes into a sink as it arrives (file downloads): every way an HTTP/1.1 body
 * can be framed, interim answers, errors, and connections that break or stall midway — on the
 * direct connection of lib/platform/http.ts and, behind a proxy, through axios.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClient, PlatformError, type BodySink } from '../../lib/backbone';
import { json, scriptedServer, type ScriptedServer, type Step } from '../helpers/scripted-server';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));

/** A sink that keeps copies of what it gets, and the Content-Length it was told. */
function recorder(): { sinks: { length: number | undefined; chunks: Buffer[] }[]; sink: (length: number | undefined) => BodySink<Buffer> } {
  const sinks: { length: number | undefined; chunks: Buffer[] }[] = [];
  return {
    sinks,
    sink: (length) => {
      const record = { length, chunks: [] as Buffer[] };
      sinks.push(record);
      return { write: (chunk) => void record.chunks.push(Buffer.from(chunk)), end: () => Buffer.concat(record.chunks) };
    },
  };
}

const client = (url: string, timeoutMs = 2_000): HttpClient => new HttpClient({ baseUrl: url, backoffMs: 5, maxAttempts: 3, timeoutMs });
const get = (sink: (length: number | undefined) => BodySink<unknown>) => ({ method: 'GET' as const, path: '/api/v2/Files/FILaaaaaaaaaaaaaaaaa', query: new URLSearchParams({ a: '1' }), sink });

/** Writes the body in pieces, a few milliseconds apart. */
const pieces =
  (headers: Record<string, string | number>): Step =>
  (_req, res) => {
    res.writeHead(200, headers);
    let at = 0;
    const next = (): void => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 70_001));
      at += 70_001;
      setTimeout(next, 2);
    };
    next();
  };

test('Content-Length body: arrives whole and in order; the sink is told the length', async () => {
  server = await scriptedServer([pieces({ 'Content-Length': body.length })]);
  const { sinks, sink } = recorder();
  const response = await client(server.url).request<Buffer>(get(sink), 'Bearer t');
  expect(response.status).toBe(200);
  expect(response.data.equals(body)).toBe(true);
  expect(sinks.map((s) => s.length)).toEqual([body.length]);
  expect(server.requests[0].url).toBe('/api/v2/Files/FILaaaaaaaaaaaaaaaaa?a=1');
});

test('chunked body: arrives whole; no length to tell', async () => {
  server = await scriptedServer([pieces({})]);
  const { sinks, sink } = recorder();
  const response = await client(server.url).request<Buffer>(get(sink));
  expect(response.data.equals(body)).toBe(true);
  expect(sinks.map((s) => s.length)).toEqual([undefined]);
});

/** A raw TCP server answering every connection with `answer` (bytes written as given, then closed). */
async function rawServer(answer: (socket: Socket) => void): Promise<{ url: string; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer((socket) => {
    sockets.add(socket);
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        heads.push(head);
        answer(socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    heads,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

test('a body that ends when the connection closes, after an interim 100 answer', async () => {
  const srv = await rawServer((socket) => {
    socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
    socket.end(body);
  });
  try {
    const { sink } = recorder();
    const response = await client(srv.url).request<Buffer>(get(sink), 'Bearer token');
    expect(response.data.equals(body)).toBe(true);
    // what was sent: the authorization, no compression, one connection per request
    expect(srv.heads[0]).toMatch(/^GET \/api\/v2\/Files\/FILaaaaaaaaaaaaaaaaa\?a=1 HTTP\/1\.1\r\n/);
    expect(srv.heads[0]).toMatch(/\r\nAuthorization: Bearer token\r\n/);
    expect(srv.heads[0]).toMatch(/\r\nAccept-Encoding: identity\r\n/);
    expect(srv.heads[0]).toMatch(/\r\nConnection: close\r\n/);
  } finally {
    await srv.close();
  }
});

test('a chunked body with extensions and trailers, split at every byte', async () => {
  const wire = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n');
  const srv = await rawServer((socket) => {
    let i = 0;
    const next = (): void => {
      if (i >= wire.length) return;
      socket.write(wire.subarray(i, ++i), () => setImmediate(next));
    };
    next();
  });
  try {
    const { sink } = recorder();
    const response = await client(srv.url).request<Buffer>(get(sink));
    expect(response.data.toString()).toBe('hello 0123456789');
  } finally {
    await srv.close();
  }
});

test('an error answer is read as an error envelope; no sink is opened', async () => {
  server = await scriptedServer([json(404, { error: { id: 'E', code: 'error.platform.recordNotFound', message: 'File not found.', docs: '', time: '' } })]);
  const { sinks, sink } = recorder();
  const error = await client(server.url).request(get(sink)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PlatformError);
  expect(error).toMatchObject({ code: 'error.platform.recordNotFound', status: 404 });
  expect(sinks).toHaveLength(0);
});

test('cut midway: retried with a fresh sink, and the whole body arrives', async () => {
  const cut: Step = (_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length });
    res.write(body.subarray(0, 100_000), () => res.socket?.destroy());
  };
  server = await scriptedServer([cut, pieces({ 'Content-Length': body.length })]);
  const { sinks, sink } = recorder();
  const response = await client(server.url).request<Buffer>(get(sink));
  expect(response.data.equals(body)).toBe(true);
  expect(sinks).toHaveLength(2);
});

test('a body that stalls midway times out (idle timeout), and so does every retry', async () => {
  const stall: Step = (_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length });
    res.write(body.subarray(0, 1000));
  };
  server = await scriptedServer([], stall);
  const { sinks, sink } = recorder();
  const error = await client(server.url, 300)
    .request(get(sink))
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ kind: 'timeout', code: 'error.client.timeout' });
  expect(sinks).toHaveLength(3);
});

test('a sink that throws: its error comes out as it is, without a retry', async () => {
  server = await scriptedServer([pieces({ 'Content-Length': body.length })]);
  const broken = new RangeError('sink broke');
  const error = await client(server.url)
    .request(get(() => ({ write: () => { throw broken; }, end: () => undefined })))
    .catch((e: unknown) => e);
  expect(error).toBe(broken);
  expect(server.requests).toHaveLength(1);
});

test('behind an HTTP proxy the request goes through axios (which honours the proxy) and still streams', async () => {
  server = await scriptedServer([pieces({ 'Content-Length': body.length })]);
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = server.url;
  try {
    const { sinks, sink } = recorder();
    const response = await client('http://platform.invalid').request<Buffer>(get(sink));
    expect(response.data.equals(body)).toBe(true);
    expect(sinks.map((s) => s.length)).toEqual([body.length]);
    expect(server.requests[0].url).toBe('http://platform.invalid/api/v2/Files/FILaaaaaaaaaaaaaaaaa?a=1'); // absolute form: a proxy request
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
  }
});

/** A self-signed certificate for localhost from the openssl command line, if there is one. */
function selfSigned(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'c.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tlsMaterial = selfSigned();
(tlsMaterial ? test : test.skip)('over TLS: the certificate is checked (trust from https.globalAgent, as for axios), then the body streams', async () => {
  const { key, cert } = tlsMaterial!;
  const srv = https.createServer({ key, cert }, (_req, res) => pieces({ 'Content-Length': body.length })(_req, res, Buffer.alloc(0)));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(srv.address() as AddressInfo).port}`;
  const saved = https.globalAgent.options.ca;
  try {
    const { sink } = recorder();
    // untrusted: a network error, not a body
    await expect(client(url).request(get(sink))).rejects.toMatchObject({ kind: 'network' });
    https.globalAgent.options.ca = cert;
    const response = await client(url).request<Buffer>(get(sink));
    expect(response.data.equals(body)).toBe(true);
  } finally {
    https.globalAgent.options.ca = saved;
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
});

describe('a body from a source (uploads)', () => {
  /** A source over `bytes` that hands out at most `step` bytes per read. */
  const sourceOf = (bytes: Buffer, step = 10_000, opened: number[] = []) => ({
    length: bytes.length,
    open() {
      opened.push(1);
      let at = 0;
      return {
        read(target: Buffer) {
          const n = bytes.copy(target, 0, at, Math.min(bytes.length, at + step));
          at += n;
          return n;
        },
      };
    },
  });
  const post = (source: ReturnType<typeof sourceOf> | { length: number; open(): { read(target: Buffer): number } }) => ({
    method: 'POST' as const,
    path: '/api/v2/Files',
    source,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  const created = json(201, { result: { id: 'FILaaaaaaaaaaaaaaaaa' } });

  test('arrives whole with its Content-Length, written as the connection takes it; the JSON answer is read', async () => {
    server = await scriptedServer([created]);
    const response = await client(server.url).request<{ id: string }>(post(sourceOf(body)));
    expect(response.data.id).toBe('FILaaaaaaaaaaaaaaaaa');
    expect(server.requests[0].body).toBe(body.toString('utf8'));
  });

  test('a source that throws, or gives fewer bytes than announced: its error as it is, nothing retried', async () => {
    server = await scriptedServer([], created);
    const broken = new RangeError('source broke');
    const throwing = { length: 100, open: () => ({ read: (): number => { throw broken; } }) };
    expect(await client(server.url).request(post(throwing)).catch((e: unknown) => e)).toBe(broken);
    const short = { ...sourceOf(body), length: body.length + 1 };
    const error = await client(server.url).request(post(short)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PlatformError);
    expect((error as Error).message).toMatch(/not the \d+ announced/);
    // a small body (read whole, shared connection) longer than announced
    const long = { ...sourceOf(Buffer.alloc(200, 1)), length: 100 };
    expect(((await client(server.url).request(post(long)).catch((e: unknown) => e)) as Error).message).toBe('the request body has more than 100 bytes, not the 100 announced');
    expect(server.requests).toHaveLength(0);
  });

  test('an answer before the body was sent (here 413) is the outcome, not a broken connection', async () => {
    const srv = await rawServer((socket) => {
      socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    });
    try {
      const opened: number[] = [];
      const error = await client(srv.url).request(post(sourceOf(Buffer.alloc(8 * 1024 * 1024), 65536, opened))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformError);
      expect(error).toMatchObject({ status: 413 });
      expect(opened).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  test('behind an HTTP proxy: through axios, the same bytes', async () => {
    server = await scriptedServer([created]);
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = server.url;
    try {
      const response = await client('http://platform.invalid').request<{ id: string }>(post(sourceOf(body)));
      expect(response.data.id).toBe('FILaaaaaaaaaaaaaaaaa');
      expect(server.requests[0].body).toBe(body.toString('utf8'));
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
    }
  });
});

test('bodies known to be small share the keep-alive connection; large or unknown ones get their own', async () => {
  const connections: string[] = [];
  const answer: Step = (req, res) => {
    connections.push(`${req.method} ${req.headers.connection}`);
    if (req.method === 'GET') pieces({ 'Content-Length': body.length })(req, res, Buffer.alloc(0));
    else json(201, { result: { id: 'FILaaaaaaaaaaaaaaaaa' } })(req, res, Buffer.alloc(0));
  };
  server = await scriptedServer([], answer);
  const c = client(server.url);
  const { sink } = recorder();
  const upload = (length: number) => ({
    method: 'POST' as const,
    path: '/api/v2/Files',
    source: {
      length,
      open() {
        let left = length;
        return {
          read(target: Buffer) {
            const n = Math.min(target.length, left);
            left -= n;
            target.fill(1, 0, n);
            return n;
          },
        };
      },
    },
  });
  expect((await c.request<Buffer>({ ...get(sink), expectedBytes: 1000 })).data.equals(body)).toBe(true);
  expect((await c.request<Buffer>({ ...get(sink), expectedBytes: 1 << 20 })).data.equals(body)).toBe(true);
  expect((await c.request<Buffer>(get(sink))).data.equals(body)).toBe(true);
  await c.request(upload(1000));
  await c.request(upload(1 << 20));
  expect(connections).toEqual(['GET keep-alive', 'GET close', 'GET close', 'POST keep-alive', 'POST close']);
});
