import { CryptoError } from './errors';

/**
 * Binary <-> text at the edges only. enmeshed uses base64url WITHOUT padding for every binary
 * field and for "toBase64" envelopes; the reference parser rejects padding and the `+/` alphabet,
 * so we do too. Node's own base64url decoder is lenient (it skips invalid characters and accepts
 * both alphabets), hence the explicit alphabet check before decoding.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** View a Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toBase64Url(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url');
}

export function fromBase64Url(text: string, what = 'value'): Buffer {
  if (typeof text !== 'string') {
    throw new CryptoError('crypto.encoding.invalidBase64', `${what} must be a base64url string`);
  }
  // Length 1 mod 4 cannot come from any byte sequence.
  if (text.length % 4 === 1 || !BASE64URL.test(text)) {
    throw new CryptoError('crypto.encoding.invalidBase64', `${what} is not base64url without padding`);
  }
  if (!canonicalEnd(text)) {
    throw new CryptoError('crypto.encoding.invalidBase64', `${what} is not canonical base64url (unused bits are set)`);
  }
  return Buffer.from(text, 'base64url');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * In a final group of 2 or 3 characters the last character carries unused bits, which must be zero
 * (libsodium, and so the reference client, rejects them otherwise).
 */
export function canonicalEnd(text: string): boolean {
  const rest = text.length % 4;
  if (rest < 2) return true;
  const value = ALPHABET.indexOf(text[text.length - 1]);
  return (value & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Standard base64 with padding: used only for password hashes and the salt inside references. */
export function toBase64Padded(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64');
}

export function fromBase64Padded(text: string, what = 'value'): Buffer {
  if (typeof text !== 'string' || !BASE64_PADDED.test(text)) {
    throw new CryptoError('crypto.encoding.invalidBase64', `${what} is not standard padded base64`);
  }
  return Buffer.from(text, 'base64');
}

export function toHex(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('hex');
}

export function fromHex(text: string, what = 'value'): Buffer {
  if (typeof text !== 'string' || !HEX.test(text)) {
    throw new CryptoError('crypto.encoding.invalidHex', `${what} is not hex`);
  }
  return Buffer.from(text, 'hex');
}

export function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export function fromUtf8(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

/** base64url(UTF-8(JSON)): the "toBase64" form of every enmeshed object. */
export function jsonToBase64Url(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** Inverse of jsonToBase64Url; returns the parsed JSON value. */
export function base64UrlToJson(text: string, what = 'value'): unknown {
  const bytes = fromBase64Url(text, what);
  return parseJson(bytes.toString('utf8'), what);
}

export function parseJson(text: string, what = 'value'): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CryptoError('crypto.encoding.invalidJson', `${what} is not valid JSON`);
  }
}

/** Constant-time comparison of two byte arrays of equal length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
