import * as c from '../../../lib/crypto';

beforeAll(async () => {
  await c.cryptoReady();
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(c.CryptoError);
    return (error as c.CryptoError).code;
  }
  throw new Error('expected a CryptoError, but the call succeeded');
}

const flipBit = (bytes: Uint8Array, index: number, bit = 0): Buffer => {
  const copy = Buffer.from(bytes);
  copy[index] ^= 1 << bit;
  return copy;
};

describe('tampering yields a typed error, never plaintext', () => {
  const plaintext = Buffer.from('a message whose integrity matters');
  const base = c.generateNonce();
  let key: c.SecretKey;
  let cipher: c.Cipher;
  let counted: c.Cipher;
  beforeAll(() => {
    key = c.generateSecretKey();
    cipher = c.encrypt(plaintext, key);
    counted = c.encryptWithCounter(plaintext, key, base, 41);
  });

  test('every single flipped bit of ciphertext or tag is detected', () => {
    for (let i = 0; i < cipher.cph.length; i++) {
      for (const bit of [0, 7]) {
        expect(codeOf(() => c.decrypt({ ...cipher, cph: flipBit(cipher.cph, i, bit) }, key))).toBe('crypto.cipher.decryptionFailed');
      }
    }
  });

  test('a flipped bit of the nonce, the counter or the base nonce is detected', () => {
    for (let i = 0; i < 24; i++) {
      expect(codeOf(() => c.decrypt({ ...cipher, nnc: flipBit(cipher.nnc!, i) }, key))).toBe('crypto.cipher.decryptionFailed');
      expect(codeOf(() => c.decrypt(counted, key, flipBit(base, i)))).toBe('crypto.cipher.decryptionFailed');
    }
    for (let bit = 0; bit < 32; bit++) {
      const cnt = (41 ^ (1 << bit)) >>> 0;
      expect(codeOf(() => c.decrypt({ ...counted, cnt }, key, base))).toBe('crypto.cipher.decryptionFailed');
    }
    expect(c.decrypt(counted, key, base).equals(plaintext)).toBe(true);
  });

  test('a wrong key is detected; the message names the cipher', () => {
    const err = (() => {
      try {
        c.decrypt(cipher, c.generateSecretKey(), undefined, 'message body');
      } catch (e) {
        return e as c.CryptoError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('crypto.cipher.decryptionFailed');
    expect(err?.message).toContain('message body');
    expect(err?.message).not.toContain(c.toBase64Url(key.key));
  });

  test('counter mode without a base nonce, or a cipher with both/neither nonce and counter', () => {
    expect(codeOf(() => c.decrypt(counted, key))).toBe('crypto.cipher.nonceOrCounter');
    expect(codeOf(() => c.parseCipher({ cph: c.toBase64Url(cipher.cph), alg: 3 }))).toBe('crypto.cipher.nonceOrCounter');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), cnt: 1 }))).toBe('crypto.cipher.nonceOrCounter');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(counted), cnt: 2 ** 32 }))).toBe('crypto.cipher.counterOutOfRange');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(counted), cnt: -1 }))).toBe('crypto.cipher.counterOutOfRange');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(counted), cnt: 1.5 }))).toBe('crypto.cipher.counterOutOfRange');
  });

  test('every flipped bit of a signature, and of the signed content, fails verification', () => {
    const pair = c.generateSignatureKeypair();
    const content = Buffer.from('signed content');
    const signature = c.sign(content, pair.prv);
    for (let i = 0; i < 64; i++) {
      expect(c.verify(content, { ...signature, sig: flipBit(signature.sig, i) }, pair.pub)).toBe(false);
    }
    for (let i = 0; i < content.length; i++) {
      expect(c.verify(flipBit(content, i), signature, pair.pub)).toBe(false);
    }
    expect(c.verify(content, signature, c.generateSignatureKeypair().pub)).toBe(false);
    expect(codeOf(() => c.assertSignature(flipBit(content, 0), signature, pair.pub, 'the template'))).toBe('crypto.signature.invalid');
  });

  test('malformed serialized input: truncated, padded, wrong alphabet, not JSON, wrong types and lengths', () => {
    const b64 = c.toBase64(c.cipherToJson(cipher));
    expect(codeOf(() => c.parseCipher(b64.slice(0, -7)))).toMatch(/^crypto\.encoding\./);
    expect(codeOf(() => c.parseCipher(b64 + '='))).toBe('crypto.encoding.invalidBase64');
    // non-canonical: unused low bits of the last character set
    const key22 = c.toBase64Url(Buffer.alloc(16, 0xff)); // 22 chars, last one carries 4 unused bits
    expect(codeOf(() => c.fromBase64Url(key22.slice(0, -1) + 'x'))).toBe('crypto.encoding.invalidBase64');
    expect(c.fromBase64Url(key22).equals(Buffer.alloc(16, 0xff))).toBe(true);
    expect(codeOf(() => c.parseCipher(b64.replace(/-/g, '+').replace(/_/g, '/') + '+'))).toBe('crypto.encoding.invalidBase64');
    expect(codeOf(() => c.parseCipher(Buffer.from('not json').toString('base64url')))).toBe('crypto.encoding.invalidJson');
    expect(codeOf(() => c.parseCipher('{"cph":'))).toBe('crypto.encoding.invalidJson');
    expect(codeOf(() => c.parseCipher(Buffer.from('[1,2]').toString('base64url')))).toBe('crypto.object.invalid');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), cph: 42 }))).toBe('crypto.object.invalid');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), nnc: 'AAAA' }))).toBe('crypto.key.invalidLength');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), cph: 'QUJD' }))).toBe('crypto.object.invalid');
    expect(codeOf(() => c.parseSecretKey({ key: c.toBase64Url(Buffer.alloc(31)), alg: 3 }))).toBe('crypto.key.invalidLength');
    expect(codeOf(() => c.parseSignature({ sig: c.toBase64Url(Buffer.alloc(63)), alg: 2 }))).toBe('crypto.key.invalidLength');
  });

  test('unknown or unsupported algorithm numbers', () => {
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), alg: 1 }))).toBe('crypto.object.unsupportedAlgorithm');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), alg: 9 }))).toBe('crypto.object.invalid');
    expect(codeOf(() => c.parseCipher({ ...c.cipherToJson(cipher), alg: '3' }))).toBe('crypto.object.invalid');
    const pair = c.generateSignatureKeypair();
    expect(codeOf(() => c.parseSignaturePublicKey({ ...c.signaturePublicKeyToJson(pair.pub), alg: 1 }))).toBe(
      'crypto.object.unsupportedAlgorithm',
    );
    expect(codeOf(() => c.parseSignature({ ...c.signatureToJson(c.sign(Buffer.from('x'), pair.prv)), alg: 0 }))).toBe('crypto.object.invalid');
  });

  test('a key pair whose halves do not belong together is rejected', () => {
    const a = c.generateSignatureKeypair();
    const b = c.generateSignatureKeypair();
    expect(codeOf(() => c.parseSignatureKeypair({ pub: c.signaturePublicKeyToJson(b.pub, false), prv: c.signaturePrivateKeyToJson(a.prv, false) }))).toBe(
      'crypto.object.invalid',
    );
  });

  test('addresses: wrong checksum, wrong host, wrong key, garbage', () => {
    const pair = c.generateSignatureKeypair();
    const address = c.deriveAddress(pair.pub.pub, 'localhost');
    expect(c.isValidAddress(address, { hostname: 'localhost', publicKey: pair.pub.pub })).toBe(true);
    const badChecksum = address.slice(0, -1) + (address.endsWith('0') ? '1' : '0');
    expect(c.addressProblem(badChecksum)).toMatch(/checksum/);
    expect(c.addressProblem(address, { hostname: 'example.org' })).toMatch(/Platform/);
    expect(c.addressProblem(address, { publicKey: c.generateSignatureKeypair().pub.pub })).toMatch(/public key/);
    for (const garbage of ['', 'did:e:localhost:dids:xyz', 42, null, 'did:e:LOCALHOST:dids:' + '0'.repeat(22)]) {
      expect(c.isValidAddress(garbage)).toBe(false);
    }
    expect(codeOf(() => c.assertAddress('nope'))).toBe('crypto.address.invalid');
  });

  test('each address problem says what to fix', () => {
    const address = c.deriveAddress(c.generateSignatureKeypair().pub.pub, 'localhost');
    const id = address.slice('did:e:localhost:dids:'.length);
    const typo = address.slice(0, -1) + (address.endsWith('0') ? '1' : '0');
    const form = 'an enmeshed address looks like did:e:<Platform domain>:dids:<22 characters 0-9, a-f>';
    const cases: [unknown, string][] = [
      [typo, `the last two characters of "${typo}" are its checksum and do not match the rest: a typo? Copy the address again`],
      [`did:x:localhost:dids:${id}`, `"did:x:localhost:dids:${id}" does not start with "did:e:": ${form}`],
      [address.toUpperCase(), `"${address.toUpperCase()}" must be written in lower case`],
      [`did:e:localhost:${id}`, `"did:e:localhost:${id}" lacks ":dids:" after the Platform domain: ${form}`],
      [`did:e:local_host:dids:${id}`, `"did:e:local_host:dids:${id}" names the Platform domain "local_host", which is not a domain name (lower-case letters, digits, dots and hyphens)`],
      [address.slice(0, -1), `"${address.slice(0, -1)}" has 21 characters after ":dids:" instead of 22: one missing or extra? Copy the address again`],
      [`${address}0`, `"${address}0" has 23 characters after ":dids:" instead of 22: one missing or extra? Copy the address again`],
      [`did:e:localhost:dids:${id.slice(0, -2)}xz`, `"did:e:localhost:dids:${id.slice(0, -2)}xz" has characters other than 0-9 and a-f after ":dids:" ("x", "z")`],
      ['', `the address is empty: ${form}`],
      [42, 'an enmeshed address must be text, not number'],
    ];
    for (const [input, message] of cases) {
      expect(c.addressProblem(input)).toBe(message);
      expect(() => c.assertAddress(input)).toThrow(message);
    }
    expect(c.addressProblem(address, { hostname: 'backbone.example.org' })).toBe(`"${address}" is an address on the Platform "localhost", not on this Platform "backbone.example.org"`);
    expect(new Set(cases.map(([, message]) => message)).size).toBe(cases.length);
  });

  test('counter range and KDF context are enforced', () => {
    expect(codeOf(() => c.encryptWithCounter(plaintext, key, base, 2 ** 32))).toBe('crypto.cipher.counterOutOfRange');
    expect(codeOf(() => c.deriveKey(key.key, 1, 'SHORT'))).toBe('crypto.kdf.invalidContext');
  });
});
