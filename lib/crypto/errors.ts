/**
 * Every failure of the crypto layer is a CryptoError with a stable `code`, so callers
 * (the protocol layer, the nodes) can say precisely what failed without parsing messages.
 * Messages never contain key material or plaintext.
 */
export type CryptoErrorCode =
  | 'crypto.encoding.invalidBase64'
  | 'crypto.encoding.invalidHex'
  | 'crypto.encoding.invalidJson'
  | 'crypto.object.invalid'
  | 'crypto.object.unsupportedAlgorithm'
  | 'crypto.key.invalidLength'
  | 'crypto.cipher.decryptionFailed'
  | 'crypto.cipher.nonceOrCounter'
  | 'crypto.cipher.counterOutOfRange'
  | 'crypto.signature.invalid'
  | 'crypto.kdf.invalidContext'
  | 'crypto.address.invalid'
  | 'crypto.notReady';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}
