import type { AxiosInstance, AxiosResponse, Method } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { PlatformError } from './errors';

/**
 * The transport under every Platform call: node:http(s) on the global keep-alive agents for JSON
 * and small bodies (HttpClient.exchange), file bodies from 256 KiB on over a connection of their own
 * (HttpClient.streamed), axios wherever a proxy may be configured; the `{result}` / `{error}`
 * envelope read on every status, timeouts, and retries that can never duplicate an effect.
 *
 * Retry policy:
 * - idempotent calls (GET, login, and the calls a caller marks idempotent) are retried after network
 *   errors, timeouts, 5xx and 429;
 * - every other call only when the request provably had no effect: the connection was refused or the
 *   host not found (nothing was sent), or 429 quotaExhausted (the Backbone checks quotas before any
 *   business rule);
 * - 429 waits until `isExhaustedUntil` when that is within `maxQuotaWaitMs`, otherwise it fails at
 *   once with the date in the error.
 */

export interface HttpOptions {
  baseUrl: string;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Attempts for retryable failures, the first included (default 4). */
  maxAttempts?: number;
  /** First back-off in ms, doubled each time with jitter (default 250). */
  backoffMs?: number;
  /** Longest wait for an exhausted quota before giving up (default 30 s). */
  maxQuotaWaitMs?: number;
  /** Called for every request and its outcome, without bodies or headers (for debug logging). */
  onRequest?: (event: RequestEvent) => void;
}

export interface RequestEvent {
  method: string;
  path: string;
  status?: number;
  attempt: number;
  ms: number;
  error?: string;
}

export interface RequestSpec {
  method: Method;
  /** Path below the base URL, e.g. `/api/v2/Messages`. */
  path: string;
  query?: URLSearchParams;
  /** JSON value, string, Buffer, or a function building the body afresh for every attempt (streams). */
  body?: unknown;
  headers?: Record<string, string>;
  /** 'json' (default) unwraps `{result}`; 'bytes' returns the raw body as a Buffer; 'raw' the parsed JSON as is. */
  response?: 'json' | 'bytes' | 'raw';
  /**
   * Receive a 2xx body chunk by chunk instead of as one collected Buffer (large downloads): called
   * once per attempt with the Content-Length if known; the response's data is what `end()` returns.
   */
  sink?: (contentLength: number | undefined) => BodySink<unknown>;
  /** A body written piece by piece as the connection takes it (large uploads), instead of `body`. */
  source?: BodySource;
  /** With a sink: the size the answer's body is expected to have, if known (see `streamed`). */
  expectedBytes?: number;
  /** Safe to repeat after an unknown outcome. Defaults to true for GET/HEAD. */
  idempotent?: boolean;
  timeoutMs?: number;
}

/**
 * Where a streamed body goes. `write` gets every chunk in order (the chunk is only lent: copy what
 * you keep); it must not throw — a sink that cannot use the body records that and reports it from
 * `end`, which is called once the whole body arrived.
 */
export interface BodySink<R> {
  write(chunk: Buffer): void;
  end(): R;
}

/**
 * A request body produced while it is sent: its exact length, and a reader from its first byte (a
 * new one per attempt) that fills the buffer it is given and returns how many bytes it wrote, 0 at
 * the end. Its errors are passed on as they are.
 */
export interface BodySource {
  length: number;
  open(): { read(target: Buffer): number };
}

export interface HttpResponse<T> {
  status: number;
  data: T;
  headers: Record<string, unknown>;
}

const NOTHING_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class HttpClient {
  readonly baseUrl: string;
  private instance?: Promise<AxiosInstance>;
  private readonly options: Required<Omit<HttpOptions, 'onRequest'>> & Pick<HttpOptions, 'onRequest'>;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.options = { timeoutMs: 30_000, maxAttempts: 4, backoffMs: 250, maxQuotaWaitMs: 30_000, ...options };
  }

  /**
   * axios, loaded with the first request rather than with this module: n8n loads every node of an
   * installed package when it starts, and loading axios took ~90–170 ms of the ~260 ms the
   * Enmeshed node's require cost (Node 24, loaded machine) — paid even if the node is never used.
   */
  private axios(): Promise<AxiosInstance> {
    this.instance ??= import('axios').then(({ default: axios }) =>
      axios.create({
        baseURL: this.baseUrl,
        // We read every status ourselves; axios must not throw on 4xx/5xx.
        validateStatus: () => true,
        maxBodyLength: Infinity,
        maxContentLength: Infinity,
        maxRedirects: 0,
        // Keep binary and JSON handling in our hands: no automatic JSON parsing of error bodies etc.
        responseType: 'arraybuffer',
        transitional: { clarifyTimeoutError: true },
      }),
    );
    return this.instance;
  }

  async request<T>(spec: RequestSpec, authorization?: string): Promise<HttpResponse<T>> {
    const method = spec.method.toUpperCase();
    const idempotent = spec.idempotent ?? (method === 'GET' || method === 'HEAD');
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let outcome: HttpResponse<T> | PlatformError;
      let nothingSent = false;
      try {
        let status: number;
        if (spec.sink || spec.source) {
          ({ status, outcome } = await this.streamed<T>(spec, method, authorization));
        } else {
          const response = await this.exchange(spec, method, authorization);
          status = response.status;
          outcome = this.interpret<T>(response, spec, method);
        }
        this.options.onRequest?.({ method, path: spec.path, status, attempt, ms: Date.now() - started });
      } catch (thrown) {
        const failed = thrown instanceof CallbackFailure ? thrown : (thrown as { cause?: unknown } | undefined)?.cause; // axios wraps errors
        if (failed instanceof CallbackFailure) throw failed.error;
        outcome = this.transportError(thrown, method, spec.path);
        nothingSent = NOTHING_SENT.has((thrown as { code?: string }).code ?? '');
        this.options.onRequest?.({ method, path: spec.path, attempt, ms: Date.now() - started, error: outcome.code });
      }
      if (!(outcome instanceof PlatformError)) return outcome;
      const wait = this.retryDelay(outcome, attempt, idempotent, nothingSent);
      if (wait === undefined) throw idempotent || nothingSent ? outcome : withUnknownOutcome(outcome);
      await sleep(wait);
    }
  }

  /** How long to wait before the next attempt, or undefined when the error is final. */
  private retryDelay(error: PlatformError, attempt: number, idempotent: boolean, nothingSent: boolean): number | undefined {
    if (attempt >= this.options.maxAttempts) return undefined;
    if (error.code === 'error.platform.quotaExhausted') {
      if (!error.exhaustedUntil) return undefined;
      const wait = error.exhaustedUntil.getTime() - Date.now();
      return wait <= this.options.maxQuotaWaitMs ? Math.max(0, wait) + 50 : undefined;
    }
    const transient = error.kind === 'network' || error.kind === 'timeout' || (error.status ?? 0) >= 500;
    if (!transient || (!idempotent && !nothingSent)) return undefined;
    return this.options.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
  }

  /**
   * A request whose answer is collected whole. Straight through node:http(s) and their global
   * keep-alive agents (the ones axios would use, with the same TLS settings) unless a proxy may be
   * configured or the body is a stream: axios cost ~0.15 ms of CPU per request on loopback (its
   * config merging, proxy lookup and adapters), about a tenth of a warm Mail send.
   */
  private async exchange(spec: RequestSpec, method: string, authorization?: string): Promise<RawResponse> {
    if (proxied()) return this.send(spec, method, authorization);
    const prepared = this.prepare(spec, authorization);
    const { headers, data } = prepared;
    if (data !== undefined && typeof data !== 'string' && !Buffer.isBuffer(data)) return this.send(spec, method, authorization, prepared);
    return exchange(method, this.urlOf(spec), headers, data as string | Buffer | undefined, spec.timeoutMs ?? this.options.timeoutMs);
  }

  private urlOf(spec: RequestSpec): URL {
    const url = new URL(this.baseUrl + spec.path);
    if (spec.query?.size) url.search = spec.query.toString();
    return url;
  }

  /** Headers and body of a request as sent: JSON values serialised, a body source as a stream. */
  private prepare(spec: RequestSpec, authorization?: string): { headers: Record<string, string>; data: unknown } {
    const headers: Record<string, string> = { Accept: 'application/json', ...spec.headers };
    if (authorization) headers.Authorization = authorization;
    let data = spec.source ? pieces(spec.source) : typeof spec.body === 'function' ? (spec.body as () => unknown)() : spec.body;
    if (spec.source) headers['Content-Length'] = String(spec.source.length);
    const multipart = data as { pipe?: unknown; getHeaders?: () => Record<string, string> } | undefined;
    const isStream = typeof multipart?.pipe === 'function';
    if (isStream && typeof multipart?.getHeaders === 'function') Object.assign(headers, multipart.getHeaders());
    if (data !== undefined && !isStream && !Buffer.isBuffer(data) && typeof data !== 'string') {
      data = JSON.stringify(data);
      headers['Content-Type'] ??= 'application/json';
    }
    return { headers, data };
  }

  private async send(spec: RequestSpec, method: string, authorization?: string, prepared = this.prepare(spec, authorization)): Promise<AxiosResponse<Buffer>> {
    const { headers, data } = prepared;
    return (await this.axios()).request<Buffer>({
      method,
      url: spec.path,
      params: spec.query,
      data,
      headers,
      timeout: spec.timeoutMs ?? this.options.timeoutMs,
      // A sink takes the body as it arrives: no array of chunks and no concatenated copy of it.
      ...(spec.sink || spec.source ? { responseType: 'stream' as const } : {}),
    });
  }

  /**
   * A request whose body is written from a source as the connection takes it, and/or whose 2xx
   * answer goes into a fresh sink (one per attempt); any other answer (an error envelope, or the
   * JSON answer to an upload) is collected and read like every answer. The request's timeout is an
   * idle timeout here, until the answer's last byte. A connection that breaks or stalls midway fails
   * the attempt as a network error or timeout, so a read is retried with a new sink.
   *
   * It goes over a connection of its own whose reads land in one 64 KiB buffer, reused for every
   * read (`onread`), and whose body is written from one 256 KiB buffer, refilled once the socket took
   * it. node:http would allocate a buffer per socket read plus a copy of it per body chunk, garbage
   * that V8 frees only at its next collection — for a 7 MiB file that was about 2.7× the file in RSS
   * on top of the file itself. A connection of its own costs a handshake (two round trips with TLS)
   * that a shared keep-alive connection saves: bodies known to be smaller than DIRECT_FROM_BYTES
   * (a message's small attachment), whose garbage does not matter, are read whole and go over the
   * shared connection instead, and everything behind an HTTP proxy (environment variables, which
   * axios honours) goes through axios as a stream.
   */
  private async streamed<T>(spec: RequestSpec, method: string, authorization?: string): Promise<{ status: number; outcome: HttpResponse<T> | PlatformError }> {
    const idleMs = spec.timeoutMs ?? this.options.timeoutMs;
    let sink: BodySink<unknown> | undefined;
    const chunks: Buffer[] = [];
    const open = (status: number, headers: Record<string, unknown>): ((chunk: Buffer) => void) => {
      if (!spec.sink || status < 200 || status >= 300) return (chunk) => chunks.push(Buffer.from(chunk));
      const length = Number(headers['content-length']);
      sink = spec.sink!(Number.isSafeInteger(length) && length >= 0 ? length : undefined);
      const target = sink;
      return (chunk) => {
        try {
          target.write(chunk);
        } catch (error) {
          throw new CallbackFailure(error);
        }
      };
    };
    let status: number;
    let headers: Record<string, unknown>;
    const size = spec.source?.length ?? spec.expectedBytes;
    const url = this.urlOf(spec);
    if (proxied()) {
      const response = (await this.send(spec, method, authorization)) as unknown as AxiosResponse<Readable>;
      status = response.status;
      headers = response.headers as Record<string, unknown>;
      await drain(response.data, idleMs, open(status, headers));
    } else if (size !== undefined && size < DIRECT_FROM_BYTES) {
      // Small: the body read whole, over a shared connection.
      const body = spec.source ? readWhole(spec.source) : undefined;
      const answer = await exchange(method, url, this.prepare({ ...spec, source: undefined, body }, authorization).headers, body, idleMs);
      ({ status, headers } = answer);
      const deliver = open(status, headers); // an empty body opens its sink too
      if (answer.data.length) deliver(answer.data);
    } else {
      const requestHeaders: Record<string, string> = { Accept: 'application/json', ...spec.headers, 'Accept-Encoding': 'identity' };
      if (authorization) requestHeaders.Authorization = authorization;
      ({ status, headers } = await direct(method, url, requestHeaders, spec.source, idleMs, open));
    }
    if (sink) return { status, outcome: { status, data: sink.end() as T, headers } };
    const body = Buffer.concat(chunks);
    return { status, outcome: this.interpret<T>({ status, headers, data: body }, { ...spec, sink: undefined, source: undefined }, method) };
  }

  private interpret<T>(response: RawResponse, spec: RequestSpec, method: string): HttpResponse<T> | PlatformError {
    const { status } = response;
    const body = Buffer.isBuffer(response.data) ? response.data : Buffer.from(response.data ?? []);
    const headers = response.headers as Record<string, unknown>;
    if (status >= 200 && status < 300) {
      if (spec.response === 'bytes') return { status, data: body as unknown as T, headers };
      if (status === 204 || body.length === 0) return { status, data: undefined as T, headers };
      const json = parseJson(body);
      if (json === undefined) return malformed(method, spec.path, status, 'the answer is not JSON');
      if (spec.response === 'raw') return { status, data: json as T, headers };
      if (typeof json !== 'object' || json === null || !('result' in json)) {
        return malformed(method, spec.path, status, 'the answer has no "result"');
      }
      return { status, data: (json as { result: T }).result, headers };
    }
    return errorFromResponse(status, body, method, spec.path);
  }

  private transportError(thrown: unknown, method: string, path: string): PlatformError {
    const code = (thrown as { code?: string }).code ?? '';
    const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
    return new PlatformError({
      kind: timedOut ? 'timeout' : 'network',
      code: timedOut ? 'error.client.timeout' : 'error.client.network',
      method,
      path,
      message: timedOut
        ? `${method} ${path}: the Platform at ${this.baseUrl} did not answer in time`
        : `${method} ${path}: the Platform at ${this.baseUrl} could not be reached (${code || 'connection failed'})`,
    });
  }
}

/**
 * A call that must not be repeated blindly (a send, an upload, a relationship change) failed in a way
 * that leaves open whether the Platform carried it out: the connection broke or timed out after the
 * request went out, or the Platform answered 5xx. Say so, so that nobody simply sends again: "could
 * not be reached" would be wrong when the message was stored (test/faults/send-idempotence).
 */
function withUnknownOutcome(error: PlatformError): PlatformError {
  const unknown = error.kind === 'network' || error.kind === 'timeout' || (error.status ?? 0) >= 500;
  if (!unknown) return error;
  const reason =
    error.kind === 'timeout'
      ? 'the Platform did not answer in time'
      : error.kind === 'network'
        ? 'the connection to the Platform broke before its answer arrived'
        : `the Platform answered ${error.status}${error.message ? ` (${error.message})` : ''}`;
  return new PlatformError({
    kind: error.kind,
    code: error.code,
    status: error.status,
    method: error.method,
    path: error.path,
    data: error.data,
    outcomeUnknown: true,
    message:
      `${error.method} ${error.path}: ${reason}. The request may nevertheless have been carried out (e.g. the message sent, the file ` +
      'uploaded); it was not repeated automatically, to avoid doing it twice. Check the result (e.g. the list of sent messages) before trying again.',
  });
}

/** A sink or a body source threw: its error is passed on as it is, not retried. */
class CallbackFailure extends Error {
  constructor(readonly error: unknown) {
    super('the body sink failed');
  }
}

/** Whether axios might send requests through a proxy: it reads these variables (NO_PROXY aside). */
const PROXY_VARIABLES = ['https_proxy', 'http_proxy', 'all_proxy', 'npm_config_https_proxy', 'npm_config_http_proxy', 'npm_config_proxy'];
function proxied(): boolean {
  return PROXY_VARIABLES.some((name) => !!(process.env[name] || process.env[name.toUpperCase()]));
}

/** TLS settings made on https.globalAgent, which axios' requests use: the direct connection uses them too. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'ciphers', 'minVersion', 'maxVersion', 'secureOptions', 'checkServerIdentity'] as const;
function globalTlsOptions(): tls.ConnectionOptions {
  const options = https.globalAgent.options as Record<string, unknown>;
  return Object.fromEntries(TLS_OPTIONS.filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
}

/** Bodies from this size on go over a connection of their own (see HttpClient.streamed). */
export const DIRECT_FROM_BYTES = 256 * 1024;
const READ_BUFFER = 64 * 1024;
/** Larger than a read: each write is a system call and an event-loop turn (a 7 MiB upload took ~150). */
const WRITE_BUFFER = 256 * 1024;
const MAX_HEAD = 64 * 1024;

const failure = (message: string, code: string): Error => Object.assign(new Error(message), { code });

/** An answer as received: its body collected into one Buffer. */
interface RawResponse {
  status: number;
  headers: Record<string, unknown>;
  data: Buffer;
}

/**
 * One request on the global keep-alive agent of its protocol, its answer collected. `timeoutMs`
 * bounds the whole exchange, as axios' timeout did; failures reject with node's codes (ECONNRESET,
 * ECONNREFUSED…) or ETIMEDOUT. A compressed answer (the request asks for none) is inflated.
 */
function exchange(method: string, url: URL, headers: Record<string, string>, body: string | Buffer | undefined, timeoutMs: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const requestHeaders: Record<string, string> = { 'User-Agent': 'n8n-nodes-enmeshed', ...headers };
    if (body !== undefined) requestHeaders['Content-Length'] = String(Buffer.byteLength(body));
    let settled = false;
    const settle = (error: Error | undefined, response?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        request.destroy();
        reject(error);
      } else {
        resolve(response!);
      }
    };
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => settle(Object.assign(error, { code: (error as { code?: string }).code ?? 'ECONNRESET' })));
      res.on('close', () => res.complete || settle(failure('the connection closed before the answer ended', 'ECONNRESET')));
      res.on('end', () => {
        try {
          const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, data: inflate(raw, res.headers['content-encoding']) });
        } catch (error) {
          settle(Object.assign(error as Error, { code: 'EPROTO' }));
        }
      });
    };
    const options: http.RequestOptions = { method, headers: requestHeaders, agent: secure ? https.globalAgent : http.globalAgent };
    const request = secure ? https.request(url, options, onResponse) : http.request(url, options, onResponse);
    const timer = setTimeout(() => settle(failure('the Platform did not answer in time', 'ETIMEDOUT')), timeoutMs);
    request.on('error', (error) => settle(error));
    request.end(body);
  });
}

function inflate(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      throw new Error(`unexpected Content-Encoding ${encoding}`);
  }
}

/** A (small) body source read into one buffer; its errors, or a length other than announced, pass through as they are. */
function readWhole(source: BodySource): Buffer {
  const body = Buffer.allocUnsafe(source.length);
  let filled = 0;
  let beyond = 0;
  try {
    const reader = source.open();
    for (let n = -1; n !== 0 && filled < body.length; filled += n) n = reader.read(body.subarray(filled));
    if (filled === body.length) beyond = reader.read(Buffer.allocUnsafe(1));
  } catch (error) {
    throw new CallbackFailure(error);
  }
  if (filled !== source.length || beyond > 0) {
    throw new CallbackFailure(new Error(`the request body has ${beyond > 0 ? 'more than ' : ''}${filled} bytes, not the ${source.length} announced`));
  }
  return body;
}

/** A body source as a stream of fresh buffers (for axios). */
function pieces(source: BodySource): Readable {
  const reader = source.open();
  return new Readable({
    read() {
      try {
        const chunk = Buffer.allocUnsafe(Math.min(WRITE_BUFFER, source.length || 1));
        const n = reader.read(chunk);
        this.push(n > 0 ? chunk.subarray(0, n) : null);
      } catch (error) {
        this.destroy(new CallbackFailure(error));
      }
    },
  });
}

/**
 * One HTTP/1.1 request on a connection of its own (`Connection: close`): the body, if any, written
 * from one buffer refilled by `source` each time the socket took it, the answer read through one
 * reused buffer. `open` is called with the status and headers and returns where the answer's body
 * goes; each piece is a view of the read buffer, valid only during the call. Content-Length,
 * chunked and until-close bodies; interim 1xx answers are skipped; an answer that arrives before
 * the body was sent ends the request. Rejects with a `code` like node:net does (ECONNRESET,
 * ETIMEDOUT, ECONNREFUSED…) when the connection fails before the answer ended.
 */
function direct(
  method: string,
  url: URL,
  headers: Record<string, string>,
  source: BodySource | undefined,
  idleMs: number,
  open: (status: number, headers: Record<string, unknown>) => (chunk: Buffer) => void,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (secure ? 443 : 80);
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    let head = Buffer.alloc(0);
    let status = 0;
    let responseHeaders: Record<string, unknown> = {};
    let deliver: ((chunk: Buffer) => void) | undefined;
    let body: BodyFraming | undefined;
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve({ status, headers: responseHeaders });
    };

    const onHead = (text: string): boolean => {
      const lines = text.split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!match) throw failure('not an HTTP/1.1 answer', 'EPROTO');
      const code = Number(match[1]);
      if (code >= 100 && code < 200) return false; // interim answer: the real one follows
      const fields: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`;
      }
      const encoding = fields['content-encoding'];
      if (encoding && encoding.toLowerCase() !== 'identity') throw failure(`unexpected Content-Encoding ${encoding}`, 'EPROTO');
      status = code;
      responseHeaders = fields;
      const length = Number(fields['content-length']);
      body = /chunked/i.test(fields['transfer-encoding'] ?? '')
        ? new ChunkedBody()
        : code === 204 || code === 304
          ? new LengthBody(0)
          : fields['content-length'] !== undefined && Number.isSafeInteger(length) && length >= 0
            ? new LengthBody(length)
            : new UntilCloseBody();
      deliver = open(code, fields);
      return true;
    };

    const onRead = (nread: number, data: Buffer): void => {
      if (settled) return;
      try {
        let bytes = data.subarray(0, nread);
        while (!body) {
          head = Buffer.concat([head, bytes]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_HEAD) throw failure('the answer head is too large', 'EPROTO');
            return;
          }
          const rest = head.subarray(end + 4);
          const isFinal = onHead(head.toString('latin1', 0, end));
          head = Buffer.alloc(0);
          bytes = Buffer.from(rest); // the head buffer is small; `rest` is the first body bytes
          if (!isFinal) continue;
        }
        if (body.feed(bytes, deliver!)) finish();
      } catch (error) {
        finish(error as Error);
      }
    };

    const options = {
      host,
      port,
      onread: {
        buffer,
        callback: (nread: number, data: Buffer): boolean => {
          onRead(nread, data);
          return true;
        },
      },
    };
    const socket: net.Socket = secure ? tls.connect({ ...globalTlsOptions(), ...options, servername: net.isIP(host) ? undefined : host }) : net.connect(options);
    socket.setTimeout(idleMs, () => finish(failure('the Platform stalled', 'ETIMEDOUT')));
    // The body: one buffer, refilled when the socket has taken it (at most one write in flight).
    const reader = source?.open();
    const outgoing = reader ? Buffer.allocUnsafe(WRITE_BUFFER) : undefined;
    let sent = 0;
    const pump = (): void => {
      if (settled || !reader || !outgoing) return;
      let n: number;
      try {
        n = reader.read(outgoing);
      } catch (error) {
        return finish(new CallbackFailure(error));
      }
      sent += n;
      if (sent > source!.length || (n === 0 && sent !== source!.length)) {
        return finish(new CallbackFailure(new Error(`the request body has ${sent} bytes, not the ${source!.length} announced`)));
      }
      if (n > 0) socket.write(outgoing.subarray(0, n), (error) => !error && pump());
    };
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'User-Agent: n8n-nodes-enmeshed'];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      if (source) lines.push(`Content-Length: ${source.length}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      pump();
    });
    socket.on('error', (error) => finish(error));
    socket.on('end', () => {
      if (body?.atClose()) finish();
      else finish(failure('the connection closed before the answer ended', 'ECONNRESET'));
    });
    // Every answer ends with the connection closing: only an unfinished one is a failure (an Error
    // costs a stack trace, on every file transfer otherwise).
    socket.on('close', () => settled || finish(failure('the connection closed before the answer ended', 'ECONNRESET')));
  });
}

/** How a body ends; `feed` passes its bytes on and says whether the body is complete. */
interface BodyFraming {
  feed(bytes: Buffer, deliver: (chunk: Buffer) => void): boolean;
  /** Whether the connection closing ends the body properly. */
  atClose(): boolean;
}

class LengthBody implements BodyFraming {
  constructor(private remaining: number) {}
  feed(bytes: Buffer, deliver: (chunk: Buffer) => void): boolean {
    const take = Math.min(this.remaining, bytes.length);
    if (take > 0) deliver(bytes.subarray(0, take));
    this.remaining -= take;
    return this.remaining === 0;
  }
  atClose(): boolean {
    return this.remaining === 0;
  }
}

class UntilCloseBody implements BodyFraming {
  feed(bytes: Buffer, deliver: (chunk: Buffer) => void): boolean {
    if (bytes.length) deliver(bytes);
    return false;
  }
  atClose(): boolean {
    return true;
  }
}

/** Transfer-Encoding: chunked — size line, data, CRLF, …, a zero size, trailers, an empty line. */
class ChunkedBody implements BodyFraming {
  private line = '';
  private state: 'size' | 'data' | 'dataEnd' | 'trailer' | 'done' = 'size';
  private remaining = 0;
  feed(bytes: Buffer, deliver: (chunk: Buffer) => void): boolean {
    let i = 0;
    while (i < bytes.length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, bytes.length - i);
        deliver(bytes.subarray(i, i + take));
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'dataEnd';
        continue;
      }
      const newline = bytes.indexOf(0x0a, i);
      const end = newline < 0 ? bytes.length : newline;
      this.line += bytes.toString('latin1', i, end);
      i = end + 1;
      if (newline < 0) {
        if (this.line.length > 4096) throw failure('a chunk line is too long', 'EPROTO');
        break;
      }
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line);
        if (!size) throw failure('a malformed chunk size', 'EPROTO');
        this.remaining = parseInt(size[1], 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.state === 'dataEnd') {
        if (line !== '') throw failure('a chunk does not end with CRLF', 'EPROTO');
        this.state = 'size';
      } else if (line === '') {
        this.state = 'done';
      }
    }
    return this.state === 'done';
  }
  atClose(): boolean {
    return this.state === 'done';
  }
}

/** Reads a body stream to its end; rejects like a broken or stalled connection. */
function drain(stream: Readable, idleMs: number, onChunk: (chunk: Buffer) => unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        stream.destroy();
        reject(error);
      } else {
        resolve();
      }
    };
    const timer = setTimeout(() => settle(failure('the body stalled', 'ETIMEDOUT')), idleMs);
    stream.on('data', (chunk: Buffer) => {
      timer.refresh();
      try {
        onChunk(chunk);
      } catch (error) {
        settle(error as Error);
      }
    });
    stream.once('end', () => settle());
    stream.once('error', (error: Error) => settle(Object.assign(error, { code: (error as { code?: string }).code ?? 'ECONNRESET' })));
    stream.once('close', () => settle(failure('the connection closed before the body ended', 'ECONNRESET')));
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function malformed(method: string, path: string, status: number, why: string): PlatformError {
  return new PlatformError({
    kind: 'malformedResponse',
    code: 'error.client.malformedResponse',
    status,
    method,
    path,
    message: `${method} ${path}: unexpected answer from the Platform (${why})`,
  });
}

/** Reads the Backbone error envelope (or OAuth error JSON, or nothing) of a non-2xx answer. */
export function errorFromResponse(status: number, body: Buffer, method: string, path: string): PlatformError {
  const json = body.length ? parseJson(body) : undefined;
  const envelope = (json as { error?: unknown } | undefined)?.error;
  if (envelope && typeof envelope === 'object') {
    const e = envelope as { code?: unknown; message?: unknown; data?: unknown };
    const code = typeof e.code === 'string' ? e.code : `error.http.${status}`;
    const text = typeof e.message === 'string' ? e.message.slice(0, 500) : `status ${status}`;
    let exhaustedUntil: Date | undefined;
    if (Array.isArray(e.data)) {
      const dates = e.data
        .map((entry) => Date.parse(String((entry as { isExhaustedUntil?: unknown }).isExhaustedUntil)))
        .filter((t) => Number.isFinite(t));
      if (dates.length) exhaustedUntil = new Date(Math.max(...dates));
    }
    return new PlatformError({ kind: 'backbone', code, status, method, path, message: text, data: e.data ?? undefined, exhaustedUntil });
  }
  if (typeof envelope === 'string') {
    // OAuth error JSON from /connect/token: {"error":"invalid_grant","error_description":"…"}
    const description = (json as { error_description?: unknown }).error_description;
    return new PlatformError({
      kind: 'authentication',
      code: `error.oauth.${envelope}`,
      status,
      method,
      path,
      message: typeof description === 'string' ? description.slice(0, 300) : envelope,
    });
  }
  const code = status === 401 ? 'error.platform.unauthorized' : status === 404 ? 'error.platform.recordNotFound' : `error.http.${status}`;
  return new PlatformError({
    kind: status === 401 ? 'authentication' : 'backbone',
    code,
    status,
    method,
    path,
    message: `${method} ${path} answered ${status}${status === 404 ? ' (unknown route or record)' : ''}`,
  });
}
