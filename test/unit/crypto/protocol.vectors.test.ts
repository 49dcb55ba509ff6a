import {
  HashAlgorithm,
  base64UrlToJson,
  cipherToJson,
  cryptoReady,
  decrypt,
  deriveAddress,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  deletedIdentityAddresses,
  encrypt,
  encryptWithCounter,
  generateSignatureKeypair,
  isValidAddress,
  KdfContext,
  parseCipher,
  parseExchangeKeypair,
  parseExchangePublicKey,
  parsePrivateState,
  parseRelationshipPublicRequest,
  parseRelationshipPublicResponse,
  parseSecretKey,
  parseSignature,
  parseSignatureKeypair,
  parseSignaturePublicKey,
  privateStateToJson,
  relationshipPublicRequestToJson,
  relationshipPublicResponseToJson,
  serialize,
  sha512,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  verify,
} from '../../../lib/crypto';
import { parseReference, referenceToUrl, truncateReference } from '../../../lib/protocol/references';
import { hex, loadVectors, type Vector } from '../../helpers/vectors';

beforeAll(async () => {
  await cryptoReady();
});

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const keyHex = (k: { key: Uint8Array }): string => Buffer.from(k.key).toString('hex');

describe('identity.json', () => {
  const v = loadVectors('identity');

  test.each<Vector>(v.addressDerivation)(
    'address of $label on $hostname',
    (e) => {
      expect(sha512(hex(e.publicKey_hex)).toString('hex')).toBe(e.sha512_hex);
      if (String(e.label).startsWith('deleted')) {
        // not a key: the pseudonym is derived from the bytes of the text "deleted identity"
        expect(deletedIdentityAddresses(e.hostname).client).toBe(e.address);
        expect(isValidAddress(e.address, { hostname: e.hostname })).toBe(e.checkAddress);
        return;
      }
      expect(deriveAddress(hex(e.publicKey_hex), e.hostname)).toBe(e.address);
      expect(isValidAddress(e.address, { hostname: e.hostname, publicKey: hex(e.publicKey_hex) })).toBe(e.checkAddress);
    },
  );

  test('deleted-identity pseudonyms (client: UTF-8, Backbone: UTF-16LE)', () => {
    expect(deletedIdentityAddresses('localhost')).toEqual({
      client: 'did:e:localhost:dids:47ad141f0bbbef348bed51',
      backbone: 'did:e:localhost:dids:3a29ae5c1f591bbd9a2aaa',
    });
  });

  test('account creation: the same signature over the challenge, in the same envelope', () => {
    const kp = generateSignatureKeypair(hex(v.identityA.seed_hex));
    expect(Buffer.from(kp.pub.pub).toString('hex')).toBe(v.identityA.publicKey_hex);
    expect(toBase64({ ...{ pub: toBase64Url(kp.pub.pub), alg: 3 }, '@type': 'CryptoSignaturePublicKey' })).toBe(
      v.identityCreation.identityPublicKey,
    );
    const sig = sign(utf8(v.identityCreation.challenge_serialized), kp.prv, HashAlgorithm.SHA512);
    expect(serialize(signatureToJson(sig))).toBe(v.identityCreation.signature_json);
    expect(toBase64(signatureToJson(sig))).toBe(v.identityCreation.signedChallenge_body.signature);
    expect(deriveAddress(kp.pub.pub, 'localhost')).toBe(v.identityA.address);
  });
});

describe('relationship.json', () => {
  const v = loadVectors('relationship');
  const identityKey = (json: string) => parseSignaturePublicKey((JSON.parse(json) as { publicKey: unknown }).publicKey);
  const idA = identityKey(v.identities.A);
  const deviceA = { pub: hex(v.devicePublicKeys.A), alg: 3 };
  const deviceB = { pub: hex(v.devicePublicKeys.B), alg: 3 };
  const templateKeypair = parseExchangeKeypair(v.template.templateExchangeKeypair_json);
  const req = v.creation.requestSecrets;
  const exchangeB = parseExchangeKeypair(req.exchangeKeypair_json);
  const ephemeralB = parseExchangeKeypair(req.ephemeralKeypair_json);
  const signatureB = parseSignatureKeypair(req.signatureKeypair_json);

  test('template: decrypts to the signed wrapper, whose identity signature verifies', () => {
    const templateKey = parseSecretKey(v.template.templateSecretKey_json);
    const cipher = parseCipher(v.template.backbonePostBody.content);
    expect(serialize(cipherToJson(cipher))).toBe(v.template.cipher_json);
    const signed = decrypt(cipher, templateKey).toString('utf8');
    expect(signed).toBe(v.template.signed_serialized);
    const parsed = JSON.parse(signed);
    expect(parsed.serializedTemplate).toBe(v.template.contentWrapper_serialized);
    const signature = parseSignature(parsed.deviceSignature);
    expect(serialize(signatureToJson(signature))).toBe(v.template.identitySignature_json);
    expect(verify(utf8(parsed.serializedTemplate), signature, idA)).toBe(true);
    expect(verify(utf8(parsed.serializedTemplate + ' '), signature, idA)).toBe(false);
    // the template key inside the wrapper is the public half of the template exchange key pair
    const inner = parseExchangePublicKey(JSON.parse(parsed.serializedTemplate).templateKey);
    expect(Buffer.compare(inner.pub, templateKeypair.pub.pub)).toBe(0);
  });

  test('creation request: both sides derive the request key; content decrypts; both signatures verify', () => {
    const requestorSide = deriveKey(deriveRequestor(ephemeralB, templateKeypair.pub).tx, 1, KdfContext.requestKey);
    const templatorSide = deriveKey(deriveTemplator(templateKeypair, ephemeralB.pub).rx, 1, KdfContext.requestKey);
    expect(keyHex(requestorSide)).toBe(req.requestSecretKey_hex);
    expect(keyHex(templatorSide)).toBe(req.requestSecretKey_hex);

    const outer = base64UrlToJson(v.creation.backbonePostBody.creationContent) as Record<string, unknown>;
    expect(JSON.stringify(outer)).toBe(v.creation.creationContentCipher_serialized);
    const publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto);
    expect(serialize(relationshipPublicRequestToJson(publicRequest))).toBe(v.creation.publicRequest_json);
    expect(Buffer.from(publicRequest.nnc).toString('hex')).toBe(req.nonce_hex);

    const plaintext = decrypt(parseCipher(outer.cipher), templatorSide).toString('utf8');
    expect(plaintext).toBe(v.creation.signed_plaintext);
    const signed = JSON.parse(plaintext);
    expect(signed.serializedCreationContent).toBe(v.creation.contentWrapper_serialized);
    const content = utf8(signed.serializedCreationContent);
    expect(verify(content, parseSignature(signed.relationshipSignature), publicRequest.sig)).toBe(true);
    expect(verify(content, parseSignature(signed.deviceSignature), deviceB)).toBe(true);
    // re-signing with S_B reproduces the relationship signature (Ed25519 is deterministic)
    expect(serialize(signatureToJson(sign(content, signatureB.prv, HashAlgorithm.SHA256)))).toBe(v.creation.relationshipSignature_json);
  });

  test('acceptance and derived keys of both sides; response decrypts with the requestor receive state', () => {
    const templatorSecrets = JSON.parse(v.acceptance.templatorSecrets_storage_json);
    const exchangeA = parseExchangeKeypair(templatorSecrets.exc);
    const outer = base64UrlToJson(v.acceptance.backbonePutBody.creationResponseContent) as Record<string, unknown>;
    expect(JSON.stringify(outer)).toBe(v.acceptance.responseContentCipher_serialized);
    const publicResponse = parseRelationshipPublicResponse(outer.publicCreationResponseContentCrypto);
    expect(serialize(relationshipPublicResponseToJson(publicResponse))).toBe(v.acceptance.publicResponse_json);

    const a = deriveTemplator(exchangeA, exchangeB.pub);
    const b = deriveRequestor(exchangeB, publicResponse.exc);
    const A = v.derivedKeys.A_templator;
    const B = v.derivedKeys.B_requestor;
    expect(keyHex(deriveKey(a.tx, 1, KdfContext.templatorToRequestor))).toBe(A.transmitKey_hex);
    expect(keyHex(deriveKey(a.rx, 1, KdfContext.requestorToTemplator))).toBe(A.receiveKey_hex);
    expect(keyHex(deriveKey(b.tx, 1, KdfContext.requestorToTemplator))).toBe(B.transmitKey_hex);
    expect(keyHex(deriveKey(b.rx, 1, KdfContext.templatorToRequestor))).toBe(B.receiveKey_hex);
    expect(Buffer.from(publicResponse.sta.nnc).toString('hex')).toBe(A.transmitBaseNonce_hex);

    const plaintext = decrypt(parseCipher(outer.cipher), hex(B.receiveKey_hex), hex(B.receiveBaseNonce_hex)).toString('utf8');
    expect(plaintext).toBe(v.acceptance.signed_plaintext);
    const signed = JSON.parse(plaintext);
    expect(signed.serializedCreationResponseContent).toBe(v.acceptance.contentWrapper_serialized);
    expect(verify(utf8(signed.serializedCreationResponseContent), parseSignature(signed.relationshipSignature), publicResponse.sig)).toBe(true);
    expect(verify(utf8(signed.serializedCreationResponseContent), parseSignature(signed.deviceSignature), deviceA)).toBe(true);
  });

  test('stored private states parse and serialize back unchanged', () => {
    for (const json of [v.acceptance.templatorSecrets_storage_json, v.requestorSecrets_storage_json]) {
      const secrets = JSON.parse(json);
      for (const state of [secrets.tx, secrets.rx]) {
        expect(JSON.stringify(privateStateToJson(parsePrivateState(state)))).toBe(JSON.stringify(state));
      }
    }
  });

  test.each<Vector>(v.traffic)(
    'counter-mode traffic from $from: $plaintext_utf8 decrypts with the peer receive state and re-encrypts identically',
    (t) => {
      const sender = t.from === 'A' ? v.derivedKeys.A_templator : v.derivedKeys.B_requestor;
      const receiver = t.from === 'A' ? v.derivedKeys.B_requestor : v.derivedKeys.A_templator;
      const cipher = parseCipher(t.toBase64);
      expect(decrypt(cipher, hex(receiver.receiveKey_hex), hex(receiver.receiveBaseNonce_hex)).toString('utf8')).toBe(t.plaintext_utf8);
      const again = encryptWithCounter(utf8(t.plaintext_utf8), hex(sender.transmitKey_hex), hex(sender.transmitBaseNonce_hex), cipher.cnt!);
      expect(toBase64(cipherToJson(again))).toBe(t.toBase64);
    },
  );
});

describe('message.json', () => {
  const v = loadVectors('message');
  const r = loadVectors('relationship');
  const A = r.derivedKeys.A_templator;
  const B = r.derivedKeys.B_requestor;

  test('the recipient unwraps the message key, decrypts the body and verifies the sender signature', () => {
    const recipient = v.backbonePostBody.recipients[0];
    expect(recipient.address).toBe(v.recipient);
    const wrapped = parseCipher(recipient.encryptedKey);
    expect(serialize(cipherToJson(wrapped))).toBe(v.encryptedKey_json);
    const keyPlaintext = decrypt(wrapped, hex(B.receiveKey_hex), hex(B.receiveBaseNonce_hex)).toString('utf8');
    expect(keyPlaintext).toBe(v.keyPlaintext);
    const messageKey = parseSecretKey(keyPlaintext);
    expect(serialize({ ...JSON.parse(keyPlaintext), '@type': 'CryptoSecretKey' })).toBe(v.messageKey_json);

    const body = parseCipher(v.backbonePostBody.body);
    expect(serialize(cipherToJson(body))).toBe(v.body_cipher_json);
    const signed = decrypt(body, messageKey).toString('utf8');
    expect(signed).toBe(v.signed_serialized);
    const envelope = JSON.parse(signed);
    expect(envelope.message).toBe(v.contentWrapper_serialized);
    const mine = envelope.signatures.find((s: { recipient: string }) => s.recipient === v.recipient);
    expect(typeof mine.signature).toBe('string'); // a JSON string, not an object
    const senderSigKey = JSON.parse(r.acceptance.templatorSecrets_storage_json).sig.pub;
    expect(verify(utf8(envelope.message), parseSignature(mine.signature), parseSignaturePublicKey(senderSigKey))).toBe(true);
    expect(mine.signature).toBe(v.relationshipSignature_json.replace(',"@type":"CryptoSignature"', ''));
  });

  test('the sender re-wraps the message key with its transmit state and gets the same bytes', () => {
    const wrapped = parseCipher(v.backbonePostBody.recipients[0].encryptedKey);
    const again = decrypt(wrapped, hex(A.transmitKey_hex), hex(A.transmitBaseNonce_hex)).toString('utf8');
    expect(again).toBe(v.keyPlaintext);
  });
});

describe('file.json', () => {
  const v = loadVectors('file');

  test('hash, owner signature, content cipher, upload blob, cipherHash and metadata', () => {
    const plaintext = hex(v.plaintext_hex);
    expect(plaintext.toString('utf8')).toBe(v.plaintext_utf8);
    const hash = sha512(plaintext);
    expect(toBase64Url(hash)).toBe(v.plaintextHash_b64u);
    expect(verify(hash, parseSignature(v.ownerSignature_toBase64), { pub: hex(v.devicePublicKey_hex), alg: 3 })).toBe(true);

    expect(v.uploadBlob_utf8).toBe(v.contentCipher_json);
    expect(toBase64Url(sha512(utf8(v.uploadBlob_utf8)))).toBe(v.cipherHash_b64u);
    const contentKey = parseSecretKey(v.contentKey_json);
    const contentCipher = parseCipher(v.uploadBlob_utf8);
    expect(decrypt(contentCipher, contentKey).equals(plaintext)).toBe(true);
    const reEncrypted = encrypt(plaintext, contentKey, contentCipher.nnc);
    expect(serialize(cipherToJson(reEncrypted))).toBe(v.uploadBlob_utf8);

    const metadataKey = parseSecretKey(v.metadataKey_json);
    const metadata = decrypt(parseCipher(v.encryptedProperties), metadataKey).toString('utf8');
    expect(metadata).toBe(v.metadata_serialized);
    expect(JSON.parse(metadata).secretKey.key).toBe(toBase64Url(contentKey.key));
  });

  test('file reference: truncated and link forms', () => {
    const ref = parseReference(v.fileReference.truncated);
    expect(ref.id).toBe(v.fileId);
    expect(ref.backboneBaseUrl).toBe(v.fileReference.json.backboneBaseUrl);
    expect(truncateReference(ref)).toBe(v.fileReference.truncated);
    expect(referenceToUrl(ref)).toBe(v.fileReference.url);
    expect(parseReference(v.fileReference.url)).toEqual(ref);
  });
});

describe('references.json', () => {
  const v = loadVectors('references');

  test('token cipher decrypts to the token content', () => {
    const key = parseSecretKey(v.tokenKey_json);
    const cipher = parseCipher(v.backbonePostTokenBody.content);
    expect(serialize(cipherToJson(cipher))).toBe(v.tokenCipher_json);
    expect(decrypt(cipher, key).toString('utf8')).toBe(v.tokenContent_serialized);
  });

  test.each([
    ['token', v.tokenReference],
    ['template', v.templateReference],
    ['file', v.fileReference],
  ])('%s reference round-trips', (_n, r) => {
    const ref = parseReference(r.truncated);
    expect(ref.id).toBe(r.json.id);
    expect(toBase64Url(ref.key.key)).toBe(r.json.key.key);
    expect(truncateReference(ref)).toBe(r.truncated);
    expect(referenceToUrl(ref)).toBe(r.url);
  });

  test('password-protected, personalised token reference', () => {
    const r = v.tokenReferenceWithPassword;
    const content = JSON.parse(v.tokenContentWithPassword_serialized);
    expect(Buffer.from(r.truncated, 'base64url').toString('utf8')).toBe(r.truncated_decoded);
    const ref = parseReference(r.truncated);
    expect(ref.backboneBaseUrl).toBeUndefined();
    // The reference carries the last 4 characters of the address the token is for.
    expect(ref.forIdentityTruncated).toBe(content.forIdentity.slice(-4));
    expect(ref.passwordProtection).toMatchObject({ passwordType: 'pin4', passwordLocationIndicator: 1 });
    expect(toBase64Url(ref.passwordProtection!.salt)).toBe(content.passwordProtection.salt);
    expect(truncateReference(ref)).toBe(r.truncated);
  });
});
