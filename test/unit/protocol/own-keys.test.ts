/**
 * How own keys derive from the identity secret, per identity version (lib/protocol/own-keys.ts).
 * The expected values are recomputed here from the documented construction with node:crypto and
 * libsodium directly, not with lib/, so a change of the derivation cannot pass unnoticed:
 *   v1: HMAC-SHA256(secret, label ‖ 0 ‖ salt) — what every existing credential's objects were made with;
 *   v2: HMAC-SHA256(BLAKE2b-KDF(secret, 1, "n8nOwnK2"), "n8n/v2/" label ‖ 0 ‖ salt), datawallet key
 *       BLAKE2b-KDF(secret, 1, "n8nDatW2").
 */
import { createHmac, randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';
import { cryptoReady, deriveKey, signaturePublicKeyOf } from '../../../lib/crypto';
import { IdentityKdf, deriveIdentityKeys } from '../../../lib/protocol/identity';
import { OwnKeys } from '../../../lib/protocol/own-keys';

beforeAll(async () => {
  await cryptoReady();
  await sodium.ready;
});

const hmac = (key: Uint8Array, label: string, salt: Uint8Array): Buffer =>
  createHmac('sha256', key).update(label).update(Buffer.from([0])).update(salt).digest();
const kdf = (secret: Uint8Array, context: string): Buffer => Buffer.from(sodium.crypto_kdf_derive_from_key(32, 1, context, secret));

const secret = randomBytes(32);
const salt = randomBytes(24);

describe('version 1 (existing credentials): the derivation they were made with, unchanged', () => {
  let own: OwnKeys;
  beforeAll(() => void (own = new OwnKeys(secret, 1)));
  test('message, template, file metadata and datawallet keys', () => {
    expect(own.message(salt).key).toEqual(hmac(secret, 'message/key', salt));
    expect(own.template(salt).contentKey.key).toEqual(hmac(secret, 'template/content', salt));
    expect(own.fileMetadataKey(salt).key).toEqual(hmac(secret, 'file/metadata', salt));
    expect(own.datawallet().key).toEqual(hmac(secret, 'datawallet/key', Buffer.alloc(0)));
  });
  test('relationship signature keys: Ed25519 seeded with the PRF output', () => {
    const seed = hmac(secret, 'templator/signature', salt);
    expect(own.templator(salt).signature.pub.pub).toEqual(Buffer.from(sodium.crypto_sign_seed_keypair(seed).publicKey));
    const requestorSeed = hmac(secret, 'requestor/signature', salt);
    expect(own.requestor(salt).signature.pub.pub).toEqual(Buffer.from(sodium.crypto_sign_seed_keypair(requestorSeed).publicKey));
  });
});

describe('version 2 (new identities): the secret keys BLAKE2b only, every use under its own context and label', () => {
  let own: OwnKeys;
  let prfKey: Buffer;
  beforeAll(() => {
    own = new OwnKeys(secret, 2);
    prfKey = kdf(secret, 'n8nOwnK2');
  });
  test('own keys come from the n8nOwnK2 subkey with versioned labels; the datawallet key is the n8nDatW2 subkey', () => {
    expect(IdentityKdf.ownKeys).toBe('n8nOwnK2');
    expect(own.message(salt).key).toEqual(hmac(prfKey, 'n8n/v2/message/key', salt));
    expect(own.template(salt).contentKey.key).toEqual(hmac(prfKey, 'n8n/v2/template/content', salt));
    expect(own.fileMetadataKey(salt).key).toEqual(hmac(prfKey, 'n8n/v2/file/metadata', salt));
    expect(own.datawallet().key).toEqual(kdf(secret, 'n8nDatW2'));
  });

  test('no v2 key equals its v1 counterpart, and the raw secret keys no HMAC', () => {
    const v1 = new OwnKeys(secret, 1);
    expect(own.message(salt).key).not.toEqual(v1.message(salt).key);
    expect(own.datawallet().key).not.toEqual(v1.datawallet().key);
    for (const label of ['message/key', 'n8n/v2/message/key']) expect(own.message(salt).key).not.toEqual(hmac(secret, label, salt));
  });

  test('every 8-character context keyed with the secret is distinct, and the subkeys differ from each other', () => {
    const contexts = Object.values(IdentityKdf);
    expect(new Set(contexts).size).toBe(contexts.length);
    const subkeys = contexts.map((c) => Buffer.from(deriveKey(secret, 1, c).key).toString('hex'));
    expect(new Set(subkeys).size).toBe(contexts.length);
  });

  test('identity and device keys are the same in both versions (the address does not depend on the version)', () => {
    const keys = deriveIdentityKeys(secret);
    expect(keys.identity.pub.pub).toEqual(Buffer.from(sodium.crypto_sign_seed_keypair(kdf(secret, 'n8nIdent')).publicKey));
    expect(signaturePublicKeyOf(keys.device.prv).pub).toEqual(keys.device.pub.pub);
  });
});

test.each([1, 2] as const)('v%s: the file metadata nonce is a 24-byte PRF of the plaintext: fixed per plaintext, different for another', (version) => {
  const own = new OwnKeys(secret, version);
  const a = Buffer.from('{"@type":"FileMetadata","filename":"a.txt"}');
  const b = Buffer.from('{"@type":"FileMetadata","filename":"b.txt"}');
  expect(own.fileMetadataNonce(a)).toHaveLength(24);
  expect(own.fileMetadataNonce(a)).toEqual(own.fileMetadataNonce(Buffer.from(a)));
  expect(own.fileMetadataNonce(a)).not.toEqual(own.fileMetadataNonce(b));
  expect(own.fileMetadataNonce(a)).not.toEqual(new OwnKeys(randomBytes(32), version).fileMetadataNonce(a));
});
