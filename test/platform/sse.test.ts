/**
 * Server-sent events of the local Platform (GET /api/v1/sse, /api/v2/sse) over real HTTP, byte for byte:
 * auth answers, headers, the first bytes, keep-alives, the events each action pushes, and the SSE server's
 * one-stream-per-identity behaviour (a second stream orphans the first, whose end later silences a newer one).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import {
  b64u,
  createIdentity,
  DW,
  getToken,
  messageBody,
  newChallenge,
  relate,
  request,
  signChallenge,
  startPlatform,
  strongPassword,
  type Identity,
  type PlatformHandle,
} from './helpers';

const OPENED = 'event: ConnectionOpened\ndata: _\n\n';
const KEEP_ALIVE = 'event: keep-alive\ndata: _\n\n';
const ev = (name: string): string => `event: ${name}\ndata: _\n\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text: () => string;
  /** Receive times (ms since the request was sent) of each chunk with its text. */
  chunks: { at: number; text: string }[];
  ended: Promise<void>;
  isEnded: () => boolean;
  close: () => void;
  /** Waits until the received text has `length` more characters than `from` (or throws after timeoutMs). */
  waitFor: (predicate: (text: string) => boolean, timeoutMs?: number) => Promise<void>;
}

function open(base: string, path: string, headers: Record<string, string> = {}): Promise<Stream> {
  const url = new URL(path, base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: url.port, path: url.pathname, headers, agent: false }, (res: IncomingMessage) => {
      let text = '';
      let ended = false;
      const chunks: { at: number; text: string }[] = [];
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        chunks.push({ at: Date.now() - started, text: d });
        for (const w of [...waiters]) w();
      });
      const endedPromise = new Promise<void>((r) => {
        const done = () => {
          ended = true;
          r();
          for (const w of [...waiters]) w();
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        chunks,
        ended: endedPromise,
        isEnded: () => ended,
        close: () => req.destroy(),
        waitFor: (predicate, timeoutMs = 5000) =>
          new Promise<void>((ok, fail) => {
            const check = () => {
              if (predicate(text)) {
                waiters.delete(check);
                clearTimeout(timer);
                ok();
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out; received so far: ${JSON.stringify(text)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const sse = (id: Identity, version = 'v2') => open(id.base, `/api/${version}/sse`, { authorization: `Bearer ${id.token}` });
const count = (text: string, name: string) => text.split(ev(name)).length - 1;

async function secondDevice(id: Identity): Promise<string> {
  const c = await newChallenge(id.base, id.token);
  const text = JSON.stringify({ expiresAt: c.expiresAt, id: c.id, type: 'Device' });
  const password = strongPassword();
  const dev = await id.req('POST', '/api/v2/Devices', { json: { devicePassword: password, signedChallenge: { challenge: text, signature: signChallenge(text, id.keyPair) } } });
  expect(dev.status).toBe(201);
  return (await getToken(id.base, dev.body.result.username, password)).body.access_token as string;
}

describe('SSE', () => {
  let platform: PlatformHandle;
  const streams: Stream[] = [];
  beforeAll(async () => {
    platform = await startPlatform({ port: 0, sseKeepAliveMs: 60_000 });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await platform.close();
  });
  const track = (s: Stream) => (streams.push(s), s);

  it('auth: bare 401 with WWW-Authenticate, no body; ASP.NET JwtBearer clock skew', async () => {
    const id = await createIdentity(platform.baseUrl);
    const none = await open(platform.baseUrl, '/api/v2/sse');
    await none.ended;
    expect([none.status, none.headers['www-authenticate'], none.text()]).toEqual([401, 'Bearer', '']);
    const basic = await open(platform.baseUrl, '/api/v1/sse', { authorization: 'Basic dTpw' });
    await basic.ended;
    expect([basic.status, basic.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    const garbage = await open(platform.baseUrl, '/api/v2/sse', { authorization: 'Bearer not-a-token' });
    await garbage.ended;
    expect([garbage.status, garbage.headers['www-authenticate'], garbage.text()]).toEqual([401, 'Bearer error="invalid_token"', '']);
    const forged = await open(platform.baseUrl, '/api/v2/sse', { authorization: `Bearer ${id.token.slice(0, -4)}AAAA` });
    await forged.ended;
    expect([forged.status, forged.headers['www-authenticate']]).toEqual([401, 'Bearer error="invalid_token", error_description="The signature is invalid"']);

    // 301 s after login the Consumer API refuses the token (lifetime 300 s), the SSE server still takes it.
    platform.advanceClock(301_000);
    try {
      expect((await id.req('GET', '/api/v2/Identities/Self')).status).toBe(401);
      const late = track(await sse(id));
      expect(late.status).toBe(200);
      late.close();
      platform.advanceClock(5 * 60_000);
      const expired = await sse(id);
      await expired.ended;
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="The token expired at '\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d'"$/);
      expect(expired.text()).toBe('');
    } finally {
      platform.advanceClock(-(301_000 + 5 * 60_000));
    }
  });

  it('headers, first bytes, keep-alive every period (the first one a period after connecting), v1 and v2', async () => {
    platform.configure({ sseKeepAliveMs: 400 });
    try {
      for (const version of ['v1', 'v2']) {
        const id = await createIdentity(platform.baseUrl);
        const s = track(await sse(id, version));
        expect(s.status).toBe(200);
        expect(s.headers['content-type']).toBe('text/event-stream');
        expect(s.headers['cache-control']).toBe('no-cache');
        expect(s.headers.connection).toBe('keep-alive');
        await s.waitFor((t) => t.length >= OPENED.length);
        expect(s.text()).toBe(OPENED);
        await s.waitFor((t) => count(t, 'keep-alive') >= 2);
        expect(s.text().startsWith(OPENED + KEEP_ALIVE + KEEP_ALIVE)).toBe(true);
        const firstKeepAlive = s.chunks.find((c) => c.text.includes('keep-alive'))!;
        expect(firstKeepAlive.at).toBeGreaterThanOrEqual(400 - 5);
        s.close();
      }
    } finally {
      platform.configure({ sseKeepAliveMs: 60_000 });
    }
  });

  it('ExternalEventCreated to the recipient of a message and to the peer of each relationship action; DatawalletModificationsCreated once per request to the other devices', async () => {
    const a = await createIdentity(platform.baseUrl);
    const b = await createIdentity(platform.baseUrl);
    const sa = track(await sse(a));
    const sb = track(await sse(b));
    await sa.waitFor((t) => t === OPENED);
    await sb.waitFor((t) => t === OPENED);
    const expectA: string[] = [OPENED];
    const expectB: string[] = [OPENED];
    const step = async (forA: string[], forB: string[]) => {
      expectA.push(...forA.map(ev));
      expectB.push(...forB.map(ev));
      await sa.waitFor((t) => t === expectA.join('')).catch((e: Error) => Promise.reject(new Error(`a's stream: ${e.message}`)));
      await sb.waitFor((t) => t === expectB.join('')).catch((e: Error) => Promise.reject(new Error(`b's stream: ${e.message}`)));
    };

    // b requests a's template: a (the template owner) is told; a accepts: b is told.
    const t = await a.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('template') } });
    await b.req('GET', `/api/v2/RelationshipTemplates/${t.body.result.id}`);
    const rel = await b.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: t.body.result.id, creationContent: b64u('c') } });
    await step(['ExternalEventCreated'], []);
    // A message on the Pending relationship: its event is created blocked, and pushed all the same.
    expect((await b.req('POST', '/api/v2/Messages', { json: messageBody([a.address], 'early') })).status).toBe(201);
    await step(['ExternalEventCreated'], []);
    await a.req('PUT', `/api/v2/Relationships/${rel.body.result.id}/Accept`, { json: {} });
    await step([], ['ExternalEventCreated']);
    expect((await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) })).status).toBe(201);
    await step([], ['ExternalEventCreated']);
    const term = await b.req('PUT', `/api/v2/Relationships/${rel.body.result.id}/Terminate`);
    expect(term.status).toBe(200);
    await step(['ExternalEventCreated'], []);

    // Datawallet: a push by the stream's own device reaches no other device; one by a second device
    // reaches the identity's stream once per request (3 modifications), and so does a finalization.
    const mods = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'Create', objectIdentifier: `o${i}`, collection: 'c', payloadCategory: null, encryptedPayload: b64u('x'), datawalletVersion: 1 }));
    expect((await b.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: -1, modifications: mods(2) }, headers: DW })).status).toBe(201);
    const b2 = await secondDevice(b);
    const push2 = await request(b.base, 'POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 1, modifications: mods(3) }, headers: DW, token: b2 });
    expect(push2.status).toBe(201);
    await step([], ['DatawalletModificationsCreated']);
    const run = await request(b.base, 'POST', '/api/v2/SyncRuns', { json: {}, headers: DW, token: b2 });
    expect(run.status).toBe(201); // the StatusChanged and MessageReceived events
    const fin = await request(b.base, 'PUT', `/api/v2/SyncRuns/${run.body.result.syncRun.id}/FinalizeExternalEventSync`, {
      json: { externalEventResults: [], datawalletModifications: mods(2) },
      headers: DW,
      token: b2,
    });
    expect(fin.status).toBe(200);
    await step([], ['DatawalletModificationsCreated']);

    // Nothing else arrives on either stream.
    await sleep(200);
    expect(sa.text()).toBe(expectA.join(''));
    expect(sb.text()).toBe(expectB.join(''));
  });

  it('one stream per identity, bug for bug: a second stream orphans the first; the orphan ending silences a newer one', async () => {
    const period = 250;
    platform.configure({ sseKeepAliveMs: period });
    try {
      const a = await createIdentity(platform.baseUrl);
      const b = await createIdentity(platform.baseUrl);
      await relate(a, b);
      const send = async () => expect((await b.req('POST', '/api/v2/Messages', { json: messageBody([a.address]) })).status).toBe(201);

      const first = track(await sse(a));
      await first.waitFor((t) => t === OPENED);

      // The second stream: 200, SSE headers, an empty body ended at once.
      const second = await sse(a);
      await second.ended;
      expect(second.status).toBe(200);
      expect(second.headers['content-type']).toBe('text/event-stream');
      expect(second.headers['cache-control']).toBe('no-cache');
      expect(second.text()).toBe('');

      // The first stays open but gets nothing more: no events, no keep-alives.
      await send();
      await sleep(period * 3);
      expect(first.isEnded()).toBe(false);
      expect(first.text()).toBe(OPENED);

      // A later stream works.
      const third = track(await sse(a));
      await third.waitFor((t) => t === OPENED);
      await send();
      await third.waitFor((t) => count(t, 'ExternalEventCreated') === 1);
      await third.waitFor((t) => count(t, 'keep-alive') >= 1);
      expect(first.text()).toBe(OPENED);

      // The orphaned first stream ends: that removes the third's channel. The third stays open, silent.
      first.close();
      await sleep(300);
      const before = third.text();
      await send();
      await sleep(period * 3);
      expect(third.isEnded()).toBe(false);
      expect(third.text()).toBe(before);

      // And again a new stream works.
      const fourth = track(await sse(a));
      await fourth.waitFor((t) => t === OPENED);
      await send();
      await fourth.waitFor((t) => t === OPENED + ev('ExternalEventCreated'));
      third.close();
      fourth.close();
    } finally {
      platform.configure({ sseKeepAliveMs: 60_000 });
    }
  });

  it('the Platform closing ends open streams', async () => {
    const p = await startPlatform({ port: 0 });
    const id = await createIdentity(p.baseUrl);
    const s = await sse(id);
    await s.waitFor((t) => t === OPENED);
    await p.close();
    await s.ended;
    expect(s.isEnded()).toBe(true);
  });
});
