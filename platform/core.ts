/**
 * Runtime state shared by all route modules: database, configuration, clock, JWT secret, SSE channels.
 */
import { randomBytes } from 'node:crypto';
import { PlatformDb } from './db';
import { SseHub } from './sse';
import { anonymousAddress, iso } from './util';

export type QuotaMetric =
  | 'NumberOfSentMessages'
  | 'NumberOfRelationships'
  | 'NumberOfRelationshipTemplates'
  | 'NumberOfFiles'
  | 'UsedFileStorageSpace'
  | 'NumberOfTokens';
export type QuotaPeriod = 'Hour' | 'Day' | 'Week' | 'Month' | 'Year' | 'Total';

/** One quota rule. `address` limits it to one identity; otherwise it applies to every identity (like a tier quota). */
export interface QuotaRule {
  metric: QuotaMetric;
  max: number;
  period: QuotaPeriod;
  address?: string;
}

export type FaultAction = 'drop' | '500' | 'delay' | { delayMs: number } | undefined;
export type FaultHook = (req: { method: string; path: string; url: string }) => FaultAction;

export interface PublicTemplateReference {
  title: string;
  description: string;
  truncatedReference: string;
}

export interface PlatformConfig {
  /** DID domain used in addresses; must equal the hostname clients use (`localhost`). */
  didDomain: string;
  tokenLifetimeSeconds: number;
  maxNumberOfMessageRecipients: number;
  maxUnreceivedMessages: number;
  /** Upload limit of a file's `content` part (bytes). */
  maxFileSize: number;
  /** Limit of a whole request body (bytes). */
  maxRequestSize: number;
  defaultPageSize: number;
  maxPageSize: number;
  quotas: QuotaRule[];
  /** Failed logins before lockout, and lockout length. */
  lockoutAttempts: number;
  lockoutSeconds: number;
  /** Production device-password policy (≥10 chars, upper, lower, digit, symbol). */
  strictPasswordPolicy: boolean;
  /** Codes accepted by POST /Notifications. */
  notificationCodes: string[];
  publicTemplateReferences: PublicTemplateReference[];
  challengeLifetimeSeconds: number;
  defaultSyncRunDurationSeconds: number;
  /** SSE keep-alive period (SseServer:KeepAliveEventIntervalInSeconds, 240 s); read when a stream connects. */
  sseKeepAliveMs: number;
  /** Whether the SseServer is deployed: without it, its routes answer 404 as the ingress does. */
  sse: boolean;
  /** Key for the /admin routes; undefined disables them. */
  adminKey?: string;
  faults?: FaultHook;
}

export const DEFAULT_CONFIG: PlatformConfig = {
  didDomain: 'localhost',
  tokenLifetimeSeconds: 300,
  maxNumberOfMessageRecipients: 1,
  maxUnreceivedMessages: 20,
  maxFileSize: 10 * 1024 * 1024,
  maxRequestSize: 20 * 1024 * 1024,
  defaultPageSize: 50,
  maxPageSize: 200,
  quotas: [],
  lockoutAttempts: 3,
  lockoutSeconds: 600,
  strictPasswordPolicy: true,
  notificationCodes: ['TestNotificationCode'],
  publicTemplateReferences: [],
  challengeLifetimeSeconds: 600,
  defaultSyncRunDurationSeconds: 10,
  sseKeepAliveMs: 240_000,
  sse: true,
};

export const TIER_ID = 'TIRBasicTierLocal000';

export class Platform {
  /** Milliseconds added to the real clock; tests move time forward with advanceClock(). */
  clockOffsetMs = 0;
  readonly jwtSecret: Buffer;
  readonly anonymous: string;
  /** The SSE server's channels (in memory, like the real one's). */
  readonly sse = new SseHub();

  constructor(
    readonly db: PlatformDb,
    readonly config: PlatformConfig,
  ) {
    let secret = db.meta('jwtSecret');
    if (!secret) {
      secret = randomBytes(32).toString('base64');
      db.setMeta('jwtSecret', secret);
    }
    this.jwtSecret = Buffer.from(secret, 'base64');
    this.anonymous = anonymousAddress(config.didDomain);
  }

  nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  nowIso(): string {
    return iso(this.nowMs());
  }
}
