import {
  KdfContext,
  assertSignature,
  bytesEqual,
  decrypt,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  fromUtf8,
  parseCipher,
  parseRelationshipPublicResponse,
  parseSignature,
  utf8,
  type RelationshipPublicRequest,
  type SignaturePublicKey,
} from '../../crypto';
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
 * Everything is recomputed from the Platform's relationship record plus our identity secret, so
 * no per-relationship secret is stored anywhere. They never change for a relationship id, so each
 * process derives them once per participant and keeps them.
 */

const keyCache = new WeakMap<Participant, Map<string, RelationshipKeys>>();

/** Keys this process already derived for a relationship, if any. */
export function cachedRelationshipKeys(ctx: Participant, id: string): RelationshipKeys | undefined {
  return keyCache.get(ctx)?.get(id);
}

/** The keys of an accepted relationship (undefined while it is not): from the cache, or derived and cached. */
export function relationshipKeys(ctx: Participant, dto: RelationshipDto, role: RelationshipRole, publicRequest: RelationshipPublicRequest): RelationshipKeys | undefined {
  let cache = keyCache.get(ctx);
  if (!cache) keyCache.set(ctx, (cache = new Map()));
  const cached = cache.get(dto.id);
  if (cached) return cached;
  if (!dto.creationResponseContent) return undefined;
  const keys = deriveKeys(ctx, dto, role, publicRequest);
  cache.set(dto.id, keys);
  return keys;
}

function deriveKeys(ctx: Participant, dto: RelationshipDto, role: RelationshipRole, publicRequest: RelationshipPublicRequest): RelationshipKeys {
  const outer = parseOuter(dto.creationResponseContent, 'creation response', dto.id);
  let publicResponse;
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
    const d = deriveTemplator(own.exchange, publicRequest.exc);
    const keys: RelationshipKeys = {
      transmit: { key: deriveKey(d.tx, 1, KdfContext.templatorToRequestor), baseNonce: publicResponse.sta.nnc },
      receive: { key: deriveKey(d.rx, 1, KdfContext.requestorToTemplator), baseNonce: publicRequest.nnc },
      ownSignature: own.signature,
      peerSignature: publicRequest.sig,
    };
    verifyAcceptance(dto, outer, keys.transmit, own.signature.pub, what);
    return keys;
  }
  const own = ctx.own.requestor(publicRequest.nnc);
  const d = deriveRequestor(own.exchange, publicResponse.exc);
  const keys: RelationshipKeys = {
    transmit: { key: deriveKey(d.tx, 1, KdfContext.requestorToTemplator), baseNonce: publicRequest.nnc },
    receive: { key: deriveKey(d.rx, 1, KdfContext.templatorToRequestor), baseNonce: publicResponse.sta.nnc },
    ownSignature: own.signature,
    peerSignature: publicResponse.sig,
  };
  // Hardening the reference client skips: the acceptance must decrypt and be signed by the peer.
  verifyAcceptance(dto, outer, keys.receive, keys.peerSignature, what);
  return keys;
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
