/**
 * Tokens (§10): create (anonymous allowed with null content and < 5 min lifetime), GET (anonymous allowed,
 * optional standard-base64 password, allocation for authenticated non-creators, lock after 100 failed
 * passwords), list (ids required), delete, UpdateContent.
 */
import type { Router, Ctx } from '../http/router';
import { created, noContent, ok, paged } from '../http/router';
import { badRequest, Codes, forbidden, invalid, notFound } from '../http/errors';
import { checkBytes } from '../http/input';
import type { Platform } from '../core';
import { b64u, iso, isId, newId } from '../util';
import { checkQuotas } from '../domain/quotas';
import { addEvent } from '../domain/events';
import { readPasswordParam } from './relationshipTemplates';

const MAX_CONTENT = 10 * 1024 * 1024;
const MAX_FAILED_PASSWORD_ATTEMPTS = 100;
const ANONYMOUS_MAX_LIFETIME_MS = 5 * 60 * 1000;

interface TokenRow {
  id: string;
  created_by: string | null;
  created_by_device: string | null;
  created_at: string;
  expires_at: string;
  content: Buffer | null;
  for_identity: string | null;
  password: Buffer | null;
  failed_attempts: number;
}

const metaDto = (t: TokenRow) => ({
  id: t.id,
  createdBy: t.created_by,
  createdByDevice: t.created_by_device,
  forIdentity: t.for_identity,
  createdAt: t.created_at,
  expiresAt: t.expires_at,
  isPasswordProtected: t.password !== null,
});

const dto = (t: TokenRow) => {
  const m = metaDto(t);
  return {
    id: m.id,
    createdBy: m.createdBy,
    createdByDevice: m.createdByDevice,
    forIdentity: m.forIdentity,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
    content: b64u(t.content),
    isPasswordProtected: m.isPasswordProtected,
  };
};

function tokenId(ctx: Ctx): string {
  const id = ctx.params.id;
  if (!isId(id, 'TOK')) throw invalid("'Id' is not a valid token id.");
  return id;
}

function allocated(p: Platform, t: TokenRow, caller: string | undefined): boolean {
  return !!caller && !!p.db.get('SELECT 1 FROM token_allocations WHERE token_id = ? AND address = ?', t.id, caller);
}

/** Shared checks of GET and UpdateContent (step 2 of the access order). */
function checkAccess(p: Platform, t: TokenRow, caller: string | undefined, password: Buffer | undefined): void {
  if (t.expires_at <= p.nowIso()) throw notFound('Token');
  if (t.failed_attempts >= MAX_FAILED_PASSWORD_ATTEMPTS)
    throw badRequest(Codes.token.tooManyFailedPasswordAttempts, 'The token is locked because of too many failed password attempts.');
  if (t.for_identity !== null && t.for_identity !== caller) throw notFound('Token');
  if (t.password !== null && (!password || !password.equals(t.password))) {
    const failed = t.failed_attempts + 1;
    p.db.run('UPDATE tokens SET failed_attempts = ? WHERE id = ?', failed, t.id);
    if (failed === MAX_FAILED_PASSWORD_ATTEMPTS && t.created_by) addEvent(p, t.created_by, 'TokenLocked', { tokenId: t.id });
    throw notFound('Token');
  }
}

export function registerTokens(router: Router): void {
  router.add('POST', '/api/v2/Tokens', 'optional', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.auth;
    const body = await ctx.json();
    const content = body.bytes('content', { max: MAX_CONTENT }) ?? null;
    const expiresAt = body.date('expiresAt', { required: true }) as Date;
    const forIdentity = body.address('forIdentity') ?? null;
    const password = body.bytes('password') ?? null;
    if (password) checkBytes('Password', password, { min: 1, max: 200 });
    if (expiresAt.getTime() <= p.nowMs()) throw invalid("'ExpiresAt' must be in the future.");
    if (!me) {
      if (content !== null) throw invalid("'Content' must be null when creating a token anonymously.");
      if (expiresAt.getTime() >= p.nowMs() + ANONYMOUS_MAX_LIFETIME_MS)
        throw invalid("'ExpiresAt' must be less than 5 minutes in the future when creating a token anonymously.");
    } else {
      checkQuotas(p, me.address, ['NumberOfTokens']);
    }
    const t: TokenRow = {
      id: newId('TOK'),
      created_by: me?.address ?? null,
      created_by_device: me?.deviceId ?? null,
      created_at: p.nowIso(),
      expires_at: iso(expiresAt),
      content,
      for_identity: forIdentity,
      password,
      failed_attempts: 0,
    };
    p.db.run(
      'INSERT INTO tokens(id, created_by, created_by_device, created_at, expires_at, content, for_identity, password) VALUES(?,?,?,?,?,?,?,?)',
      t.id,
      t.created_by,
      t.created_by_device,
      t.created_at,
      t.expires_at,
      t.content,
      t.for_identity,
      t.password,
    );
    return created({ id: t.id, createdAt: t.created_at });
  });

  router.add('GET', '/api/v2/Tokens/{id}', 'optional', (ctx) => {
    const p = ctx.platform;
    const id = tokenId(ctx);
    const password = readPasswordParam(ctx.q('password'));
    const caller = ctx.auth?.address;
    const t = p.db.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', id);
    if (!t) throw notFound('Token');
    // quirk: an anonymously created token counts an anonymous GET as "the creator"
    const isCreator = t.created_by === (caller ?? null);
    if (isCreator || allocated(p, t, caller)) return ok(dto(t));
    checkAccess(p, t, caller, password);
    if (ctx.auth)
      p.db.run(
        'INSERT OR IGNORE INTO token_allocations(token_id, address, device, allocated_at) VALUES(?,?,?,?)',
        t.id,
        ctx.auth.address,
        ctx.auth.deviceId,
        p.nowIso(),
      );
    return ok(dto(t));
  });

  router.add('GET', '/api/v2/Tokens', 'required', (ctx) => {
    const p = ctx.platform;
    const paging = ctx.paging();
    const ids = [...ctx.qAll('ids')];
    for (const [k, v] of ctx.query) if (/^tokens(?:\.\d{1,4}|\[\d{1,4}\])\.id$/i.test(k)) ids.push(v);
    if (ids.length === 0) throw invalid("'Ids' must contain at least one id.");
    for (const id of ids) if (!isId(id, 'TOK')) throw invalid("'Ids' contains an invalid token id.");
    const me = ctx.user.address;
    const rows = [...new Set(ids)]
      .map((id) => p.db.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', id))
      .filter((t): t is TokenRow => !!t && (t.created_by === me || allocated(p, t, me)))
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    return paged(rows, paging, dto);
  });

  router.add('DELETE', '/api/v2/Tokens/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const t = p.db.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', tokenId(ctx));
    if (!t) throw notFound('Token');
    if (t.created_by !== ctx.user.address) throw forbidden('Only the creator of a token can delete it.');
    p.db.tx(() => {
      p.db.run('DELETE FROM token_allocations WHERE token_id = ?', t.id);
      p.db.run('DELETE FROM tokens WHERE id = ?', t.id);
    });
    return noContent();
  });

  router.add('POST', '/api/v2/Tokens/{id}/UpdateContent', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const id = tokenId(ctx);
    const body = await ctx.json();
    const newContent = body.bytes('newContent', { required: true, min: 1, max: MAX_CONTENT }) as Buffer;
    const password = body.bytes('password') ?? undefined;
    const t = p.db.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', id);
    if (!t) throw notFound('Token');
    // no creator exemption here
    checkAccess(p, t, me.address, password);
    if (t.content !== null)
      throw badRequest(Codes.token.contentAlreadyExists, 'The content of the token cannot be updated because it already has content.');
    p.db.run('UPDATE tokens SET content = ?, created_by = ?, created_by_device = ? WHERE id = ?', newContent, me.address, me.deviceId, t.id);
    return ok(metaDto({ ...t, content: newContent, created_by: me.address, created_by_device: me.deviceId }));
  });
}
