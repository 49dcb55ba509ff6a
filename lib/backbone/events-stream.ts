import axios from 'axios';
import type { IncomingMessage } from 'node:http';
import { PlatformError } from './errors';

/**
 * The Backbone's server-sent events (its SseServer: GET /api/v1/sse, /api/v2/sse) for one device
 * login. The stream only says "something happened" — `ExternalEventCreated`, `DatawalletModificationsCreated`,
 * each with `data: _` — and replays nothing after a reconnect, so a caller treats every event, and
 * every (re)connect, as a reason to read the record (a poll), never as the record itself.
 *
 * An open stream is not trusted to be alive. The SseServer keeps one channel per identity: a second
 * stream of the same identity is answered 200 and ended at once, and on its way out removes the
 * first stream's channel — which stays open and receives nothing more, not even keep-alives. So the
 * stream counts as dead when neither an event nor a keep-alive arrived within the keep-alive period
 * plus a margin, and is then replaced. A 200 ended before `ConnectionOpened` is that second-stream
 * answer: another stream of this identity is open somewhere (`conflict`).
 *
 * Reconnects back off exponentially with jitter (the first one after ½–1 s, which also gives the
 * server time to process the end of the stream being replaced: its late end would remove the new
 * stream's channel). A 401 drops the login token and retries once with a new one. 404 (SseServer
 * not deployed), a refused connection and a refused login make the stream `unavailable`, which a
 * caller answers by polling; it is retried all the same (404 and refused logins rarely).
 *
 * Frames are parsed byte for byte as the HTML standard's event-stream format (UTF-8, CRLF/LF/CR
 * line ends, `event:`/`data:` fields, comments, dispatch on an empty line), with a cap on line and
 * event size: the Platform is not trusted with our memory either.
 */

export interface StreamAuth {
  /** `Bearer <token>` of the device login (cached; a new login when it is about to expire). */
  authorization(): Promise<string>;
  /** Drops `rejected` so that the next authorization() logs in again. */
  invalidate(rejected: string): void;
}

export type DownReason =
  /** 404 on every path: no SseServer behind this Backbone's ingress. */
  | 'notFound'
  /** The Backbone could not be reached (connection refused, host unknown). */
  | 'refused'
  /** The login or the token was refused (401 after a fresh login, 403, or the token request failed). */
  | 'auth'
  /** Another status than 200 (5xx from the ingress, …). */
  | 'status'
  /** No response headers in time. */
  | 'timeout'
  /** The connection broke. */
  | 'network'
  /** The server ended the stream. */
  | 'ended'
  /** 200 ended before `ConnectionOpened`: another stream of this identity is open (and is now silenced). */
  | 'conflict'
  /** Neither an event nor a keep-alive within the keep-alive period plus the margin. */
  | 'silent'
  /** Not an event stream (content type, oversized lines). */
  | 'protocol';

/** The reasons that mean "no instant events here for now": the caller falls back to polling and says so. */
export const UNAVAILABLE: ReadonlySet<DownReason> = new Set<DownReason>(['notFound', 'refused', 'auth']);

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'down'; reason: DownReason; unavailable: boolean; message: string; retryInMs: number }
  | { kind: 'closed' };

export interface EventStreamOptions {
  baseUrl: string;
  auth: StreamAuth;
  /** Paths tried in order, a 404 moving on to the next: the Connector's v1 first, then v2. */
  paths?: string[];
  /** The SseServer's keep-alive period (`SseServer:KeepAliveEventIntervalInSeconds`, default 240 s). */
  keepAliveMs?: number;
  /** Silence tolerated beyond the keep-alive period (default: an eighth of it, at least 1 s). */
  marginMs?: number;
  /** Time for the response headers (default 30 s). */
  connectTimeoutMs?: number;
  /** First reconnect delay (default 1 s), doubled per failure up to maxBackoffMs (default 60 s); each drawn from [½, 1] of that. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Retry delay after 404 or a refused login (default 10 min). */
  unavailableRetryMs?: number;
  /** Every event but `keep-alive` and `ConnectionOpened` (those only keep the stream alive and open it). */
  onEvent?: (name: string) => void;
  onState?: (state: StreamState) => void;
}

export const KEEP_ALIVE = 'keep-alive';
export const CONNECTION_OPENED = 'ConnectionOpened';
const MAX_LINE = 64 * 1024;

export class SseProtocolError extends Error {}

/** The event-stream interpretation of the HTML standard, for the fields the Backbone uses; `id` and `retry` are ignored. */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private atStart = true;
  private skipLineFeed = false;
  private pending = '';
  private eventType = '';
  private data = '';

  constructor(
    private readonly dispatch: (name: string, data: string) => void,
    private readonly maxLine = MAX_LINE,
  ) {}

  push(chunk: Uint8Array): void {
    let text = this.decoder.decode(chunk, { stream: true });
    if (this.atStart && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.atStart = false;
    }
    if (this.skipLineFeed && text.length) {
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.skipLineFeed = false;
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.pending + text.slice(start, i);
      this.pending = '';
      if (c === 13) {
        if (i + 1 === text.length) this.skipLineFeed = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      this.line(line);
    }
    this.pending += text.slice(start);
    if (this.pending.length > this.maxLine) throw new SseProtocolError(`an event-stream line longer than ${this.maxLine} characters`);
  }

  private line(line: string): void {
    if (line === '') return this.flush();
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.data += `${value}\n`;
      if (this.data.length > this.maxLine) throw new SseProtocolError(`an event larger than ${this.maxLine} characters`);
    }
  }

  private flush(): void {
    const { eventType, data } = this;
    this.eventType = '';
    this.data = '';
    if (data === '') return;
    this.dispatch(eventType || 'message', data.slice(0, -1));
  }
}

interface Down {
  reason: DownReason;
  message: string;
}

const NOT_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class EventStream {
  private readonly paths: string[];
  private readonly connectTimeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly unavailableRetryMs: number;
  private keepAliveMs: number;
  private marginMs?: number;
  private pathIndex = 0;
  /** Failures since the stream last proved alive (a keep-alive); drives the backoff. */
  private failures = 0;
  private running = false;
  private state: StreamState = { kind: 'closed' };
  private controller?: AbortController;
  /** Ends the stream being read (set while one is). */
  private hangUp?: () => void;
  private wake?: () => void;

  constructor(private readonly options: EventStreamOptions) {
    this.paths = options.paths ?? ['/api/v1/sse', '/api/v2/sse'];
    this.keepAliveMs = options.keepAliveMs ?? 240_000;
    this.marginMs = options.marginMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.unavailableRetryMs = options.unavailableRetryMs ?? 10 * 60_000;
  }

  get current(): StreamState {
    return this.state;
  }

  /** How long the stream may stay silent before it counts as dead. */
  get livenessMs(): number {
    return this.keepAliveMs + (this.marginMs ?? Math.max(1_000, Math.round(this.keepAliveMs / 8)));
  }

  /** A new keep-alive period; applies from the next event on. */
  setKeepAlive(keepAliveMs: number, marginMs?: number): void {
    this.keepAliveMs = keepAliveMs;
    this.marginMs = marginMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  close(): void {
    if (!this.running) return;
    this.running = false;
    this.controller?.abort();
    this.hangUp?.();
    this.wake?.();
    this.setState({ kind: 'closed' });
  }

  private setState(state: StreamState): void {
    this.state = state;
    this.options.onState?.(state);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.setState({ kind: 'connecting' });
      const down = await this.session().catch((error: unknown): Down => ({ reason: 'network', message: error instanceof Error ? error.message : String(error) }));
      if (!this.running) return;
      const unavailable = UNAVAILABLE.has(down.reason);
      let retryInMs: number;
      if (down.reason === 'notFound' || down.reason === 'auth') retryInMs = this.unavailableRetryMs;
      else {
        const ceiling = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(this.failures, 30));
        retryInMs = Math.round(ceiling * (0.5 + Math.random() * 0.5));
      }
      this.failures++;
      this.setState({ kind: 'down', reason: down.reason, unavailable, message: down.message, retryInMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryInMs);
        timer.unref?.();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One connection, from the request to its end; resolves with why it is over. */
  private async session(): Promise<Down> {
    let authorization: string;
    try {
      authorization = await this.options.auth.authorization();
    } catch (error) {
      return loginFailure(error);
    }
    for (let retriedLogin = false; ; ) {
      if (!this.running) return { reason: 'ended', message: 'closed' };
      const path = this.paths[this.pathIndex];
      const answer = await this.request(path, authorization);
      if ('reason' in answer) return answer;
      const { response } = answer;
      const status = response.statusCode ?? 0;
      if (status === 200) return this.read(response, path);
      response.resume(); // nothing to read from an error answer but its end
      if (status === 401 && !retriedLogin) {
        retriedLogin = true;
        this.options.auth.invalidate(authorization);
        try {
          authorization = await this.options.auth.authorization();
        } catch (error) {
          return loginFailure(error);
        }
        continue;
      }
      if (status === 401 || status === 403) return { reason: 'auth', message: `GET ${path}: the event stream refused this device's login (${status})` };
      if (status === 404) {
        if (this.pathIndex + 1 < this.paths.length) {
          this.pathIndex++;
          continue;
        }
        this.pathIndex = 0;
        return { reason: 'notFound', message: `no event stream at ${this.paths.join(' or ')} (404): this Backbone runs no SseServer, or does not route it` };
      }
      return { reason: 'status', message: `GET ${path}: the event stream answered ${status}` };
    }
  }

  private async request(path: string, authorization: string): Promise<{ response: IncomingMessage } | Down> {
    const controller = new AbortController();
    this.controller = controller;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.connectTimeoutMs);
    try {
      const response = await axios.request<IncomingMessage>({
        baseURL: this.options.baseUrl,
        url: path,
        method: 'GET',
        headers: { Accept: 'text/event-stream', 'Cache-Control': 'no-cache', Authorization: authorization },
        responseType: 'stream',
        decompress: false,
        validateStatus: () => true,
        maxRedirects: 0,
        signal: controller.signal,
      });
      return { response: response.data };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (timedOut) return { reason: 'timeout', message: `GET ${path}: no answer within ${this.connectTimeoutMs} ms` };
      if (!this.running) return { reason: 'ended', message: 'closed' };
      if (NOT_REACHED.has(code)) return { reason: 'refused', message: `the Backbone at ${this.options.baseUrl} could not be reached (${code})` };
      return { reason: 'network', message: `GET ${path}: ${code || (error instanceof Error ? error.message : 'connection failed')}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads an answered stream until it ends, breaks, or falls silent. */
  private read(response: IncomingMessage, path: string): Promise<Down> {
    if (!this.running) {
      response.destroy();
      return Promise.resolve({ reason: 'ended', message: 'closed' });
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!/^text\/event-stream\b/i.test(type)) {
      response.destroy();
      return Promise.resolve({ reason: 'protocol', message: `GET ${path}: answered ${type || 'no content type'}, not text/event-stream` });
    }
    return new Promise<Down>((resolve) => {
      let opened = false;
      let liveness: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (down: Down): void => {
        if (settled) return;
        settled = true;
        this.hangUp = undefined;
        clearTimeout(liveness);
        response.destroy();
        resolve(down);
      };
      const alive = (): void => {
        clearTimeout(liveness);
        liveness = setTimeout(() => finish({ reason: 'silent', message: `no event and no keep-alive for ${this.livenessMs} ms: the stream was silenced (another stream of this identity?) or the connection is gone` }), this.livenessMs);
      };
      const parser = new SseParser((name) => {
        if (settled) return;
        alive();
        if (name === CONNECTION_OPENED) {
          if (!opened) {
            opened = true;
            this.setState({ kind: 'open' });
          }
          return;
        }
        if (name === KEEP_ALIVE) {
          this.failures = 0;
          return;
        }
        this.options.onEvent?.(name);
      });
      this.hangUp = () => finish({ reason: 'ended', message: 'closed' });
      alive();
      response.on('data', (chunk: Buffer) => {
        try {
          parser.push(chunk);
        } catch (error) {
          finish({ reason: 'protocol', message: `GET ${path}: ${error instanceof Error ? error.message : String(error)}` });
        }
      });
      const ended = (): void =>
        finish(
          opened
            ? { reason: 'ended', message: `GET ${path}: the server ended the stream` }
            : { reason: 'conflict', message: `GET ${path}: the server ended the stream before opening it — another event stream of this identity is open (another n8n process, a Connector?), and this attempt silenced it` },
        );
      response.on('end', ended);
      response.on('error', (error: Error) => finish({ reason: this.running ? 'network' : 'ended', message: `GET ${path}: ${error.message}` }));
      response.on('close', () => (response.readableEnded ? ended() : finish({ reason: this.running ? 'network' : 'ended', message: `GET ${path}: the connection closed` })));
    });
  }
}

function loginFailure(error: unknown): Down {
  if (error instanceof PlatformError && error.kind === 'network') return { reason: 'refused', message: error.message };
  if (error instanceof PlatformError && error.kind === 'timeout') return { reason: 'timeout', message: error.message };
  if (error instanceof PlatformError && (error.status ?? 0) >= 500) return { reason: 'status', message: error.message };
  return { reason: 'auth', message: `the device login failed: ${error instanceof Error ? error.message : String(error)}` };
}
