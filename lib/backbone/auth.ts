import type { HttpClient } from './http';
import { PlatformError } from './errors';

/**
 * OAuth password-grant login of one device, as the reference client does it: the token is cached
 * with its expiry and treated as expired 10 s early; concurrent callers share one login; after a 401
 * the caller drops the token, logs in again and retries once (PlatformClient does that).
 * There is no refresh token in the Backbone.
 */
export interface DeviceLogin {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

const EARLY_MS = 10_000;

export class TokenManager {
  private token?: CachedToken;
  private pending?: Promise<CachedToken>;
  /** Logins performed (for tests and benchmarks). */
  logins = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly login: DeviceLogin,
    private readonly now: () => number = Date.now,
  ) {}

  async authorization(): Promise<string> {
    const token = this.token && this.token.expiresAt - EARLY_MS > this.now() ? this.token : await this.fetch();
    return `Bearer ${token.value}`;
  }

  /** Forget the token (after a 401). */
  invalidate(rejected?: string): void {
    if (!rejected || (this.token && `Bearer ${this.token.value}` === rejected)) this.token = undefined;
  }

  private fetch(): Promise<CachedToken> {
    this.pending ??= this.requestToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async requestToken(): Promise<CachedToken> {
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: this.login.clientId,
      client_secret: this.login.clientSecret,
      username: this.login.username,
      password: this.login.password,
    });
    const started = this.now();
    const response = await this.http.request<{ access_token?: unknown; expires_in?: unknown }>(
      {
        method: 'POST',
        path: '/connect/token',
        body: form.toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        response: 'raw',
        idempotent: true,
      },
    );
    const { access_token: value, expires_in: expiresIn } = response.data ?? {};
    if (typeof value !== 'string' || !value) {
      throw new PlatformError({
        kind: 'malformedResponse',
        code: 'error.client.malformedResponse',
        method: 'POST',
        path: '/connect/token',
        message: 'the Platform answered the login without an access token',
      });
    }
    this.logins++;
    const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 300;
    this.token = { value, expiresAt: started + seconds * 1000 };
    return this.token;
  }
}
