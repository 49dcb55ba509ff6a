/**
 * Every failure of a Platform call is a PlatformError. It carries the Backbone's error code when
 * there is one (`error.platform.…`), the HTTP status, and the call as METHOD + path WITHOUT the
 * query string (a template or token password travels in the query). It never carries request
 * bodies, headers or tokens, so it is safe to log and to show in n8n.
 */
export type PlatformErrorKind =
  /** The Backbone answered with an error envelope (or a bare status). */
  | 'backbone'
  /** Login failed: wrong client id/secret, username/password, or a locked device. */
  | 'authentication'
  /** No answer: connection refused or reset, DNS failure, TLS problem. */
  | 'network'
  /** The request took longer than the configured timeout. */
  | 'timeout'
  /** A 2xx answer that is not what the API promises (no `result`, not JSON). */
  | 'malformedResponse';

export interface PlatformErrorDetails {
  kind: PlatformErrorKind;
  code: string;
  message: string;
  status?: number;
  method?: string;
  path?: string;
  /** `data` of the error envelope, e.g. the quota entries of a 429. */
  data?: unknown;
  /** For quotaExhausted: when the quota frees up again. */
  exhaustedUntil?: Date;
  /**
   * A call that is not safe to repeat (a send, an upload…) failed after it may have reached the
   * Platform (connection lost, timeout, 5xx): it may have been carried out, and was not repeated.
   */
  outcomeUnknown?: boolean;
}

export class PlatformError extends Error {
  readonly kind: PlatformErrorKind;
  readonly code: string;
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  readonly data?: unknown;
  readonly exhaustedUntil?: Date;
  readonly outcomeUnknown?: boolean;

  constructor(details: PlatformErrorDetails) {
    super(details.message);
    this.name = 'PlatformError';
    this.kind = details.kind;
    this.code = details.code;
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.data = details.data;
    this.exhaustedUntil = details.exhaustedUntil;
    if (details.outcomeUnknown) this.outcomeUnknown = true;
  }

  /** "POST /api/v2/Messages" for messages and logs. */
  get call(): string {
    return this.method && this.path ? `${this.method} ${this.path}` : '';
  }
}

export function isPlatformError(error: unknown, code?: string): error is PlatformError {
  return error instanceof PlatformError && (code === undefined || error.code === code);
}

/** Error codes this package reacts to: the Backbone's, and the client's own `error.client.…`. */
export const PlatformCodes = {
  recordNotFound: 'error.platform.recordNotFound',
  unauthorized: 'error.platform.unauthorized',
  forbidden: 'error.platform.forbidden',
  quotaExhausted: 'error.platform.quotaExhausted',
  invalidPropertyValue: 'error.platform.validation.invalidPropertyValue',
  inputCannotBeParsed: 'error.platform.inputCannotBeParsed',
  requestBodyTooLarge: 'error.platform.requestBodyTooLarge',
  datawalletNotUpToDate: 'error.platform.validation.datawallet.datawalletNotUpToDate',
  pushDuringSyncRun: 'error.platform.validation.datawallet.cannotPushDatawalletModificationsDuringActiveSyncRun',
  syncRunRunning: 'error.platform.validation.syncRun.cannotStartSyncRunWhenAnotherSyncRunIsRunning',
  maxUnreceivedMessages: 'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached',
  noRelationshipToRecipient: 'error.platform.validation.message.noRelationshipToRecipientExists',
  relationshipToRecipientNotActive: 'error.platform.validation.message.relationshipToRecipientNotActive',
  templateAllocationsExhausted: 'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted',
  /** A record fetched by id came back with another id (see validate.ts). */
  wrongRecord: 'error.client.wrongRecord',
  /** An object of our datawallet does not decrypt, names another place, or is of a kind we never write (lib/state). */
  datawalletEntryInvalid: 'error.client.datawalletEntryInvalid',
} as const;
