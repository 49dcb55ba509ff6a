import {
  HashAlgorithm,
  cipherToJson,
  cryptoReady,
  decrypt,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  encrypt,
  encryptWithCounter,
  exchangeKeypairToJson,
  exchangePublicKeyToJson,
  exchangeSecretsToJson,
  generateExchangeKeypair,
  generateSignatureKeypair,
  hashPassword,
  nonceForCounter,
  parseCipher,
  parseExchangeKeypair,
  parseExchangePublicKey,
  parseSecretKey,
  parseSignature,
  parseSignatureKeypair,
  parseSignaturePrivateKey,
  parseSignaturePublicKey,
  secretKeyToJson,
  serialize,
  sha256,
  sha512,
  sign,
  signatureKeypairToJson,
  signaturePrivateKeyToJson,
  signaturePublicKeyToJson,
  signatureToJson,
  toBase64,
  toBase64Padded,
  verify,
} from '../../../lib/crypto';
import { hex, loadVectors, type Vector } from '../../helpers/vectors';

const v = loadVectors('primitives');

beforeAll(async () => {
  await cryptoReady();
});

describe('primitives.json', () => {
  test('Ed25519 key pair from seed: bytes, JSON (verbose/compact) and toBase64 are identical', () => {
    const kp = generateSignatureKeypair(hex(v.signatureKeypair.seed_hex));
    expect(Buffer.from(kp.prv.prv).toString('hex')).toBe(v.signatureKeypair.privateKey_hex);
    expect(Buffer.from(kp.pub.pub).toString('hex')).toBe(v.signatureKeypair.publicKey_hex);
    expect(serialize(signatureKeypairToJson(kp))).toBe(v.signatureKeypair.keypair_json);
    expect(toBase64(signatureKeypairToJson(kp))).toBe(v.signatureKeypair.keypair_toBase64);
    expect(serialize(signaturePublicKeyToJson(kp.pub))).toBe(v.signatureKeypair.publicKey_json);
    expect(serialize(signaturePublicKeyToJson(kp.pub, false))).toBe(v.signatureKeypair.publicKey_json_compact);
    expect(toBase64(signaturePublicKeyToJson(kp.pub))).toBe(v.signatureKeypair.publicKey_toBase64);
    expect(serialize(signaturePrivateKeyToJson(kp.prv))).toBe(v.signatureKeypair.privateKey_json);
    // and back: every form parses to the same bytes
    const parsed = parseSignatureKeypair(v.signatureKeypair.keypair_toBase64);
    expect(Buffer.from(parsed.prv.prv).toString('hex')).toBe(v.signatureKeypair.privateKey_hex);
    expect(serialize(signaturePublicKeyToJson(parseSignaturePublicKey(v.signatureKeypair.publicKey_toBase64)))).toBe(
      v.signatureKeypair.publicKey_json,
    );
    expect(serialize(signaturePrivateKeyToJson(parseSignaturePrivateKey(v.signatureKeypair.privateKey_json)))).toBe(
      v.signatureKeypair.privateKey_json,
    );
  });

  test.each<Vector>(v.exchangeKeypairs)('X25519 key pair $role', (e) => {
    const kp = generateExchangeKeypair(hex(e.privateKey_hex));
    expect(Buffer.from(kp.pub.pub).toString('hex')).toBe(e.publicKey_hex);
    expect(serialize(exchangeKeypairToJson(kp))).toBe(e.keypair_json);
    expect(serialize(exchangePublicKeyToJson(kp.pub))).toBe(e.publicKey_json);
    expect(toBase64(exchangePublicKeyToJson(kp.pub))).toBe(e.publicKey_toBase64);
    expect(serialize(exchangeKeypairToJson(parseExchangeKeypair(e.keypair_json)))).toBe(e.keypair_json);
    expect(serialize(exchangePublicKeyToJson(parseExchangePublicKey(e.publicKey_toBase64)))).toBe(e.publicKey_json);
  });

  test('secret key JSON and toBase64', () => {
    const key = parseSecretKey(v.secretKey.toBase64);
    expect(Buffer.from(key.key).toString('hex')).toBe(v.secretKey.key_hex);
    expect(serialize(secretKeyToJson(key))).toBe(v.secretKey.json);
    expect(serialize(secretKeyToJson(key, false))).toBe(v.secretKey.json_compact);
    expect(toBase64(secretKeyToJson(key))).toBe(v.secretKey.toBase64);
  });

  test.each<Vector>(v.encryptRandomNonce)(
    'random-nonce encryption $plaintext_utf8 reproduces ciphertext and JSON, and decrypts',
    (e) => {
      const cipher = encrypt(Buffer.from(e.plaintext_utf8, 'utf8'), hex(e.key_hex), hex(e.nonce_hex));
      expect(Buffer.from(cipher.cph).toString('hex')).toBe(e.ciphertext_hex);
      expect(serialize(cipherToJson(cipher))).toBe(e.cipher_json);
      expect(serialize(cipherToJson(cipher, false))).toBe(e.cipher_json_compact);
      expect(toBase64(cipherToJson(cipher))).toBe(e.cipher_toBase64);
      expect(decrypt(parseCipher(e.cipher_toBase64), hex(e.key_hex)).toString('utf8')).toBe(e.plaintext_utf8);
    },
  );

  test.each<Vector>(v.encryptCounter)('counter-mode encryption with counter $counter', (e) => {
    expect(nonceForCounter(hex(e.baseNonce_hex), e.counter).toString('hex')).toBe(e.effectiveNonce_hex);
    const cipher = encryptWithCounter(Buffer.from(e.plaintext_utf8, 'utf8'), hex(e.key_hex), hex(e.baseNonce_hex), e.counter);
    expect(Buffer.from(cipher.cph).toString('hex')).toBe(e.ciphertext_hex);
    expect(serialize(cipherToJson(cipher))).toBe(e.cipher_json);
    expect(toBase64(cipherToJson(cipher))).toBe(e.cipher_toBase64);
    expect(decrypt(parseCipher(e.cipher_toBase64), hex(e.key_hex), hex(e.baseNonce_hex)).toString('utf8')).toBe(e.plaintext_utf8);
  });

  test.each<Vector>(v.signatures)(
    'Ed25519 signature over $data_utf8 (label $algLabel)',
    (e) => {
      const prv = { prv: hex(e.privateKey_hex), alg: 3 };
      const sig = sign(Buffer.from(e.data_utf8, 'utf8'), prv, e.algLabel as HashAlgorithm);
      expect(Buffer.from(sig.sig).toString('hex')).toBe(e.signature_hex);
      expect(serialize(signatureToJson(sig))).toBe(e.signature_json);
      expect(serialize(signatureToJson(sig, false))).toBe(e.signature_json_compact);
      expect(toBase64(signatureToJson(sig))).toBe(e.signature_toBase64);
      const pub = { pub: hex(e.publicKey_hex), alg: 3 };
      expect(verify(Buffer.from(e.data_utf8, 'utf8'), parseSignature(e.signature_toBase64), pub)).toBe(true);
      expect(verify(Buffer.from(e.data_utf8 + '!', 'utf8'), parseSignature(e.signature_json), pub)).toBe(false);
    },
  );

  test.each<Vector>(v.kdf)('KDF $context / $subkeyId', (e) => {
    const key = deriveKey(hex(e.baseKey_hex), e.subkeyId, e.context);
    expect(Buffer.from(key.key).toString('hex')).toBe(e.subkey_hex);
    expect(serialize(secretKeyToJson(key))).toBe(e.subkey_json);
  });

  test('crypto_kx roles: requestor = server, templator = client', () => {
    const [a, b] = v.exchangeKeypairs.map((e: { privateKey_hex: string }) => generateExchangeKeypair(hex(e.privateKey_hex)));
    const requestor = deriveRequestor(b, a.pub);
    const templator = deriveTemplator(a, b.pub);
    expect(serialize(exchangeSecretsToJson(requestor))).toBe(v.kx.deriveRequestor_B_with_A_pub.json);
    expect(serialize(exchangeSecretsToJson(templator))).toBe(v.kx.deriveTemplator_A_with_B_pub.json);
    expect(Buffer.from(requestor.rx).toString('hex')).toBe(v.kx.deriveRequestor_B_with_A_pub.rx_hex);
    expect(Buffer.from(templator.tx).toString('hex')).toBe(v.kx.deriveTemplator_A_with_B_pub.tx_hex);
  });

  test('SHA-256 and SHA-512', () => {
    expect(sha256(v.hashes.input_utf8).toString('hex')).toBe(v.hashes.sha256_hex);
    expect(sha512(Buffer.from(v.hashes.input_utf8)).toString('hex')).toBe(v.hashes.sha512_hex);
    expect(sha512(v.hashes.input_utf8).toString('hex')).toBe(v.hashes.library_sha512_hex);
  });

  test('Argon2id password hash', () => {
    const out = hashPassword(v.passwordHash.password_utf8, hex(v.passwordHash.salt_hex));
    expect(out.toString('hex')).toBe(v.passwordHash.output_hex);
    expect(toBase64Padded(out)).toBe(v.passwordHash.output_base64);
  });

  test('enum numbers', () => {
    expect(v.enums.encryptionAlgorithm.XCHACHA20_POLY1305).toBe(3);
    expect(v.enums.stateType).toEqual({ Receive: 1, Transmit: 2 });
  });
});
