/**
 * Our lib/crypto against the real @nmshd/crypto 2.1.3, both directions, on random inputs:
 * ciphers (random nonce and counter mode), signatures, KDF, kx, and the serialized forms.
 */
import * as nmshd from '@nmshd/crypto';
import { randomBytes, randomInt } from 'node:crypto';
import * as ours from '../../lib/crypto';

const N = 200;


beforeAll(async () => {
  await ours.cryptoReady();
  await nmshd.SodiumWrapper.ready();
});

const randomPlaintext = (): Buffer => randomBytes(randomInt(1, 4096));
const theirKey = (key: Uint8Array): nmshd.CryptoSecretKey =>
  nmshd.CryptoSecretKey.fromJSON({ key: ours.toBase64Url(key), alg: 3 } as never);
const buf = (b: Uint8Array): nmshd.CoreBuffer => nmshd.CoreBuffer.from(b);

describe(`interop with @nmshd/crypto 2.1.3 (${N} random inputs each)`, () => {
  test('random-nonce ciphers: ours decrypt with theirs, theirs with ours', async () => {
    for (let i = 0; i < N; i++) {
      const key = ours.generateSecretKey();
      const plaintext = randomPlaintext();
      const mine = ours.toBase64(ours.cipherToJson(ours.encrypt(plaintext, key)));
      const decrypted = await nmshd.CryptoEncryption.decrypt(nmshd.CryptoCipher.fromBase64(mine), theirKey(key.key));
      expect(Buffer.from(decrypted.buffer).equals(plaintext)).toBe(true);

      const theirs = await nmshd.CryptoEncryption.encrypt(buf(plaintext), theirKey(key.key));
      expect(ours.decrypt(ours.parseCipher(theirs.toBase64()), key).equals(plaintext)).toBe(true);
      expect(ours.decrypt(ours.parseCipher(theirs.serialize()), key).equals(plaintext)).toBe(true);
    }
  });

  test('file blobs (cipher JSON bytes): ours decrypt with theirs, theirs with ours', async () => {
    for (let i = 0; i < N; i++) {
      const key = ours.generateSecretKey();
      const plaintext = randomBytes(i < 5 ? randomInt(400_000, 1_200_000) : randomInt(1, 20_000));
      const blob = ours.encryptToCipherJson(plaintext, key);
      const theirCipher = nmshd.CryptoCipher.fromJSON(JSON.parse(blob.toString('utf8')));
      const decrypted = await nmshd.CryptoEncryption.decrypt(theirCipher, theirKey(key.key));
      expect(Buffer.from(decrypted.buffer).equals(plaintext)).toBe(true);

      const theirs = await nmshd.CryptoEncryption.encrypt(buf(plaintext), theirKey(key.key));
      expect(ours.decryptCipherJson(Buffer.from(theirs.serialize(), 'utf8'), key).equals(plaintext)).toBe(true);
    }
  });

  test('counter-mode ciphers: ours decrypt with theirs, theirs with ours', async () => {
    for (let i = 0; i < N; i++) {
      const key = ours.generateSecretKey();
      const base = ours.generateNonce();
      const counter = randomInt(0, 2 ** 32 - 1);
      const plaintext = randomPlaintext();
      const mine = ours.toBase64(ours.cipherToJson(ours.encryptWithCounter(plaintext, key, base, counter)));
      const theirCipher = nmshd.CryptoCipher.fromBase64(mine);
      expect(theirCipher.counter).toBe(counter);
      const decrypted = await nmshd.CryptoEncryption.decryptWithCounter(theirCipher, theirKey(key.key), buf(base), counter);
      expect(Buffer.from(decrypted.buffer).equals(plaintext)).toBe(true);

      const theirs = await nmshd.CryptoEncryption.encryptWithCounter(buf(plaintext), theirKey(key.key), buf(base), counter);
      const parsed = ours.parseCipher(theirs.toBase64());
      expect(parsed.cnt).toBe(counter);
      expect(ours.decrypt(parsed, key, base).equals(plaintext)).toBe(true);
      // same inputs, same bytes: the counter-to-nonce rule is identical
      expect(ours.toBase64(ours.cipherToJson(parsed))).toBe(mine);
    }
  });

  test('Ed25519 signatures verify both ways; key pairs parse both ways', async () => {
    for (let i = 0; i < N; i++) {
      const content = randomPlaintext();
      const label = i % 2 === 0 ? ours.HashAlgorithm.SHA512 : ours.HashAlgorithm.SHA256;

      const myPair = ours.generateSignatureKeypair();
      const theirCopy = nmshd.CryptoSignatureKeypair.fromBase64(ours.toBase64(ours.signatureKeypairToJson(myPair)));
      expect(theirCopy.toBase64()).toBe(ours.toBase64(ours.signatureKeypairToJson(myPair)));
      const mySig = ours.sign(content, myPair.prv, label);
      const theirSigView = nmshd.CryptoSignature.fromBase64(ours.toBase64(ours.signatureToJson(mySig)));
      expect(await nmshd.CryptoSignatures.verify(buf(content), theirSigView, theirCopy.publicKey)).toBe(true);
      expect(await nmshd.CryptoSignatures.verify(buf(Buffer.concat([content, Buffer.from([1])])), theirSigView, theirCopy.publicKey)).toBe(false);

      const theirPair = await nmshd.CryptoSignatures.generateKeypair();
      const myCopy = ours.parseSignatureKeypair(theirPair.toBase64());
      expect(ours.toBase64(ours.signatureKeypairToJson(myCopy))).toBe(theirPair.toBase64());
      const theirSig = await nmshd.CryptoSignatures.sign(buf(content), theirPair.privateKey, label as number);
      const parsedSig = ours.parseSignature(theirSig.toBase64());
      expect(parsedSig.alg).toBe(label);
      expect(ours.verify(content, parsedSig, myCopy.pub)).toBe(true);
      expect(ours.verify(content, parsedSig, myPair.pub)).toBe(false);
      // Ed25519 is deterministic: same key, same content, same signature bytes
      expect(ours.toBase64(ours.signatureToJson(ours.sign(content, myCopy.prv, label)))).toBe(theirSig.toBase64());
    }
  });

  test('serialized objects parse both ways byte-identically', async () => {
    for (let i = 0; i < N; i++) {
      const secret = await nmshd.CryptoEncryption.generateKey();
      expect(ours.toBase64(ours.secretKeyToJson(ours.parseSecretKey(secret.toBase64())))).toBe(secret.toBase64());
      expect(ours.serialize(ours.secretKeyToJson(ours.parseSecretKey(secret.serialize())))).toBe(secret.serialize());

      const exc = await nmshd.CryptoExchange.generateKeypair();
      expect(ours.toBase64(ours.exchangeKeypairToJson(ours.parseExchangeKeypair(exc.toBase64())))).toBe(exc.toBase64());
      expect(ours.toBase64(ours.exchangePublicKeyToJson(ours.parseExchangePublicKey(exc.publicKey.toBase64())))).toBe(
        exc.publicKey.toBase64(),
      );

      const mine = ours.generateExchangeKeypair();
      const mineB64 = ours.toBase64(ours.exchangeKeypairToJson(mine));
      expect(nmshd.CryptoExchangeKeypair.fromBase64(mineB64).toBase64()).toBe(mineB64);

      const sigPub = ours.generateSignatureKeypair().pub;
      const request: ours.RelationshipPublicRequest = {
        exc: mine.pub,
        sig: sigPub,
        eph: ours.generateExchangeKeypair().pub,
        nnc: ours.generateNonce(),
      };
      const requestB64 = ours.toBase64(ours.relationshipPublicRequestToJson(request));
      expect(nmshd.CryptoRelationshipPublicRequest.fromBase64(requestB64).toBase64()).toBe(requestB64);

      const state = nmshd.CryptoPrivateStateTransmit.generate(nmshd.CoreBuffer.from(randomBytes(32)));
      const myState = ours.parsePrivateState(state.serialize());
      expect(myState.typ).toBe(ours.StateType.Transmit);
      expect(ours.serialize(ours.privateStateToJson(myState))).toBe(state.serialize());
      const back = nmshd.CryptoPrivateStateTransmit.fromJSON(ours.privateStateToJson(myState) as never);
      expect(back.serialize()).toBe(state.serialize());
    }
  });

  test('KDF and key exchange give the same keys', async () => {
    for (let i = 0; i < N; i++) {
      const base = randomBytes(32);
      const context = ['REQTMP01', 'RELREQ01', 'RELTEM01', 'SECRET01', 'DataSync'][i % 5];
      const id = randomInt(0, 1_000_000);
      const theirs = await nmshd.CryptoDerivation.deriveKeyFromBase(buf(base), id, context);
      expect(ours.toBase64(ours.secretKeyToJson(ours.deriveKey(base, id, context)))).toBe(theirs.toBase64());

      const a = await nmshd.CryptoExchange.generateKeypair();
      const b = ours.generateExchangeKeypair();
      const bPubTheirs = nmshd.CryptoExchangePublicKey.fromBase64(ours.toBase64(ours.exchangePublicKeyToJson(b.pub)));
      const templator = await nmshd.CryptoExchange.deriveTemplator(a, bPubTheirs);
      const requestor = ours.deriveRequestor(b, ours.parseExchangePublicKey(a.publicKey.toBase64()));
      expect(ours.toBase64(ours.exchangeSecretsToJson(requestor))).not.toBe(templator.toBase64());
      expect(ours.toBase64Url(requestor.rx)).toBe(templator.transmissionKey.toBase64URL());
      expect(ours.toBase64Url(requestor.tx)).toBe(templator.receivingKey.toBase64URL());
    }
  });
});
