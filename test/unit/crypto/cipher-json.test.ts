import { createCipheriv, randomBytes } from 'node:crypto';
import * as c from '../../../lib/crypto';
import { release } from '../../../lib/crypto/xchacha';
import { loadVectors } from '../../helpers/vectors';

beforeAll(async () => {
  await c.cryptoReady();
});

const CHUNK = 3 * 128 * 1024;

describe('file blob (verbose CryptoCipher JSON bytes)', () => {
  test('reproduces the upload blob of file.json and decrypts it', () => {
    const v = loadVectors('file');
    const key = c.parseSecretKey(v.contentKey_json);
    const nonce = c.parseCipher(v.uploadBlob_utf8).nnc!;
    const plaintext = Buffer.from(v.plaintext_hex, 'hex');
    expect(c.encryptToCipherJson(plaintext, key, nonce).toString('utf8')).toBe(v.uploadBlob_utf8);
    expect(c.decryptCipherJson(Buffer.from(v.uploadBlob_utf8), key).equals(plaintext)).toBe(true);
  });

  test.each([0, 1, 2, 3, 14, 15, 16, 17, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 2, 3 * CHUNK + 5])(
    'length %i: same bytes as JSON.stringify of the cipher, and round-trips',
    (length) => {
      const key = c.generateSecretKey();
      const nonce = c.generateNonce();
      const plaintext = randomBytes(length);
      const blob = c.encryptToCipherJson(plaintext, key, nonce);
      expect(blob.toString('utf8')).toBe(c.serialize(c.cipherToJson(c.encrypt(plaintext, key, nonce))));
      expect(c.decryptCipherJson(blob, key).equals(plaintext)).toBe(true);
    },
  );

  test.each([0, 1, 2, 17, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])('writer (length %i): the same bytes in pieces of any size, and the announced length', (length) => {
    const key = c.generateSecretKey();
    const nonce = c.generateNonce();
    const plaintext = randomBytes(length);
    const whole = c.encryptToCipherJson(plaintext, key, nonce);
    expect(c.cipherJsonLength(length)).toBe(whole.length);
    // every piece size on small blobs; on large ones, sizes that still cut base64 groups and text pieces anywhere
    for (const size of length < 1000 ? [1, 2, 3, 7, 64, whole.length + 10] : [4093, 65536, whole.length + 10]) {
      const writer = new c.CipherJsonWriter(plaintext, key, nonce);
      expect(writer.length).toBe(whole.length);
      const target = Buffer.alloc(size);
      const pieces: Buffer[] = [];
      for (let n = writer.read(target); n > 0; n = writer.read(target)) pieces.push(Buffer.from(target.subarray(0, n)));
      expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    }
  });

  /** Feeds `blob` to a CipherJsonReader in pieces of the given sizes (cycled). */
  const streamed = (blob: Buffer, key: c.SecretKey, sizes: number[], hint?: number): Buffer => {
    const reader = new c.CipherJsonReader('file', hint);
    for (let at = 0, i = 0; at < blob.length; i++) {
      const n = sizes[i % sizes.length];
      reader.write(blob.subarray(at, at + n));
      at += n;
    }
    return reader.finish(key);
  };

  test.each([0, 1, 17, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 5])('streamed in pieces (length %i): every split of the base64 groups decodes', (length) => {
    const key = c.generateSecretKey();
    const plaintext = randomBytes(length);
    const blob = c.encryptToCipherJson(plaintext, key);
    const copy = Buffer.from(blob);
    // every piece size 1–5 on small blobs; on large ones pieces that still split groups everywhere
    const splits = length < 1000 ? [[1], [2], [3], [5], [7, 1, 4]] : [[4093, 1, 2, 3], [65536], [1000, 4093]];
    for (const sizes of splits) {
      expect(streamed(blob, key, sizes).equals(plaintext)).toBe(true);
    }
    // a size hint that is too small or too large only changes the first allocation
    expect(streamed(blob, key, [4096], 10).equals(plaintext)).toBe(true);
    expect(streamed(blob, key, [4096], blob.length * 3).equals(plaintext)).toBe(true);
    expect(blob.equals(copy)).toBe(true); // the blob itself is never written
  });

  test('streamed: the plaintext is decrypted in the buffer the ciphertext was decoded into', () => {
    const key = c.generateSecretKey();
    const plaintext = randomBytes(CHUNK * 3 + 11);
    const blob = c.encryptToCipherJson(plaintext, key);
    const reader = new c.CipherJsonReader('file', blob.length);
    reader.write(blob);
    const decoded = (reader as unknown as { out: Buffer }).out;
    const out = reader.finish(key);
    expect(out.equals(plaintext)).toBe(true);
    expect(out.buffer).toBe(decoded.buffer); // a view of it, no second file-sized buffer
    expect(decoded.length).toBeLessThan(blob.length * 0.76);
  });

  test('streamed: a tampered blob yields an error and no plaintext is left in the buffer', () => {
    const key = c.generateSecretKey();
    const plaintext = Buffer.alloc(CHUNK * 2 + 7, 0x41);
    const blob = c.encryptToCipherJson(plaintext, key);
    const end = blob.lastIndexOf('","alg"');
    blob[end - 3] = blob[end - 3] === 0x41 ? 0x42 : 0x41; // inside the tag's base64
    const reader = new c.CipherJsonReader('file');
    reader.write(blob);
    const { out: decoded, written } = reader as unknown as { out: Buffer; written: number };
    expect(written).toBe(plaintext.length + 16);
    expect(() => reader.finish(key)).toThrow(c.CryptoError);
    // Every byte the reader wrote is zero. (Beyond them the buffer is allocUnsafe memory the reader
    // never touched: it may hold anything the process freed, e.g. another test's plaintext.)
    expect(decoded.subarray(0, written).equals(Buffer.alloc(written))).toBe(true);
    expect(() => reader.finish(key)).toThrow(c.CryptoError); // and stays failed
    // after reset() the same reader reads a good blob
    reader.reset();
    reader.write(c.encryptToCipherJson(plaintext, key));
    expect(reader.finish(key).equals(plaintext)).toBe(true);
  });

  test('accepts any key order and white space, as the reference parser does', () => {
    const key = c.generateSecretKey();
    const plaintext = randomBytes(1000);
    const json = c.cipherToJson(c.encrypt(plaintext, key));
    const reordered = ` {\n "@type" : "CryptoCipher", "nnc":"${json.nnc}" ,\t"alg": 3, "cph": "${json.cph}"\n} `;
    expect(c.decryptCipherJson(Buffer.from(reordered), key).equals(plaintext)).toBe(true);
  });

  test('tampering and malformed blobs give typed errors', () => {
    const key = c.generateSecretKey();
    const plaintext = randomBytes(CHUNK + 100);
    const blob = c.encryptToCipherJson(plaintext, key);
    const text = blob.toString('latin1');
    const code = (input: string | Buffer, k: c.SecretKey = key): string => {
      const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
      const codes = [() => c.decryptCipherJson(bytes, k), () => streamed(bytes, k, [4093, 1, 2, 3])].map((decrypt) => {
        try {
          decrypt();
        } catch (error) {
          expect(error).toBeInstanceOf(c.CryptoError);
          return (error as c.CryptoError).code;
        }
        return 'no error';
      });
      expect(codes[1]).toBe(codes[0]); // in one piece or in many: the same verdict
      return codes[0];
    };
    const at = (i: number, ch: string): string => text.slice(0, i) + ch + text.slice(i + 1);
    const cphStart = text.indexOf('"cph":"') + 7;
    const cphEnd = text.indexOf('"', cphStart);
    // one changed character anywhere in the ciphertext, including the tag at the end
    for (const i of [cphStart, cphStart + 1000, cphStart + 500000, cphEnd - 30, cphEnd - 2]) {
      const ch = text[i] === 'A' ? 'B' : 'A';
      expect(code(at(i, ch))).toBe('crypto.cipher.decryptionFailed');
    }
    // the last character of the tag: any change either alters the tag or sets unused bits
    for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
      if (ch !== text[cphEnd - 1]) expect(code(at(cphEnd - 1, ch))).toMatch(/decryptionFailed|invalidBase64/);
    }
    expect(code(at(cphStart + 5, '+'))).toBe('crypto.encoding.invalidBase64');
    expect(code(at(cphStart + 5, '!'))).toBe('crypto.encoding.invalidBase64');
    expect(code(at(cphEnd - 3, '!'))).toBe('crypto.encoding.invalidBase64');
    expect(code(text.slice(0, cphEnd) + '=' + text.slice(cphEnd))).toBe('crypto.encoding.invalidBase64');
    expect(code(text.slice(0, cphEnd - 1) + text.slice(cphEnd))).toMatch(/invalidBase64|decryptionFailed/);
    expect(code(text.slice(0, text.length - 10))).toBe('crypto.encoding.invalidJson');
    expect(code('not json at all')).toBe('crypto.encoding.invalidJson');
    expect(code(text.replace('"alg":3', '"alg":2'))).toBe('crypto.object.unsupportedAlgorithm');
    expect(code(text.replace(/"nnc":"[^"]*"/, '"nnc":"AAAA"'))).toBe('crypto.key.invalidLength');
    expect(code(text.replace(/"nnc":"[^"]*",?/, ''))).toBe('crypto.cipher.nonceOrCounter');
    expect(code(text, c.generateSecretKey())).toBe('crypto.cipher.decryptionFailed');
    expect(code(text.replace('"alg":3', '"alg":3,"alg":3'))).toBe('crypto.encoding.invalidJson');
    expect(code(text.replace('"alg":3', '"alg":{"x":3}'))).toBe('crypto.encoding.invalidJson');
    expect(code(text.replace('"alg":3', '"alg":"\\u0033"'))).toBe('crypto.encoding.invalidJson');
    expect(code(text + ' x')).toBe('crypto.encoding.invalidJson');
    expect(code(text.replace(/"cph":"[^"]*"/, '"cph":7'))).toBe('crypto.object.invalid');
    expect(code(text.replace(/"cph":"[^"]*",?/, ''))).toBe('crypto.object.invalid');
    expect(code(text.replace(/"cph":"[^"]*"/, '"cph":"AAAA"'))).toBe('crypto.encoding.invalidBase64');
    expect(code(text.replace(/"nnc":"[^"]*"/, '"cnt":1'))).toBe('crypto.cipher.nonceOrCounter');
    expect(code(text.replace(/"nnc":"[^"]*"/, '"nnc":5'))).toBe('crypto.object.invalid');
    expect(code('{}')).toBe('crypto.encoding.invalidJson');
    expect(code('')).toBe('crypto.encoding.invalidJson');
  });
});

describe('release (handing node:crypto outputs back at once)', () => {
  test('frees a buffer that owns its memory, leaves shared memory alone', () => {
    const cipher = createCipheriv('chacha20-poly1305', randomBytes(32), randomBytes(12), { authTagLength: 16 });
    const output = cipher.update(randomBytes(100_000));
    const memory = output.buffer;
    release(output);
    expect(memory.byteLength).toBe(0); // detached: its memory is gone

    const pooled = Buffer.from('a small pooled buffer'); // a slice of Buffer's shared pool
    const view = Buffer.from(randomBytes(1000)).subarray(10); // a view into a larger buffer
    release(pooled);
    release(view);
    expect(pooled.toString()).toBe('a small pooled buffer');
    expect(view.length).toBe(990);
  });
});
