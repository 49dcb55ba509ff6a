/**
 * lib/backbone under faults the local Platform cannot produce on demand, served by a scripted real
 * HTTP server: quota back-off, retries that must or must not happen, timeouts, malformed answers.
 */
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { HttpClient, PlatformClient, PlatformError, type RequestEvent } from '../../lib/backbone';
import { drop, hang, json, raw, scriptedServer, type ScriptedServer, type Step } from '../helpers/scripted-server';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ok = json(201, { result: { id: 'MSGaaaaaaaaaaaaaaaaa', createdAt: new Date().toISOString() } });
const quota = (untilMs: number) =>
  json(429, {
    error: {
      id: 'ERR1',
      code: 'error.platform.quotaExhausted',
      message: 'quota',
      docs: '',
      time: new Date().toISOString(),
      data: [{ metricKey: 'NumberOfSentMessages', isExhaustedUntil: new Date(Date.now() + untilMs).toISOString() }],
    },
  });

function http(url: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): { client: HttpClient; events: RequestEvent[] } {
  const events: RequestEvent[] = [];
  const client = new HttpClient({ baseUrl: url, backoffMs: 10, maxAttempts: 3, onRequest: (e) => events.push(e), ...extra });
  return { client, events };
}

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformError);
    return error as PlatformError;
  }
  throw new Error('expected a PlatformError');
}

const post = { method: 'POST' as const, path: '/api/v2/Messages', body: { x: 1 } };
const get = { method: 'GET' as const, path: '/api/v2/Messages/MSGaaaaaaaaaaaaaaaaa' };

test('429 with isExhaustedUntil close by: waits, then the send goes through once', async () => {
  server = await scriptedServer([quota(300), ok]);
  const started = Date.now();
  const { client } = http(server.url);
  const response = await client.request<{ id: string }>(post);
  expect(response.data.id).toBe('MSGaaaaaaaaaaaaaaaaa');
  expect(server.requests).toHaveLength(2);
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
});

test('429 exhausted for longer than the client waits: fails at once with the date', async () => {
  server = await scriptedServer([quota(3_600_000)]);
  const error = await failure(http(server.url).client.request(post));
  expect(error.code).toBe('error.platform.quotaExhausted');
  expect(error.status).toBe(429);
  expect(error.exhaustedUntil!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  expect(server.requests).toHaveLength(1);
});

test('500 on a read is retried; on a send it is not (the message may have been stored)', async () => {
  const fail = json(500, { error: { code: 'error.platform.unexpected', message: 'boom' } });
  server = await scriptedServer([fail, json(200, { result: { id: 'x' } })]);
  expect((await http(server.url).client.request<{ id: string }>(get)).data.id).toBe('x');
  expect(server.requests).toHaveLength(2);
  await server.close();

  server = await scriptedServer([fail, ok]);
  const error = await failure(http(server.url).client.request(post));
  expect(error.code).toBe('error.platform.unexpected');
  expect(server.requests).toHaveLength(1);
});

test('a dropped connection: a read is retried, a send is reported, not repeated', async () => {
  server = await scriptedServer([drop, json(200, { result: { id: 'y' } })]);
  expect((await http(server.url).client.request<{ id: string }>(get)).data.id).toBe('y');
  await server.close();

  server = await scriptedServer([drop, ok]);
  const error = await failure(http(server.url).client.request(post));
  expect(error.kind).toBe('network');
  expect(server.requests).toHaveLength(1);
});

test('connection refused: nothing was sent, so even a send is retried, then reported', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const { client, events } = http(`http://localhost:${port}`);
  const error = await failure(client.request(post));
  expect(error.kind).toBe('network');
  expect(error.message).toContain(`localhost:${port}`);
  expect(events).toHaveLength(3);
});

test('a hanging Platform times out with a clear error', async () => {
  server = await scriptedServer([], hang);
  const error = await failure(http(server.url, { timeoutMs: 150, maxAttempts: 2 }).client.request(get));
  expect(error.kind).toBe('timeout');
  expect(server.requests).toHaveLength(2);
});

test('malformed answers: 2xx without result, not JSON; unknown route 404 without body', async () => {
  server = await scriptedServer([json(200, { nothing: true }), raw(200, '<html>'), raw(404, '')]);
  const { client } = http(server.url);
  expect((await failure(client.request(get))).code).toBe('error.client.malformedResponse');
  expect((await failure(client.request(get))).code).toBe('error.client.malformedResponse');
  const notFound = await failure(client.request(get));
  expect(notFound.code).toBe('error.platform.recordNotFound');
  expect(notFound.status).toBe(404);
});

test('the envelope is read on every status (the reference client drops it on 409/502)', async () => {
  server = await scriptedServer([json(409, { error: { code: 'error.platform.validation.something', message: 'conflict' } })]);
  const error = await failure(http(server.url).client.request(post));
  expect(error).toMatchObject({ code: 'error.platform.validation.something', status: 409, message: 'conflict' });
});

test('401 on an authenticated call: one new login and one retry; a second 401 is reported', async () => {
  const token = json(200, { access_token: 't', expires_in: 300 });
  const unauthorized = raw(401, '');
  server = await scriptedServer([token, unauthorized, token, json(200, { result: { address: 'did:e:x' } })]);
  const client = new PlatformClient({ baseUrl: server.url, login: { clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } });
  expect((await client.getIdentity()).address).toBe('did:e:x');
  expect(client.logins).toBe(2);
  await server.close();

  server = await scriptedServer([token, unauthorized, token, unauthorized]);
  const again = new PlatformClient({ baseUrl: server.url, login: { clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } });
  const error = await failure(again.getIdentity());
  expect(error.status).toBe(401);
  expect(server.requests).toHaveLength(4);
  // the login form carried the password; no error or event text does
  expect(JSON.stringify(error) + error.message).not.toContain('password=p');
});

test('a record fetched by id must be that record: another id is error.client.wrongRecord, for every caller', async () => {
  const token = json(200, { access_token: 't', expires_in: 300 });
  const address = (n: number): string => `did:e:localhost:dids:${String(n).repeat(22)}`;
  const relationship = (id: string) =>
    json(200, {
      result: { id, relationshipTemplateId: 'RLTaaaaaaaaaaaaaaaaa', from: address(1), to: address(2), status: 'Pending', createdAt: new Date().toISOString(), auditLog: [] },
    });
  const asked = 'RELaaaaaaaaaaaaaaaaa';
  server = await scriptedServer([token, relationship('RELbbbbbbbbbbbbbbbbb'), relationship('RELbbbbbbbbbbbbbbbbb'), relationship(asked)]);
  const client = new PlatformClient({ baseUrl: server.url, login: { clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } });
  const error = await failure(client.getRelationship(asked));
  expect(error).toMatchObject({ kind: 'malformedResponse', code: 'error.client.wrongRecord', method: 'GET', path: `/api/v2/Relationships/${asked}` });
  expect(error.message).toBe(`The Platform answered the request for relationship ${asked} with relationship RELbbbbbbbbbbbbbbbbb`);
  expect((await failure(client.acceptRelationship(asked))).code).toBe('error.client.wrongRecord');
  expect((await client.getRelationship(asked)).id).toBe(asked);
});

test('JSON calls: the query as given, a compressed answer inflated, a body cut short retried as a broken connection', async () => {
  const answer = { result: { id: 'MSGaaaaaaaaaaaaaaaaa' } };
  const gzipped: Step = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(gzipSync(JSON.stringify(answer)));
  };
  const cut: Step = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
    res.write('{"result":');
    setTimeout(() => res.socket?.destroy(), 20);
  };
  server = await scriptedServer([cut, gzipped]);
  const { client, events } = http(server.url);
  const response = await client.request<{ id: string }>({ ...get, query: new URLSearchParams([['ids', 'a'], ['ids', 'b']]), headers: { 'X-Test': '1' } }, 'Bearer t');
  expect(response.data).toEqual(answer.result);
  expect(server.requests.map((r) => r.url)).toEqual(['/api/v2/Messages/MSGaaaaaaaaaaaaaaaaa?ids=a&ids=b', '/api/v2/Messages/MSGaaaaaaaaaaaaaaaaa?ids=a&ids=b']);
  expect(events.map((e) => e.error ?? e.status)).toEqual(['error.client.network', 200]);
});

test('behind an HTTP proxy, JSON calls go through axios, which honours it', async () => {
  server = await scriptedServer([ok]);
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = server.url;
  try {
    const response = await http('http://platform.invalid').client.request<{ id: string }>(post);
    expect(response.data.id).toBe('MSGaaaaaaaaaaaaaaaaa');
    expect(server.requests[0].url).toBe('http://platform.invalid/api/v2/Messages'); // absolute form: a proxy request
    expect(JSON.parse(server.requests[0].body)).toEqual({ x: 1 });
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
  }
});
