/**
 * lib/backbone/events-stream.ts: the event-stream parser byte for byte, and the client against the
 * local Platform's SSE server over real HTTP — events, keep-alive liveness, the SseServer's
 * second-stream silencing (detected by the liveness timer and replaced), 401 → a new login, 404 and
 * refused connections → unavailable, a Platform restart → reconnect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformClient, SseParser, SseProtocolError, type EventStream, type EventStreamOptions, type StreamState } from '../../lib/backbone';
import { buildMail, sendMessage, type Participant } from '../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { getToken } from '../platform/helpers';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';

const FRAME = (name: string) => `event: ${name}\ndata: _\n\n`;

describe('SseParser', () => {
  const parse = (chunks: (string | Uint8Array)[]) => {
    const out: [string, string][] = [];
    const parser = new SseParser((name, data) => out.push([name, data]));
    for (const c of chunks) parser.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
    return out;
  };

  test('the Backbone frames, whole and split at every byte', () => {
    const bytes = Buffer.from(FRAME('ConnectionOpened') + FRAME('keep-alive') + FRAME('ExternalEventCreated'), 'utf8');
    const expected = [
      ['ConnectionOpened', '_'],
      ['keep-alive', '_'],
      ['ExternalEventCreated', '_'],
    ];
    expect(parse([bytes])).toEqual(expected);
    expect(parse([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
    for (let cut = 1; cut < bytes.length; cut++) expect(parse([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
  });

  test('CRLF, CR and LF line ends, a CR at a chunk end, a BOM, comments, fields without a space, multi-line data', () => {
    expect(parse(['\ufeffevent: A\r\ndata: 1\r\n\r\n', 'event:B\rdata:2\r', '\ndata: 3\r', '\r: a comment\nevent: C\ndata\n\n'])).toEqual([
      ['A', '1'],
      ['B', '2\n3'],
      ['C', ''],
    ]);
  });

  test('UTF-8 split inside a character; an event without data is not dispatched; no event name is "message"', () => {
    const name = Buffer.from('event: Prüfung\ndata: _\n\n', 'utf8');
    const at = name.indexOf(0xc3) + 1; // between the two bytes of ü
    expect(parse([name.subarray(0, at), name.subarray(at)])).toEqual([['Prüfung', '_']]);
    expect(parse(['event: Nothing\n\n', 'data: x\n\n'])).toEqual([['message', 'x']]);
  });

  test('an endless line or event is refused, not buffered', () => {
    const parser = new SseParser(() => undefined, 100);
    expect(() => parser.push(Buffer.from('data: ' + 'x'.repeat(200)))).toThrow(SseProtocolError);
    const lines = new SseParser(() => undefined, 100);
    expect(() => lines.push(Buffer.from('data: 0123456789\n'.repeat(20)))).toThrow(SseProtocolError);
  });
});

interface Recorder {
  stream: EventStream;
  events: string[];
  states: StreamState[];
  /** Resolves when `predicate` holds for the states (or events) seen so far. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  downs(): StreamState[];
}

function record(client: PlatformClient, options: Omit<EventStreamOptions, 'baseUrl' | 'auth'> = {}): Recorder {
  const events: string[] = [];
  const states: StreamState[] = [];
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  const stream = client.eventStream({
    backoffMs: 50,
    maxBackoffMs: 400,
    ...options,
    onEvent: (name) => {
      events.push(name);
      poke();
    },
    onState: (state) => {
      states.push(state);
      poke();
    },
  });
  return {
    stream,
    events,
    states,
    downs: () => states.filter((s) => s.kind === 'down'),
    until: (predicate, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; states ${JSON.stringify(states)}, events ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

const opens = (r: Recorder) => r.states.filter((s) => s.kind === 'open').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw stream of the identity, as a second process (another n8n, a Connector) would open it. */
async function rawStream(platform: PlatformHandle, participant: Participant): Promise<{ req: ClientRequest; ended: Promise<string> }> {
  const token = (await getToken(platform.baseUrl, participant.identity.username, participant.identity.keys.devicePassword)).body.access_token as string;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: platform.port, path: '/api/v2/sse', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      resolve({ req, ended: new Promise((r) => res.on('close', () => r(text))) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('EventStream against the local Platform', () => {
  let platform: PlatformHandle;
  let sseRequests: string[];
  let me: Participant;
  let peer: Participant;
  const streams: EventStream[] = [];
  const track = (r: Recorder) => (streams.push(r.stream), r);
  const send = () => sendMessage(peer, { recipients: [me.address], content: buildMail({ to: [me.address], subject: 's', body: 'b' }) });

  beforeAll(async () => {
    platform = await startPlatform({ sseKeepAliveMs: 300 });
    [me, peer] = await Promise.all([newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
    await relate(me, peer);
  });
  beforeEach(() => {
    sseRequests = [];
    platform.setFaults((req) => {
      if (/\/sse$/.test(req.path)) sseRequests.push(req.path);
      return undefined;
    });
    platform.configure({ sseKeepAliveMs: 300, sse: true });
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    // The SseServer handles a stream's end asynchronously, and that end removes whatever channel the
    // identity has then: a stream opened before it would be silenced. Let the ends arrive first.
    await sleep(200);
  });
  afterAll(() => platform?.close());

  test('opens on ConnectionOpened, passes on ExternalEventCreated, keeps keep-alives to itself, and stays on one connection while keep-alives come', async () => {
    const r = track(record(me.client, { keepAliveMs: 300, marginMs: 300 }));
    r.stream.start();
    await r.until(() => opens(r) === 1);
    expect(sseRequests).toEqual(['/api/v1/sse']); // the Connector's path first
    await send();
    await r.until(() => r.events.length === 1);
    expect(r.events).toEqual(['ExternalEventCreated']);
    await sleep(1_500); // five keep-alive periods, each well beyond a lone period plus margin apart if they did not come
    expect(r.downs()).toEqual([]);
    expect(sseRequests).toHaveLength(1);
    expect(r.events).toEqual(['ExternalEventCreated']);
  });

  test('silenced by a second stream of the identity (which the SseServer ends at once): found by the liveness timer, replaced, events flow again', async () => {
    const r = track(record(me.client, { keepAliveMs: 300, marginMs: 300 }));
    r.stream.start();
    await r.until(() => opens(r) === 1);
    // The liveness timer runs from the last keep-alive, which came at most one period before this.
    const silencedAt = Date.now();
    const second = await rawStream(platform, me);
    expect(await second.ended).toBe(''); // answered 200 and ended, without ConnectionOpened
    await send(); // lost on the silenced stream
    await r.until(() => opens(r) === 2, 5_000);
    const down = r.downs()[0];
    expect(down).toMatchObject({ kind: 'down', reason: 'silent', unavailable: false });
    expect(Date.now() - silencedAt).toBeGreaterThanOrEqual(600 - 300 - 50); // not before period + margin after the last keep-alive
    expect(r.events).toEqual([]); // the event on the silenced stream never came: a caller's catch-up poll finds the message
    await send();
    await r.until(() => r.events.length === 1);
  });

  test('opening while another stream of the identity is open: "conflict" (that stream is silenced now), then a working stream', async () => {
    const first = await rawStream(platform, me);
    await sleep(100);
    const r = track(record(me.client, { keepAliveMs: 300, marginMs: 300 }));
    r.stream.start();
    await r.until(() => opens(r) === 1);
    expect(r.downs().map((s) => s.kind === 'down' && s.reason)).toEqual(['conflict']);
    expect(r.downs()[0]).toMatchObject({ unavailable: false, message: expect.stringContaining('another event stream of this identity') });
    first.req.destroy();
    await first.ended;
    // The first stream's end removes the channel of ours (the SseServer's bug): silence, found, replaced.
    await r.until(() => opens(r) === 2, 5_000);
    await send();
    await r.until(() => r.events.length === 1);
  });

  test('401 with a token the client still thinks valid: one new login, then open', async () => {
    const r = track(record(me.client));
    const logins = me.client.logins;
    await me.client.messagesPage(1, 1); // a cached token
    expect(me.client.logins).toBeLessThanOrEqual(logins + 1);
    const before = me.client.logins;
    platform.advanceClock(11 * 60_000); // beyond the token's 5 minutes plus the SSE server's 5 minutes of clock skew
    try {
      r.stream.start();
      await r.until(() => opens(r) === 1);
      expect(me.client.logins).toBe(before + 1);
      expect(r.downs()).toEqual([]);
    } finally {
      r.stream.close();
      platform.advanceClock(-11 * 60_000);
    }
  });

  test('no SseServer (404 on v1 and v2): unavailable, retried rarely, open once it is there', async () => {
    platform.configure({ sse: false });
    const r = track(record(me.client, { unavailableRetryMs: 300 }));
    r.stream.start();
    await r.until(() => r.downs().length === 1);
    expect(sseRequests).toEqual(['/api/v1/sse', '/api/v2/sse']);
    expect(r.downs()[0]).toMatchObject({ reason: 'notFound', unavailable: true, retryInMs: 300 });
    platform.configure({ sse: true });
    await r.until(() => opens(r) === 1);
  });

  test('a refused login is "auth", a Backbone that cannot be reached "refused": both unavailable', async () => {
    const wrong = await newParticipant(platform.baseUrl);
    const login = { clientId: 'test', clientSecret: 'test', username: wrong.identity.username, password: 'not the password' };
    const bad = record(new PlatformClient({ baseUrl: platform.baseUrl, login, maxAttempts: 1 }));
    track(bad).stream.start();
    await bad.until(() => bad.downs().length === 1);
    expect(bad.downs()[0]).toMatchObject({ reason: 'auth', unavailable: true });

    const closed = await startPlatform({});
    const url = closed.baseUrl;
    await closed.close();
    const unreachable = record(new PlatformClient({ baseUrl: url, login, maxAttempts: 1 }), { backoffMs: 50, maxBackoffMs: 400 });
    track(unreachable).stream.start();
    await unreachable.until(() => unreachable.downs().length === 2);
    expect(unreachable.downs()[0]).toMatchObject({ reason: 'refused', unavailable: true });
    // Refused is retried with the short backoff (the Backbone may be restarting), not the long "unavailable" delay.
    expect((unreachable.downs()[0] as { retryInMs: number }).retryInMs).toBeLessThan(400);
  });
});

test('a restart of the Platform: "ended", reconnected with backoff once it is back, events again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sse-restart-'));
  let platform = await startPlatform({ dataDir });
  const port = platform.port;
  const [me, peer] = await Promise.all([newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(me, peer);
  const r = record(me.client);
  r.stream.start();
  try {
    await r.until(() => opens(r) === 1);
    await platform.close();
    await r.until(() => r.downs().some((s) => s.kind === 'down' && s.reason === 'refused'));
    expect(['ended', 'network']).toContain((r.downs()[0] as { reason: string }).reason); // the Platform closes its connections
    platform = await startPlatform({ dataDir, port });
    await r.until(() => opens(r) === 2, 10_000);
    await sendMessage(peer, { recipients: [me.address], content: buildMail({ to: [me.address], subject: 's', body: 'b' }) });
    await r.until(() => r.events.length === 1);
  } finally {
    r.stream.close();
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
