import {
  HashAlgorithm,
  cipherToJson,
  decrypt,
  encrypt,
  encryptToCipherJson,
  fromUtf8,
  generateSecretKey,
  parseCipher,
  parseSecretKey,
  secretKeyToJson,
  sha512,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  type SecretKey,
} from '../../lib/crypto';
import type { MessageDto } from '../../lib/backbone';
import { ProtocolError, getRelationship, type Participant, type ProtocolErrorCode } from '../../lib/protocol';
import { cryptoJson, transportStringify } from '../../lib/protocol/serialize';
import type { ProxyLogEntry, TestProxy } from './proxy';

/**
 * The attacker of issue 11: the Platform (a rewriting proxy in front of our participant) together
 * with a peer that has a relationship with us. The peer legitimately holds the keys of what we gave
 * it — the message key of every Mail we sent it, the content key of our template (in its QR code),
 * the metadata key of a file we shared — and these helpers use exactly those, taken from the peer's
 * own participant, to put other content under them: re-encrypted with the SAME nonce, because our
 * own keys derive from the nonce (a fresh nonce would simply not decrypt for us).
 */

/** Paths of the Platform's answers a rewriting proxy changes (exact, no query). */
export const platformPath = {
  message: (id: string) => new RegExp(`^/api/v2/Messages/${id}$`),
  messages: /^\/api\/v2\/Messages$/,
  template: (id: string) => new RegExp(`^/api/v2/RelationshipTemplates/${id}$`),
  relationship: (id: string) => new RegExp(`^/api/v2/Relationships/${id}$`),
  fileMetadata: (id: string) => new RegExp(`^/api/v2/Files/${id}/Metadata$`),
  fileBlob: (id: string) => new RegExp(`^/api/v2/Files/${id}$`),
};

/** The message key of a message `peer` received: unwrapped with the peer's own relationship key. */
export async function peerMessageKey(peer: Participant, relationshipId: string, dto: MessageDto): Promise<SecretKey> {
  const keys = (await getRelationship(peer, relationshipId)).keys!;
  const mine = dto.recipients.find((r) => r.address === peer.address)!;
  return parseSecretKey(fromUtf8(decrypt(parseCipher(mine.encryptedKey), keys.receive.key, keys.receive.baseNonce)));
}

export interface SignedMessage {
  '@type': string;
  message: string;
  signatures: { recipient: string; signature: string }[];
}

/** Decrypts a cipher (base64url JSON) with `key`, lets `edit` change the JSON inside, encrypts it again under the same key and nonce. */
export function reseal<T>(cipherText: string, key: SecretKey, edit: (json: T) => T | void): string {
  const cipher = parseCipher(cipherText);
  const json = JSON.parse(fromUtf8(decrypt(cipher, key))) as T;
  const changed = edit(json) ?? json;
  return toBase64(cipherToJson(encrypt(utf8(JSON.stringify(changed)), key, cipher.nnc)));
}

/** A signed message body with the wrapper's content replaced (signatures left as they were unless `sign` is given). */
export function withContent(signed: SignedMessage, content: Record<string, unknown>): SignedMessage {
  const wrapper = JSON.parse(signed.message) as Record<string, unknown>;
  return { ...signed, message: transportStringify({ ...wrapper, content }) };
}

/** Signature JSON text of `serialized` with `key` (what a MessageSigned entry carries). */
export function signatureText(serialized: string, key: Parameters<typeof sign>[1], label = HashAlgorithm.SHA256): string {
  return JSON.stringify(signatureToJson(sign(utf8(serialized), key, label), false));
}

/**
 * New file bytes under a file's existing metadata key and nonce: metadata with their hash, a fresh
 * content key and the given name, and the blob. `keepHashOf` keeps the original hash (name change only).
 */
export function forgedFile(
  encryptedProperties: string,
  metadataKey: SecretKey,
  bytes: Buffer,
  filename: string,
): { encryptedProperties: string; blob: Buffer; cipherHash: string } {
  const contentKey = generateSecretKey();
  const blob = encryptToCipherJson(bytes, contentKey);
  const sealed = reseal<Record<string, unknown>>(encryptedProperties, metadataKey, (metadata) => ({
    ...metadata,
    filename,
    filesize: bytes.length,
    plaintextHash: toBase64Url(sha512(bytes)),
    secretKey: cryptoJson(secretKeyToJson(contentKey, false)),
  }));
  return { encryptedProperties: sealed, blob, cipherHash: toBase64Url(sha512(blob)) };
}

/** The promise must be rejected with a ProtocolError of `code` that names `id` (in objectId and text). */
export async function expectDetected(promise: Promise<unknown>, code: ProtocolErrorCode, id: string): Promise<ProtocolError> {
  const outcome = await promise.then(
    (value) => ({ accepted: value }),
    (error: unknown) => ({ error }),
  );
  if ('accepted' in outcome) throw new Error(`the forgery went unnoticed; got ${JSON.stringify(outcome.accepted).slice(0, 400)}`);
  const error = outcome.error as ProtocolError;
  expect(error).toBeInstanceOf(ProtocolError);
  expect({ code: error.code, objectId: error.objectId }).toEqual({ code, objectId: id });
  expect(error.message).toContain(id);
  return error;
}

/** Asserts the proxy really changed an answer to a path matching `path` (so a pass is not a pass by accident). */
export function expectRewritten(proxy: TestProxy, path: RegExp): void {
  expect(proxy.log.some((e) => e.rewritten && path.test(e.path))).toBe(true);
}

/**
 * Requests that act (change anything on the Platform) among those logged from `since` on: every
 * non-GET except the OAuth login, which only obtains a token.
 */
export function actingRequests(proxy: TestProxy, since: number): ProxyLogEntry[] {
  return proxy.log.slice(since).filter((e) => e.method !== 'GET' && e.path !== '/connect/token');
}
