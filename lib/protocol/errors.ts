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
  | 'protocol.message.replayed'
  | 'protocol.message.inboxFull'
  | 'protocol.send.inProgress'
  | 'protocol.file.undecryptable'
  | 'protocol.file.hashMismatch'
  | 'protocol.file.signatureInvalid'
  | 'protocol.file.invalid'
  | 'protocol.token.invalid'
  | 'protocol.identity.notToBeDeleted'
  | 'protocol.request.notFound'
  | 'protocol.request.cannotAnswer'
  | 'protocol.request.alreadyAnswered'
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
 * Runs a Backbone read by id. Its two answers about something else than the record asked for
 * become ProtocolErrors naming the id: "not found" (`notFound`, with `message`), and a record with
 * another id, which the client refuses (`invalid`). Everything else passes through unchanged.
 */
export async function readById<T>(
  call: Promise<T>,
  objectId: string,
  codes: { notFound: ProtocolErrorCode; invalid: ProtocolErrorCode },
  message: string,
): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === 'error.platform.recordNotFound') throw new ProtocolError(codes.notFound, message, objectId, error);
    if (code === 'error.client.wrongRecord') throw new ProtocolError(codes.invalid, (error as Error).message, objectId, error);
    throw error;
  }
}

export function isProtocolError(error: unknown, code?: ProtocolErrorCode): error is ProtocolError {
  return error instanceof ProtocolError && (code === undefined || error.code === code);
}
