/**
 * Tiny router + request context + response writer. Route matching ignores case (as ASP.NET does); a route with
 * more literal segments wins over one with parameters (`/Relationships/CanCreate` before `/Relationships/{id}`).
 * Unknown routes answer 404 with an empty body, a known path with the wrong method 405 (both like ASP.NET).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApiError, Codes, OAuthError, UnauthorizedError } from './errors';
import { parseJsonBody, readBody } from './body';
import { In } from './input';
import { authenticate, type AuthInfo } from './auth';
import { readPaging, pageOf, type Paging, type Pagination } from './paging';
import type { Platform } from '../core';
import { errorTime, iso, newErrorId } from '../util';

export type AuthMode = 'required' | 'optional' | 'anonymous';

export interface Reply {
  status: number;
  /** JSON envelope {result, pagination?} */
  result?: unknown;
  pagination?: Pagination;
  /** raw body (file download, OAuth JSON) */
  raw?: { contentType: string; body: Buffer };
  headers?: Record<string, string>;
  /** The handler writes the response itself (server-sent events), with these headers as a start. */
  stream?: (res: ServerResponse, headers: Record<string, string>) => void;
}

export class Ctx {
  private bodyPromise?: Promise<Buffer>;
  readonly query: URLSearchParams;

  constructor(
    readonly platform: Platform,
    readonly req: IncomingMessage,
    readonly path: string,
    rawQuery: string,
    readonly params: Record<string, string>,
    readonly auth: AuthInfo | undefined,
  ) {
    this.query = new URLSearchParams(rawQuery);
  }

  /** The authenticated caller; only call on routes with auth 'required'. */
  get user(): AuthInfo {
    if (!this.auth) throw new UnauthorizedError();
    return this.auth;
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  body(limit = this.platform.config.maxRequestSize): Promise<Buffer> {
    this.bodyPromise ??= readBody(this.req, limit);
    return this.bodyPromise;
  }

  async json(): Promise<In> {
    return In.root(parseJsonBody(await this.body()));
  }

  /** Body optional: an empty body yields an empty object (routes that "ignore any body"). */
  async jsonOrEmpty(): Promise<In> {
    const buf = await this.body();
    if (buf.toString('utf8').trim() === '') return In.root({});
    return In.root(parseJsonBody(buf));
  }

  /** Query value, key matched case-insensitively (first occurrence). */
  q(name: string): string | undefined {
    for (const [k, v] of this.query) if (k.toLowerCase() === name.toLowerCase()) return v;
    return undefined;
  }

  qAll(name: string): string[] {
    const out: string[] = [];
    for (const [k, v] of this.query) if (k.toLowerCase() === name.toLowerCase()) out.push(v);
    return out;
  }

  paging(): Paging {
    return readPaging(this.query, this.platform.config);
  }
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

interface Route {
  method: string;
  segments: string[];
  literalCount: number;
  auth: AuthMode;
  handler: Handler;
}

export const ok = (result: unknown): Reply => ({ status: 200, result });
export const created = (result: unknown): Reply => ({ status: 201, result });
export const noContent = (): Reply => ({ status: 204 });
export function paged<T>(items: T[], paging: Paging, map?: (item: T) => unknown): Reply {
  const page = pageOf(items, paging);
  return { status: 200, result: map ? page.items.map(map) : page.items, pagination: page.pagination };
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, auth: AuthMode, handler: Handler): void {
    const segments = pattern.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? s : s.toLowerCase()));
    this.routes.push({ method, segments, literalCount: segments.filter((s) => !s.startsWith('{')).length, auth, handler });
  }

  match(method: string, path: string): { route?: Route; params: Record<string, string>; pathKnown: boolean } {
    let parts: string[];
    try {
      parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    } catch {
      return { params: {}, pathKnown: false };
    }
    let best: { route: Route; params: Record<string, string> } | undefined;
    let pathKnown = false;
    for (const r of this.routes) {
      if (r.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let okMatch = true;
      for (let i = 0; i < parts.length; i++) {
        const s = r.segments[i];
        if (s.startsWith('{')) params[s.slice(1, -1)] = parts[i];
        else if (s !== parts[i].toLowerCase()) {
          okMatch = false;
          break;
        }
      }
      if (!okMatch) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      if (!best || r.literalCount > best.route.literalCount) best = { route: r, params };
    }
    return { route: best?.route, params: best?.params ?? {}, pathKnown };
  }

  async handle(platform: Platform, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestTime = iso(platform.nowMs());
    const correlationId = (req.headers['x-correlation-id'] as string | undefined)?.slice(0, 200) || randomUUID();
    const traceId = randomUUID().replace(/-/g, '');
    const baseHeaders = (): Record<string, string> => ({
      'X-Request-Time': requestTime,
      'X-Response-Time': iso(platform.nowMs()),
      'X-Response-Duration-ms': String(Date.now() - started),
      'X-Trace-Id': traceId,
      'X-Correlation-ID': correlationId,
    });
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi >= 0 ? url.slice(0, qi) : url;
    const rawQuery = qi >= 0 ? url.slice(qi + 1) : '';
    const method = (req.method ?? 'GET').toUpperCase();

    let reply: Reply;
    try {
      const fault = platform.config.faults?.({ method, path, url });
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault === '500') throw new ApiError(500, Codes.unexpected, 'Injected fault.');
      if (fault === 'delay' || (typeof fault === 'object' && fault)) {
        const ms = typeof fault === 'object' ? fault.delayMs : 2000;
        await new Promise((r) => setTimeout(r, ms));
      }

      const { route, params, pathKnown } = this.match(method, path);
      if (!route) {
        reply = { status: pathKnown ? 405 : 404 };
      } else {
        const auth = route.auth === 'anonymous' ? undefined : authenticate(platform, req);
        if (route.auth === 'required' && !auth) throw new UnauthorizedError();
        const ctx = new Ctx(platform, req, path, rawQuery, params, auth);
        reply = await route.handler(ctx);
      }
    } catch (e) {
      if (e instanceof UnauthorizedError) {
        reply = { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
      } else if (e instanceof OAuthError) {
        reply = {
          status: e.status,
          raw: {
            contentType: 'application/json;charset=UTF-8',
            body: Buffer.from(JSON.stringify({ error: e.error, error_description: e.description })),
          },
        };
      } else if (e instanceof ApiError) {
        reply = errorReply(platform, e.status, e.code, e.message, e.data);
      } else {
        // Anything reaching here is a bug in the emulator; keep serving.
        console.error('[platform] unexpected error', e);
        reply = errorReply(platform, 500, Codes.unexpected, 'An unexpected error occurred.', null);
      }
    }
    // Unread bodies (routes that ignore them) are discarded by node:http itself.
    write(res, reply, baseHeaders());
  }
}

function errorReply(platform: Platform, status: number, code: string, message: string, data: unknown): Reply {
  const body = { error: { id: newErrorId(), code, message, docs: '', time: errorTime(platform.now()), data: data ?? null } };
  return { status, raw: { contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(body)) } };
}

function write(res: ServerResponse, reply: Reply, base: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.stream) return reply.stream(res, { ...base, ...(reply.headers ?? {}) });
  const headers: Record<string, string | number> = { ...base, ...(reply.headers ?? {}) };
  let body: Buffer | undefined;
  if (reply.raw) {
    headers['Content-Type'] = reply.raw.contentType;
    body = reply.raw.body;
  } else if (reply.result !== undefined) {
    const env: Record<string, unknown> = { result: reply.result };
    if (reply.pagination) env.pagination = reply.pagination;
    headers['Content-Type'] = 'application/json; charset=utf-8';
    body = Buffer.from(JSON.stringify(env));
  }
  if (body) headers['Content-Length'] = body.length;
  else if (reply.status !== 204 && reply.status !== 304) headers['Content-Length'] = 0;
  res.writeHead(reply.status, headers);
  res.end(body);
}
