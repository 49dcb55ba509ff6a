/**
 * Server-sent events (Backbone SseServer, SseController): GET /api/v1/sse and /api/v2/sse on the Consumer
 * API's host, as the ingress routes them; 404 when the SseServer is not deployed (config `sse: false`).
 *
 *   - Auth: ASP.NET's JwtBearer with its defaults (5 min clock skew, error details on): a missing token gets a
 *     bare 401 with `WWW-Authenticate: Bearer`; a bad one `Bearer error="invalid_token"` (with an
 *     error_description for a bad signature or an expired token). No body.
 *   - Connect: the device's push registration becomes platform `sse` (handle "sse-handle"), then 200 with
 *     `Cache-Control: no-cache`, `Connection: keep-alive`, `Content-Type: text/event-stream`, and the first bytes
 *     `event: ConnectionOpened\ndata: _\n\n`. Every event is `event: <Name>\ndata: _\n\n`; nothing is replayed.
 *   - Events: whatever domain/push.ts enqueues for the identity (ExternalEventCreated,
 *     DatawalletModificationsCreated) and `keep-alive` every `sseKeepAliveMs` (sse.ts).
 *   - One stream per identity: a second stream gets 200 and the headers, and an empty body ended at once; on
 *     its way out it deregisters the address — the first stream's channel — and deletes its own device's push
 *     registration. Every stream does the same when it ends (the controller's `finally`). See sse.ts.
 */
import type { ServerResponse } from 'node:http';
import type { Platform } from '../core';
import { checkBearer } from '../http/auth';
import type { Reply, Router } from '../http/router';
import { deletePushRegistration, setPushRegistration, SSE_HANDLE } from '../domain/push';
import { ClientAlreadyRegistered } from '../sse';

const CLOCK_SKEW_MS = 5 * 60_000;

const pad = (n: number): string => String(n).padStart(2, '0');
/** DateTime.ToString(CultureInfo.InvariantCulture): MM/dd/yyyy HH:mm:ss (UTC here). */
function invariantDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const event = (name: string): string => `event: ${name}\ndata: _\n\n`;

function subscribe(p: Platform, address: string, deviceId: string, res: ServerResponse, headers: Record<string, string>): void {
  setPushRegistration(p, deviceId, 'sse', SSE_HANDLE);
  res.writeHead(200, { ...headers, 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'Content-Type': 'text/event-stream' });
  let ended = false;
  let stopKeepAlive = (): void => undefined;
  // The controller's `finally`: runs once, when the stream ends for whatever reason (or the Platform stops).
  const untrack = p.sse.track(() => end());
  const end = (): void => {
    if (ended) return;
    ended = true;
    untrack();
    stopKeepAlive();
    p.sse.deregister(address);
    if (p.db.isOpen) deletePushRegistration(p, deviceId);
  };
  try {
    ({ stopKeepAlive } = p.sse.register(
      address,
      {
        send: (name) => {
          if (!res.destroyed && !res.writableEnded) res.write(event(name));
        },
      },
      p.config.sseKeepAliveMs,
    ));
  } catch (e) {
    if (!(e instanceof ClientAlreadyRegistered)) throw e;
    end();
    res.end();
    return;
  }
  res.on('close', end);
  res.write(event('ConnectionOpened'));
}

export function registerSse(router: Router): void {
  for (const version of ['v1', 'v2']) {
    router.add('GET', `/api/${version}/sse`, 'anonymous', (ctx): Reply => {
      const p = ctx.platform;
      if (!p.config.sse) return { status: 404 };
      const bearer = checkBearer(p, ctx.req, CLOCK_SKEW_MS);
      if (!('auth' in bearer)) {
        let challenge = 'Bearer';
        if (bearer.reason === 'invalid') challenge = 'Bearer error="invalid_token"';
        else if (bearer.reason === 'badSignature') challenge = 'Bearer error="invalid_token", error_description="The signature is invalid"';
        else if (bearer.reason === 'expired')
          challenge = `Bearer error="invalid_token", error_description="The token expired at '${invariantDate(Math.floor(bearer.expMs / 1000) * 1000)}'"`;
        return { status: 401, headers: { 'WWW-Authenticate': challenge } };
      }
      const { address, deviceId } = bearer.auth;
      return { status: 200, stream: (res, headers) => subscribe(p, address, deviceId, res, headers) };
    });
  }
}
