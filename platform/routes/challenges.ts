/**
 * Challenges (§3.1): POST anonymous or authenticated (then createdBy/createdByDevice are set), GET needs auth and
 * answers 404 once the challenge is more than 1 h past expiresAt. Also the shared signed-challenge check used by
 * POST /Identities and POST /Devices.
 */
import type { Router } from '../http/router';
import { created, ok } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import type { In } from '../http/input';
import type { Platform } from '../core';
import { iso, isId, newId } from '../util';
import { verifySignature } from '../domain/crypto';

interface ChallengeRow {
  id: string;
  expires_at: string;
  created_by: string | null;
  created_by_device: string | null;
}

const dto = (c: ChallengeRow) => ({ id: c.id, expiresAt: c.expires_at, createdBy: c.created_by, createdByDevice: c.created_by_device });

export function registerChallenges(router: Router): void {
  router.add('POST', '/api/v2/Challenges', 'optional', (ctx) => {
    const p = ctx.platform;
    const row: ChallengeRow = {
      id: newId('CHL'),
      expires_at: iso(p.nowMs() + p.config.challengeLifetimeSeconds * 1000),
      created_by: ctx.auth?.address ?? null,
      created_by_device: ctx.auth?.deviceId ?? null,
    };
    p.db.run('INSERT INTO challenges(id, expires_at, created_by, created_by_device) VALUES(?,?,?,?)', row.id, row.expires_at, row.created_by, row.created_by_device);
    return created(dto(row));
  });

  router.add('GET', '/api/v2/Challenges/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const id = ctx.params.id;
    if (!isId(id, 'CHL')) throw invalid("'Id' is not a valid challenge id.");
    const row = p.db.get<ChallengeRow>('SELECT * FROM challenges WHERE id = ?', id);
    if (!row || Date.parse(row.expires_at) + 3600_000 < p.nowMs()) throw notFound('Challenge');
    return ok(dto(row));
  });
}

/**
 * Verifies `signedChallenge` {challenge, signature} against `publicKey` and loads the challenge.
 * Order as on the server: signature first, then lookup (404), then expiry. Challenges are not consumed.
 */
export function checkSignedChallenge(p: Platform, signed: In, publicKey: Buffer): ChallengeRow {
  const challengeText = signed.str('challenge', { required: true }) as string;
  const signature = signed.str('signature', { required: true }) as string;
  if (!verifySignature(publicKey, Buffer.from(challengeText, 'utf8'), signature))
    throw badRequest(Codes.device.invalidSignature, 'The signature of the challenge is invalid.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(challengeText);
  } catch {
    throw invalid("'SignedChallenge.Challenge' is not valid JSON.");
  }
  const id = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).id : undefined;
  if (!isId(id, 'CHL')) throw invalid("'SignedChallenge.Challenge' does not contain a valid challenge id.");
  const row = p.db.get<ChallengeRow>('SELECT * FROM challenges WHERE id = ?', id);
  if (!row) throw notFound('Challenge');
  if (row.expires_at <= p.nowIso()) throw badRequest(Codes.device.challengeHasExpired, 'The challenge has expired.');
  return row;
}
