import { randomBytes } from 'node:crypto';
import * as c from '../../../lib/crypto';
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

  test.each([0, 1, 17, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 5])('in place (length %i): the plaintext overwrites the blob and is right', (length) => {
    const key = c.generateSecretKey();
    const plaintext = randomBytes(length);
    const blob = c.encryptToCipherJson(plaintext, key);
    const copy = Buffer.from(blob);
    const out = c.decryptCipherJson(blob, key, 'file', { inPlace: true });
    expect(out.equals(plaintext)).toBe(true);
    expect(out.buffer).toBe(blob.buffer); // a view of the blob, no second file-sized buffer
    expect(c.decryptCipherJson(copy, key).equals(plaintext)).toBe(true);
  });

  test('in place: a tampered blob yields an error and no plaintext is left in it', () => {
    const key = c.generateSecretKey();
    const plaintext = Buffer.alloc(CHUNK * 2 + 7, 0x41);
    const blob = c.encryptToCipherJson(plaintext, key);
    const end = blob.lastIndexOf('","alg"');
    blob[end - 3] = blob[end - 3] === 0x41 ? 0x42 : 0x41; // inside the tag's base64
    expect(() => c.decryptCipherJson(blob, key, 'file', { inPlace: true })).toThrow(c.CryptoError);
    expect(blob.includes(Buffer.alloc(64, 0x41))).toBe(false);
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
      try {
        c.decryptCipherJson(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), k);
      } catch (error) {
        expect(error).toBeInstanceOf(c.CryptoError);
        return (error as c.CryptoError).code;
      }
      return 'no error';
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
  });
});
