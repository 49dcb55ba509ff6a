/**
 * Admin routes (the Backbone's admin side, reduced to OAuth clients). Same port, guarded by the header
 * `X-Admin-Key: <adminKey>`; disabled (404) when no admin key is configured.
 *   POST   /admin/clients        {clientId, clientSecret?, maxIdentities?}  → 201 {clientId, clientSecret, maxIdentities}
 *   GET    /admin/clients        → 200 [{clientId, maxIdentities, numberOfIdentities}]
 *   DELETE /admin/clients/{id}   → 204
 */
import { timingSafeEqual } from 'node:crypto';
import type { Router, Ctx } from '../http/router';
import { created, noContent, ok } from '../http/router';
import { ApiError, Codes, invalid, notFound } from '../http/errors';
import type { Platform } from '../core';
import { randomSecret } from '../util';

function guard(ctx: Ctx): void {
  const key = ctx.platform.config.adminKey;
  if (!key) throw new ApiError(404, Codes.recordNotFound, 'Admin routes are disabled.');
  const got = Buffer.from(ctx.header('x-admin-key') ?? '');
  const want = Buffer.from(key);
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new ApiError(401, Codes.unauthorized, 'Missing or wrong X-Admin-Key.');
}

export function upsertClient(p: Platform, clientId: string, clientSecret: string, maxIdentities: number | null = null): void {
  p.db.run(
    'INSERT INTO clients(client_id, client_secret, max_identities, created_at) VALUES(?,?,?,?) ON CONFLICT(client_id) DO UPDATE SET client_secret = excluded.client_secret, max_identities = excluded.max_identities',
    clientId,
    clientSecret,
    maxIdentities,
    p.nowIso(),
  );
}

export function registerAdmin(router: Router): void {
  router.add('POST', '/admin/clients', 'anonymous', async (ctx) => {
    guard(ctx);
    const body = await ctx.json();
    const clientId = body.str('clientId', { required: true, max: 200 }) as string;
    if (!/^[A-Za-z0-9._~-]{1,200}$/.test(clientId)) throw invalid("'ClientId' may only contain letters, digits and . _ ~ -.");
    const clientSecret = body.str('clientSecret', { max: 500 }) || randomSecret();
    const maxIdentities = body.int('maxIdentities', { min: 0 }) ?? null;
    upsertClient(ctx.platform, clientId, clientSecret, maxIdentities);
    return created({ clientId, clientSecret, maxIdentities });
  });

  router.add('GET', '/admin/clients', 'anonymous', (ctx) => {
    guard(ctx);
    const rows = ctx.platform.db.all<{ client_id: string; max_identities: number | null; n: number }>(
      'SELECT c.client_id, c.max_identities, (SELECT COUNT(*) FROM identities i WHERE i.client_id = c.client_id) n FROM clients c ORDER BY c.created_at',
    );
    return ok(rows.map((r) => ({ clientId: r.client_id, maxIdentities: r.max_identities, numberOfIdentities: r.n })));
  });

  router.add('DELETE', '/admin/clients/{id}', 'anonymous', (ctx) => {
    guard(ctx);
    const res = ctx.platform.db.run('DELETE FROM clients WHERE client_id = ?', ctx.params.id);
    if (res.changes === 0) throw notFound('Client');
    return noContent();
  });
}
