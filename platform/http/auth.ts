/**
 * Bearer tokens: HS256 JWTs signed with a per-database secret (so tokens survive a restart with a data dir).
 * Claims as in the Backbone (sub, name, nmshd_address, device_id) plus exp/iat/client_id. Device passwords are
 * stored as salted scrypt hashes.
 */
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Platform } from '../core';

export interface AuthInfo {
  address: string;
  deviceId: string;
  username: string;
  clientId: string;
}

export function signJwt(platform: Platform, info: AuthInfo, lifetimeSeconds: number): string {
  const now = Math.floor(platform.nowMs() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({
      sub: info.username,
      name: info.username,
      nmshd_address: info.address,
      device_id: info.deviceId,
      client_id: info.clientId,
      iat: now,
      nbf: now,
      // ms precision so sub-second lifetimes work in tests
      exp_ms: platform.nowMs() + lifetimeSeconds * 1000,
      exp: now + lifetimeSeconds,
    }),
  ).toString('base64url');
  const sig = createHmac('sha256', platform.jwtSecret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** Why a request is not authenticated: no bearer token, a token that does not verify, or one that expired. */
export type BearerFailure = { reason: 'missing' } | { reason: 'invalid' } | { reason: 'badSignature' } | { reason: 'expired'; expMs: number };

/**
 * Checks the bearer token. `clockSkewMs` accepts a token that expired that long ago (ASP.NET's JwtBearer, which
 * the SSE server uses, allows 5 minutes; the Consumer API's own checks here allow none).
 */
export function checkBearer(platform: Platform, req: IncomingMessage, clockSkewMs = 0): { auth: AuthInfo } | BearerFailure {
  const h = req.headers.authorization;
  if (!h || typeof h !== 'string' || !/^Bearer\s+\S/i.test(h)) return { reason: 'missing' };
  const m = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\s*$/i.exec(h);
  if (!m) return { reason: 'invalid' };
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { reason: 'invalid' };
  }
  const expected = createHmac('sha256', platform.jwtSecret).update(`${m[1]}.${m[2]}`).digest();
  const got = Buffer.from(m[3], 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { reason: 'badSignature' };
  if (typeof claims.exp_ms !== 'number') return { reason: 'invalid' };
  if (claims.exp_ms + clockSkewMs <= platform.nowMs()) return { reason: 'expired', expMs: claims.exp_ms };
  const deviceId = claims.device_id;
  if (typeof deviceId !== 'string') return { reason: 'invalid' };
  const dev = platform.db.get<{ address: string; username: string }>('SELECT address, username FROM devices WHERE id = ?', deviceId);
  if (!dev) return { reason: 'invalid' };
  return { auth: { address: dev.address, deviceId, username: dev.username, clientId: String(claims.client_id ?? '') } };
}

/** Returns the caller or undefined for a missing/bad/expired token or a device that no longer exists. */
export function authenticate(platform: Platform, req: IncomingMessage): AuthInfo | undefined {
  const result = checkBearer(platform, req);
  return 'auth' in result ? result.auth : undefined;
}

// Low scrypt cost: this is a local emulator, and tests log in a lot.
const SCRYPT = { N: 1024, r: 8, p: 1 };

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, SCRYPT);
  return `${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, SCRYPT);
  return timingSafeEqual(got, expected);
}
