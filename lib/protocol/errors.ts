/**
 * Failures of the protocol layer that are not transport or crypto failures as such: a message that
 * does not verify, a relationship in the wrong state, bad input. Each names the object it concerns
 * (message id, relationship id…) so that a caller can report it rather than drop it.
 */
export type ProtocolErrorCode =
  | 'protocol.input.invalid'
  | 'protocol.input.tooLarge'
  | 'protocol.template.invalid'
  | 'protocol.template.expired'
  | 'protocol.template.notForYou'
  | 'protocol.template.passwordRequired'
  | 'protocol.relationship.notFound'
  | 'protocol.relationship.notActive'
  | 'protocol.relationship.invalid'
  | 'protocol.relationship.wrongState'
  | 'protocol.message.undecryptable'
  | 'protocol.message.signatureInvalid'
  | 'protocol.message.notForYou'
  | 'protocol.message.invalid'
  | 'protocol.file.undecryptable'
  | 'protocol.file.hashMismatch'
  | 'protocol.file.invalid'
  | 'protocol.token.invalid'
  | 'protocol.reference.invalid';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** Id of the object concerned (MSG…, REL…, FIL…, RLT…, TOK…), when there is one. */
  readonly objectId?: string;
  readonly cause?: unknown;

  constructor(code: ProtocolErrorCode, message: string, objectId?: string, cause?: unknown) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.objectId = objectId;
    this.cause = cause;
  }
}

/**
 * Runs a Platform call; its "not found" becomes a ProtocolError that says what may be wrong
 * (everything else passes through unchanged).
 */
export async function orNotFound<T>(call: Promise<T>, code: ProtocolErrorCode, message: string, objectId: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if ((error as { code?: unknown })?.code === 'error.platform.recordNotFound') throw new ProtocolError(code, message, objectId, error);
    throw error;
  }
}

export function isProtocolError(error: unknown, code?: ProtocolErrorCode): error is ProtocolError {
  return error instanceof ProtocolError && (code === undefined || error.code === code);
}
