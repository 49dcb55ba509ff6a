/**
 * POST /connect/token (password grant only, OpenIddict-style OAuth errors, no refresh tokens).
 */
import type { Router } from '../http/router';
import { OAuthError } from '../http/errors';
import { parseForm } from '../http/body';
import { signJwt, verifyPassword } from '../http/auth';
import { iso } from '../util';

interface DeviceRow {
  id: string;
  address: string;
  username: string;
  password_hash: string;
  failed_logins: number;
  lockout_until: string | null;
}

export function registerConnect(router: Router): void {
  router.add('POST', '/connect/token', 'anonymous', async (ctx) => {
    const p = ctx.platform;
    const ct = (ctx.header('content-type') ?? '').toLowerCase();
    const buf = await ctx.body(64 * 1024).catch(() => {
      throw new OAuthError(400, 'invalid_request', 'The request body is too large.');
    });
    if (!ct.startsWith('application/x-www-form-urlencoded'))
      throw new OAuthError(400, 'invalid_request', "The specified 'Content-Type' header is invalid.");
    const form = parseForm(buf);
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError(400, 'invalid_request', "The mandatory 'grant_type' parameter is missing.");
    if (grantType !== 'password')
      throw new OAuthError(400, 'unsupported_grant_type', 'The specified grant type is not supported.');
    const username = form.get('username');
    const password = form.get('password');
    if (!username || !password)
      throw new OAuthError(400, 'invalid_request', "The mandatory 'username' and/or 'password' parameters are missing.");

    const clientId = form.get('client_id') ?? '';
    const client = p.db.get<{ client_secret: string }>('SELECT client_secret FROM clients WHERE client_id = ?', clientId);
    if (!client || client.client_secret !== (form.get('client_secret') ?? ''))
      throw new OAuthError(401, 'invalid_client', 'The specified client credentials are invalid.');

    const dev = p.db.get<DeviceRow>('SELECT * FROM devices WHERE username = ?', username);
    if (!dev) throw new OAuthError(400, 'invalid_grant', 'The username/password couple is invalid.');
    if (dev.lockout_until && dev.lockout_until > p.nowIso())
      throw new OAuthError(400, 'access_denied', 'The user is locked out.');
    if (!verifyPassword(password, dev.password_hash)) {
      const failed = dev.failed_logins + 1;
      if (failed >= p.config.lockoutAttempts)
        p.db.run('UPDATE devices SET failed_logins = 0, lockout_until = ? WHERE id = ?', iso(p.nowMs() + p.config.lockoutSeconds * 1000), dev.id);
      else p.db.run('UPDATE devices SET failed_logins = ? WHERE id = ?', failed, dev.id);
      throw new OAuthError(400, 'invalid_grant', 'The username/password couple is invalid.');
    }
    const identity = p.db.get<{ status: string }>('SELECT status FROM identities WHERE address = ?', dev.address);
    if (!identity || identity.status === 'Deleting')
      throw new OAuthError(400, 'invalid_grant', 'The username/password couple is invalid.');

    p.db.run('UPDATE devices SET failed_logins = 0, lockout_until = NULL, last_login = ? WHERE id = ?', p.nowIso(), dev.id);
    const lifetime = p.config.tokenLifetimeSeconds;
    const token = signJwt(p, { address: dev.address, deviceId: dev.id, username: dev.username, clientId }, lifetime);
    const body = { access_token: token, token_type: 'Bearer', expires_in: Math.max(1, Math.round(lifetime)) };
    return {
      status: 200,
      raw: { contentType: 'application/json;charset=UTF-8', body: Buffer.from(JSON.stringify(body)) },
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    };
  });
}

