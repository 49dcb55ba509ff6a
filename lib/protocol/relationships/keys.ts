import {
  KdfContext,
  assertSignature,
  bytesEqual,
  decrypt,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  fromBase64Url,
  fromUtf8,
  parseCipher,
  parseRelationshipPublicRequest,
  parseRelationshipPublicResponse,
  relationshipPublicRequestToJson,
  relationshipPublicResponseToJson,
  parseSignature,
  utf8,
  type RelationshipPublicRequest,
  type RelationshipPublicResponse,
  type SignaturePublicKey,
} from '../../crypto';
import type { RelationshipEntry } from '../../state/relationship-entries';
import type { RelationshipDto } from '../../backbone';
import { ProtocolError, isProtocolError } from '../errors';
import type { Participant } from '../participant';
import { parseJsonText } from '../serialize';
import { parseOuter, type DirectionKey, type RelationshipKeys, type RelationshipRole } from './record';

/**
 * The keys of an accepted relationship, both roles, exactly as @nmshd/transport derives them:
 *  - templator (A, created the template) = crypto_kx CLIENT; requestor (B) = crypto_kx SERVER;
 *  - request key  K_req = KDF(kx(template key ↔ B's ephemeral key), 1, "REQTMP01");
 *  - A→B key      = KDF(kx(X_A ↔ X_B) A.tx / B.rx, 1, "RELTEM01"), base nonce N_A (chosen by A);
 *  - B→A key      = KDF(kx(X_A ↔ X_B) A.rx / B.tx, 1, "RELREQ01"), base nonce N_B (chosen by B).
 * Everything is recomputed from our identity secret plus the peer's public keys — read from the
 * Platform's record and verified against the acceptance, then kept in the relationship's entry —
 * so no per-relationship secret is stored anywhere. They never change for a relationship id, so each
 * process derives them once per participant and keeps them.
 */

const keyCache = new WeakMap<Participant, Map<string, RelationshipKeys>>();

/** Keys this process already derived for a relationship, if any. */
export function cachedRelationshipKeys(ctx: Participant, id: string): RelationshipKeys | undefined {
  return keyCache.get(ctx)?.get(id);
}

/** The keys of an accepted relationship (undefined while it is not): from the cache, or derived and cached. */
export function relationshipKeys(ctx: Participant, dto: RelationshipDto, role: RelationshipRole, publicRequest: RelationshipPublicRequest): RelationshipKeys | undefined {
  const cache = cacheOf(ctx);
  const cached = cache.get(dto.id);
  if (cached) return cached;
  if (!dto.creationResponseContent) return undefined;
  const { keys, peerPublic } = deriveKeys(ctx, dto, role, publicRequest);
  cache.set(dto.id, keys);
  // Verified now: the entry's next counter reservation keeps it, so later processes skip this read.
  if (ctx.registry.find(dto.id)?.peerPublic === undefined) ctx.registry.verifiedPeerPublic.set(dto.id, peerPublic);
  return keys;
}

/**
 * The keys of a relationship from its entry alone (our salt and the peer's public keys kept when
 * they were verified), or undefined when the entry does not hold them. The entry is our own
 * datawallet object, bound to its id: no read of the record, and nothing the Platform could swap.
 */
export function entryRelationshipKeys(ctx: Participant, entry: RelationshipEntry): RelationshipKeys | undefined {
  const cache = cacheOf(ctx);
  const cached = cache.get(entry.id);
  if (cached || !entry.peerPublic || !entry.salt) return cached;
  const what = `the keys kept for relationship ${entry.id}`;
  let keys: RelationshipKeys;
  try {
    const salt = fromBase64Url(entry.salt, `${what} (salt)`);
    const peer = JSON.parse(entry.peerPublic) as unknown;
    keys =
      entry.role === 'templator'
        ? templatorKeys(ctx, salt, parseRelationshipPublicRequest(peer, what))
        : requestorKeys(ctx, salt, parseRelationshipPublicResponse(peer, what));
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `${what} cannot be read (${(error as Error).message})`, entry.id, error);
  }
  cache.set(entry.id, keys);
  return keys;
}

/** An entry's `peerPublic` as the templator keeps it: the public part of the requestor's request. */
export function requestPeerPublic(publicRequest: RelationshipPublicRequest): string {
  return JSON.stringify(relationshipPublicRequestToJson(publicRequest, false));
}

function cacheOf(ctx: Participant): Map<string, RelationshipKeys> {
  let cache = keyCache.get(ctx);
  if (!cache) keyCache.set(ctx, (cache = new Map()));
  return cache;
}

/** Templator: our keys from N_A, the requestor's from its request. */
function templatorKeys(ctx: Participant, nA: Uint8Array, publicRequest: RelationshipPublicRequest): RelationshipKeys {
  const own = ctx.own.templator(nA);
  const d = deriveTemplator(own.exchange, publicRequest.exc);
  return {
    transmit: { key: deriveKey(d.tx, 1, KdfContext.templatorToRequestor), baseNonce: nA },
    receive: { key: deriveKey(d.rx, 1, KdfContext.requestorToTemplator), baseNonce: publicRequest.nnc },
    ownSignature: own.signature,
    peerSignature: publicRequest.sig,
  };
}

/** Requestor: our keys from N_B, the templator's from its acceptance. */
function requestorKeys(ctx: Participant, nB: Uint8Array, publicResponse: RelationshipPublicResponse): RelationshipKeys {
  const own = ctx.own.requestor(nB);
  const d = deriveRequestor(own.exchange, publicResponse.exc);
  return {
    transmit: { key: deriveKey(d.tx, 1, KdfContext.requestorToTemplator), baseNonce: nB },
    receive: { key: deriveKey(d.rx, 1, KdfContext.templatorToRequestor), baseNonce: publicResponse.sta.nnc },
    ownSignature: own.signature,
    peerSignature: publicResponse.sig,
  };
}

function deriveKeys(ctx: Participant, dto: RelationshipDto, role: RelationshipRole, publicRequest: RelationshipPublicRequest): { keys: RelationshipKeys; peerPublic: string } {
  const outer = parseOuter(dto.creationResponseContent, 'creation response', dto.id);
  let publicResponse: RelationshipPublicResponse;
  try {
    publicResponse = parseRelationshipPublicResponse(outer.publicCreationResponseContentCrypto, 'publicCreationResponseContentCrypto');
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} has an unreadable acceptance`, dto.id, error);
  }
  const what = `the acceptance of relationship ${dto.id}`;
  if (role === 'templator') {
    const own = ctx.own.templator(publicResponse.sta.nnc);
    // Our own acceptance: its public keys are the ones we derive from N_A, and it carries our signature.
    if (!bytesEqual(publicResponse.exc.pub, own.exchange.pub.pub) || !bytesEqual(publicResponse.sig.pub, own.signature.pub.pub)) {
      throw new ProtocolError('protocol.relationship.invalid', `${what} was not made by this identity: its keys are not ours`, dto.id);
    }
    const keys = templatorKeys(ctx, publicResponse.sta.nnc, publicRequest);
    verifyAcceptance(dto, outer, keys.transmit, own.signature.pub, what);
    return { keys, peerPublic: requestPeerPublic(publicRequest) };
  }
  const keys = requestorKeys(ctx, publicRequest.nnc, publicResponse);
  // Hardening the reference client skips: the acceptance must decrypt and be signed by the peer.
  verifyAcceptance(dto, outer, keys.receive, keys.peerSignature, what);
  return { keys, peerPublic: JSON.stringify(relationshipPublicResponseToJson(publicResponse, false)) };
}

/** The acceptance decrypts with the templator→requestor key, is signed by `signer`, and names this relationship. */
function verifyAcceptance(dto: RelationshipDto, outer: Record<string, unknown>, key: DirectionKey, signer: SignaturePublicKey, what: string): void {
  try {
    const signed = parseJsonText(fromUtf8(decrypt(parseCipher(outer.cipher, what), key.key, key.baseNonce, what)), what, 'protocol.relationship.invalid', dto.id);
    const serialized = signed.serializedCreationResponseContent;
    if (typeof serialized !== 'string') throw new ProtocolError('protocol.relationship.invalid', `${what} is not signed content`, dto.id);
    assertSignature(utf8(serialized), parseSignature(signed.relationshipSignature, `${what} signature`), signer, what);
    if ((JSON.parse(serialized) as { relationshipId?: unknown }).relationshipId !== dto.id) {
      throw new ProtocolError('protocol.relationship.invalid', `${what} names another relationship`, dto.id);
    }
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.relationship.invalid', `${what} cannot be verified: ${(error as Error).message}`, dto.id, error);
  }
}
