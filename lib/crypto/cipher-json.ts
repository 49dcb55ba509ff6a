import { EncryptionAlgorithm, NONCE_BYTES } from './algorithms';
import { asBuffer, canonicalEnd, fromBase64Url, toBase64Url } from './encoding';
import { CryptoError } from './errors';
import { randomBytes } from './random';
import { decrypt, encrypt } from './aead';
import { nodeChaChaAvailable, openStream, sealStream } from './xchacha';
import { parseCipher, type SecretKey } from './wire';

/**
 * The file upload blob is the UTF-8 text of a verbose CryptoCipher JSON:
 *   {"cph":"<base64url(ciphertext||tag)>","alg":3,"nnc":"<base64url(nonce)>","@type":"CryptoCipher"}
 * For a 7 MiB file a naive JSON.stringify/JSON.parse round trip costs more than the encryption
 * itself and holds several copies at once. Here the blob is written directly: the plaintext is
 * encrypted in chunks (multiples of 3 bytes, so base64 groups never straddle chunks) and each
 * encoded chunk goes straight into one pre-sized buffer. Reading scans the object's top-level
 * fields on the bytes and decodes `cph` chunk by chunk into one pre-sized plaintext buffer, which is
 * released to the caller only after the tag verified. Peak extra memory: the output buffer plus
 * one chunk.
 */

const CHUNK = 3 * 16 * 1024; // plaintext bytes per step: a multiple of 3 keeps base64 groups whole,
// and small steps keep the short-lived garbage in V8's young generation (measured: 2x less peak RSS than 384 KiB)
const B64_CHUNK = (CHUNK / 3) * 4;
const TAG = 16;

function base64UrlLength(bytes: number): number {
  const rest = bytes % 3;
  return Math.floor(bytes / 3) * 4 + (rest === 0 ? 0 : rest + 1);
}

/** UTF-8 bytes of the verbose CryptoCipher JSON of `plaintext` encrypted with a random nonce. */
export function encryptToCipherJson(plaintext: Uint8Array, key: SecretKey, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Buffer {
  if (key.alg !== EncryptionAlgorithm.XCHACHA20_POLY1305 || key.key.length !== 32 || nonce.length !== NONCE_BYTES) {
    throw new CryptoError('crypto.object.invalid', 'an XChaCha20-Poly1305 key of 32 bytes and a 24-byte nonce are needed');
  }
  const prefix = '{"cph":"';
  const suffix = `","alg":3,"nnc":"${toBase64Url(nonce)}","@type":"CryptoCipher"}`;
  const out = Buffer.allocUnsafe(prefix.length + base64UrlLength(plaintext.length + TAG) + suffix.length);
  let pos = out.write(prefix, 0, 'latin1');

  if (!nodeChaChaAvailable) {
    // Fallback: one shot through libsodium (same bytes, more memory).
    pos += out.write(asBuffer(encrypt(plaintext, key, nonce).cph).toString('base64url'), pos, 'latin1');
  } else {
    const stream = sealStream(key.key, nonce);
    let carry: Buffer = Buffer.alloc(0);
    const emit = (bytes: Buffer, last: boolean): void => {
      const data = carry.length ? Buffer.concat([carry, bytes]) : bytes;
      const usable = last ? data.length : data.length - (data.length % 3);
      pos += out.write(data.subarray(0, usable).toString('base64url'), pos, 'latin1');
      carry = data.subarray(usable);
    };
    for (let offset = 0; offset < plaintext.length; offset += CHUNK) {
      emit(stream.update(plaintext.subarray(offset, offset + CHUNK)), false);
    }
    emit(stream.finish(), true);
  }
  pos += out.write(suffix, pos, 'latin1');
  return pos === out.length ? out : out.subarray(0, pos);
}

interface StringRange {
  start: number;
  end: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Top-level fields of a flat JSON object, read on the bytes: string values as byte ranges (their
 * content is not copied), other values parsed. Anything that is not a flat object of strings,
 * numbers, booleans or null is rejected.
 */
function scanFlatObject(b: Buffer, what: string): Map<string, StringRange | unknown> {
  const bad = (why: string): CryptoError => new CryptoError('crypto.encoding.invalidJson', `${what} is not a valid cipher JSON: ${why}`);
  const fields = new Map<string, StringRange | unknown>();
  let i = 0;
  const skip = (): void => {
    while (i < b.length && WS.has(b[i])) i++;
  };
  const readString = (): StringRange => {
    if (b[i] !== 0x22) throw bad('expected a string');
    const start = i + 1;
    const end = b.indexOf(0x22, start);
    if (end < 0) throw bad('unterminated string');
    // Escapes never occur in the fields we read (base64url, numbers, type names); refuse them
    // rather than mis-reading a string.
    const slash = b.indexOf(0x5c, start);
    if (slash >= 0 && slash < end) throw bad('escaped characters are not expected in a cipher');
    i = end + 1;
    return { start, end };
  };
  skip();
  if (b[i++] !== 0x7b) throw bad('expected an object');
  skip();
  if (b[i] === 0x7d) throw bad('empty object');
  for (;;) {
    skip();
    const keyRange = readString();
    const key = b.toString('latin1', keyRange.start, keyRange.end);
    skip();
    if (b[i++] !== 0x3a) throw bad('expected ":"');
    skip();
    let value: StringRange | unknown;
    if (b[i] === 0x22) {
      value = readString();
    } else {
      const start = i;
      while (i < b.length && b[i] !== 0x2c && b[i] !== 0x7d && !WS.has(b[i])) i++;
      const text = b.toString('latin1', start, i);
      if (!/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(text)) throw bad(`unexpected value for "${key}"`);
      value = JSON.parse(text) as unknown;
    }
    if (fields.has(key)) throw bad(`duplicate field "${key}"`);
    fields.set(key, value);
    skip();
    const c = b[i++];
    if (c === 0x7d) break;
    if (c !== 0x2c) throw bad('expected "," or "}"');
  }
  skip();
  if (i !== b.length) throw bad('trailing characters');
  return fields;
}

const isRange = (v: unknown): v is StringRange => typeof v === 'object' && v !== null && 'start' in v && 'end' in v;

/**
 * Decrypts the UTF-8 bytes of a CryptoCipher JSON (random-nonce mode) as produced by
 * encryptToCipherJson or by @nmshd/crypto's `serialize()`. Strict like the reference parser:
 * base64url without padding, exactly one of nonce/counter, known algorithm. With `inPlace` the
 * plaintext overwrites the blob (returned as a view of it): for a blob nobody needs afterwards.
 */
export function decryptCipherJson(blob: Uint8Array, key: SecretKey, what = 'file content', options: { inPlace?: boolean } = {}): Buffer {
  const b = asBuffer(blob);
  const fields = scanFlatObject(b, what);
  const cph = fields.get('cph');
  const nnc = fields.get('nnc');
  if (!isRange(cph) || (nnc !== undefined && !isRange(nnc))) {
    // Unusual shapes (counter mode, missing fields) go through the ordinary parser for its precise errors.
    return decrypt(parseCipher(b.toString('utf8'), what), key, undefined, what);
  }
  const header: Record<string, unknown> = { alg: fields.get('alg'), cph: 'AAAAAAAAAAAAAAAAAAAAAA' };
  if (nnc) header.nnc = b.toString('latin1', nnc.start, nnc.end);
  if (fields.has('cnt')) header.cnt = fields.get('cnt');
  parseCipher(header, what); // validates alg, nonce length, nonce/counter exclusivity
  const nonce = fromBase64Url(header.nnc as string, `${what}.nnc`);

  const length = cph.end - cph.start;
  const total = Math.floor((length * 3) / 4);
  const invalid = (): CryptoError => new CryptoError('crypto.encoding.invalidBase64', `${what}.cph is not base64url without padding`);
  if (length % 4 === 1 || total < TAG) throw invalid();
  // Node's decoder accepts "+" and "/" and skips invalid characters; the first we refuse here, the
  // second shows up as a short decode below.
  const plus = b.indexOf(0x2b, cph.start);
  const slash = b.indexOf(0x2f, cph.start);
  if ((plus >= 0 && plus < cph.end) || (slash >= 0 && slash < cph.end)) throw invalid();

  const ctLength = total - TAG;
  // The tag is in the last 16 decoded bytes; decode the tail first so decryption can stream.
  const tailChars = length - Math.max(0, Math.floor((ctLength - (ctLength % 3)) / 3) * 4);
  const tailText = b.toString('latin1', cph.end - tailChars, cph.end);
  const tailBytes = Buffer.from(tailText, 'base64url');
  if (tailBytes.length !== total - (ctLength - (ctLength % 3)) || !canonicalEnd(tailText)) throw invalid();
  const tag = tailBytes.subarray(tailBytes.length - TAG);

  if (!nodeChaChaAvailable) {
    return decrypt({ cph: Buffer.from(b.toString('latin1', cph.start, cph.end), 'base64url'), alg: 3, nnc: nonce }, key, undefined, what);
  }
  // In place: every 4 characters read become at most 3 bytes written, so the plaintext can be written
  // over the front of the blob itself without overtaking what is still to be read — one file-sized
  // buffer less at the peak (the caller gives up the blob).
  const out = options.inPlace ? b : Buffer.allocUnsafe(ctLength);
  const stream = openStream(key.key, nonce, tag);
  const scratch = Buffer.allocUnsafe(CHUNK);
  let written = 0;
  const bodyChars = length - tailChars;
  for (let offset = 0; offset < bodyChars; offset += B64_CHUNK) {
    const end = Math.min(offset + B64_CHUNK, bodyChars);
    const decoded = scratch.write(b.toString('latin1', cph.start + offset, cph.start + end), 0, 'base64url');
    if (decoded !== ((end - offset) / 4) * 3) {
      out.fill(0, 0, written);
      throw invalid();
    }
    written += stream.update(scratch.subarray(0, decoded)).copy(out, written);
  }
  written += stream.update(tailBytes.subarray(0, tailBytes.length - TAG)).copy(out, written);
  try {
    stream.finish(what);
  } catch (error) {
    out.fill(0, 0, written);
    throw error;
  }
  return written === out.length ? out : out.subarray(0, written);
}
