import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import { PlatformError } from './errors';

/**
 * The transport under every Platform call: one axios instance, the `{result}` / `{error}` envelope
 * read on every status, timeouts, and retries that can never duplicate an effect.
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
  /** Safe to repeat after an unknown outcome. Defaults to true for GET/HEAD. */
  idempotent?: boolean;
  timeoutMs?: number;
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
  private readonly axios: AxiosInstance;
  private readonly options: Required<Omit<HttpOptions, 'onRequest'>> & Pick<HttpOptions, 'onRequest'>;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.options = { timeoutMs: 30_000, maxAttempts: 4, backoffMs: 250, maxQuotaWaitMs: 30_000, ...options };
    this.axios = axios.create({
      baseURL: this.baseUrl,
      // We read every status ourselves; axios must not throw on 4xx/5xx.
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      maxRedirects: 0,
      // Keep binary and JSON handling in our hands: no automatic JSON parsing of error bodies etc.
      responseType: 'arraybuffer',
      transitional: { clarifyTimeoutError: true },
    });
  }

  async request<T>(spec: RequestSpec, authorization?: string): Promise<HttpResponse<T>> {
    const method = spec.method.toUpperCase();
    const idempotent = spec.idempotent ?? (method === 'GET' || method === 'HEAD');
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let outcome: HttpResponse<T> | PlatformError;
      let nothingSent = false;
      try {
        const response = await this.send(spec, method, authorization);
        outcome = this.interpret<T>(response, spec, method);
        this.options.onRequest?.({ method, path: spec.path, status: response.status, attempt, ms: Date.now() - started });
      } catch (thrown) {
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

  private send(spec: RequestSpec, method: string, authorization?: string): Promise<AxiosResponse<Buffer>> {
    const headers: Record<string, string> = { Accept: 'application/json', ...spec.headers };
    if (authorization) headers.Authorization = authorization;
    let data = typeof spec.body === 'function' ? (spec.body as () => unknown)() : spec.body;
    const multipart = data as { pipe?: unknown; getHeaders?: () => Record<string, string> } | undefined;
    const isStream = typeof multipart?.pipe === 'function';
    if (isStream && typeof multipart?.getHeaders === 'function') Object.assign(headers, multipart.getHeaders());
    if (data !== undefined && !isStream && !Buffer.isBuffer(data) && typeof data !== 'string') {
      data = JSON.stringify(data);
      headers['Content-Type'] ??= 'application/json';
    }
    return this.axios.request<Buffer>({
      method,
      url: spec.path,
      params: spec.query,
      data,
      headers,
      timeout: spec.timeoutMs ?? this.options.timeoutMs,
    });
  }

  private interpret<T>(response: AxiosResponse<Buffer>, spec: RequestSpec, method: string): HttpResponse<T> | PlatformError {
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
