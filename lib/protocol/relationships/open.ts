import {
  KdfContext,
  assertSignature,
  decrypt,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  fromUtf8,
  parseCipher,
  parseExchangePublicKey,
  parseRelationshipPublicRequest,
  parseSignature,
  utf8,
  verify,
  type ExchangePublicKey,
  type RelationshipPublicRequest,
} from '../../crypto';
import type { RelationshipDto } from '../../backbone';
import { ProtocolError, isProtocolError } from '../errors';
import { parseIdentityInfo } from '../identity-info';
import type { Participant } from '../participant';
import { parseJsonText } from '../serialize';
import { readOwnTemplate } from '../templates';
import { relationshipKeys } from './keys';
import { baseView, parseOuter, type Relationship } from './record';
import { openRegistry } from './entries';

/**
 * Reading a relationship record, whichever side we are on: the templator decrypts the request with
 * its template's key and verifies it; the requestor re-reads its own request with what its entry in the
 * registry remembers of the template and checks that it carries our own signature. Then the keys, once the
 * relationship was accepted (keys.ts verifies the acceptance).
 *
 * A request that does not verify is a ProtocolError. One that cannot be read at all (our template
 * expired and was deleted; the registry lacks the template key of our own request) leaves
 * `requestVerified` false — enough for keys and messages, never for acting on its content.
 */

export interface OpenOptions {
  /** Fail unless the request content was decrypted and verified (before accepting it). */
  requireVerifiedRequest?: boolean;
  /**
   * Only what messages need: the keys, proven by the acceptance (ours, or the peer's signed one);
   * the request content is neither read nor verified, which spares the templator a read of its
   * template (it verified the request before accepting it).
   */
  keysOnly?: boolean;
}

/** Reads a relationship record and derives what we can: peer, contents, keys. Messages use it for records they fetch themselves. */
export async function openRelationship(ctx: Participant, dto: RelationshipDto, options: OpenOptions = {}): Promise<Relationship> {
  const view = baseView(ctx, dto);
  if (dto.from !== ctx.identity.address && dto.to !== ctx.identity.address) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} does not involve this identity`, dto.id);
  }
  const outer = parseOuter(dto.creationContent, 'creation content', dto.id);
  let publicRequest: RelationshipPublicRequest;
  try {
    publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto, 'publicCreationContentCrypto');
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} has an unreadable request`, dto.id, error);
  }
  if (options.keysOnly) {
    if (view.role === 'requestor') ownRequest(ctx, dto, publicRequest);
  } else if (view.role === 'templator') {
    await openAsTemplator(ctx, dto, outer, publicRequest, view);
  } else {
    await openAsRequestor(ctx, dto, outer, publicRequest, view);
  }
  if (options.requireVerifiedRequest && !view.requestVerified) {
    throw new ProtocolError('protocol.relationship.invalid', `The request of relationship ${dto.id} cannot be verified: its template no longer exists`, dto.id);
  }
  const keys = relationshipKeys(ctx, dto, view.role, publicRequest);
  if (keys) view.keys = keys;
  return view;
}

async function openAsTemplator(
  ctx: Participant,
  dto: RelationshipDto,
  outer: Record<string, unknown>,
  publicRequest: RelationshipPublicRequest,
  view: Relationship,
): Promise<void> {
  let template;
  try {
    template = await readOwnTemplate(ctx, dto.relationshipTemplateId);
  } catch (error) {
    // Without the template (expired and deleted) the request cannot be read; keys still work. A
    // template that is there but not ours is a forgery and fails the whole read.
    if (isProtocolError(error, 'protocol.template.expired')) return;
    throw error;
  }
  const requestKey = deriveKey(
    deriveTemplator({ pub: template.templateKey.pub, prv: { prv: template.exchangePrivate, alg: 3 } }, publicRequest.eph).rx,
    1,
    KdfContext.requestKey,
  );
  const what = `the request of relationship ${dto.id}`;
  try {
    const signed = parseJsonText(fromUtf8(decrypt(parseCipher(outer.cipher, what), requestKey, undefined, what)), what, 'protocol.relationship.invalid', dto.id);
    const serialized = signed.serializedCreationContent;
    if (typeof serialized !== 'string') throw new ProtocolError('protocol.relationship.invalid', `${what} is not signed content`, dto.id);
    assertSignature(utf8(serialized), parseSignature(signed.relationshipSignature, `${what} signature`), publicRequest.sig, what);
    const wrapper = parseJsonText(serialized, what, 'protocol.relationship.invalid', dto.id);
    const identity = parseIdentityInfo(wrapper.identity, what);
    if (identity.address !== dto.from) {
      throw new ProtocolError('protocol.relationship.invalid', `${what} claims ${identity.address} but comes from ${dto.from}`, dto.id);
    }
    if (wrapper.templateId !== dto.relationshipTemplateId) {
      throw new ProtocolError('protocol.relationship.invalid', `${what} names another template`, dto.id);
    }
    view.peerIdentity = identity;
    view.creationContent = (wrapper.content ?? undefined) as Record<string, unknown> | undefined;
    view.requestVerified = true;
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.relationship.invalid', `${what} cannot be read: ${(error as Error).message}`, dto.id, error);
  }
}

/** Our keys of a relationship we requested; the request's public keys must be them. */
function ownRequest(ctx: Participant, dto: RelationshipDto, publicRequest: RelationshipPublicRequest): ReturnType<Participant['own']['requestor']> {
  const keys = ctx.own.requestor(publicRequest.nnc);
  if (Buffer.compare(keys.exchange.pub.pub, publicRequest.exc.pub) !== 0) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} was not requested with this identity's secret`, dto.id);
  }
  return keys;
}

async function openAsRequestor(
  ctx: Participant,
  dto: RelationshipDto,
  outer: Record<string, unknown>,
  publicRequest: RelationshipPublicRequest,
  view: Relationship,
): Promise<void> {
  const keys = ownRequest(ctx, dto, publicRequest);
  await openRegistry(ctx);
  let entry = ctx.registry.get(dto.id);
  if (!entry?.templateKey) {
    // Our view of the datawallet may predate the request (another worker sent it): read what is new
    // before concluding that we know nothing about the peer.
    await ctx.store.refresh();
    entry = ctx.registry.get(dto.id);
  }
  if (!entry?.templateKey || !entry.peerKey) return;
  let signed: { serializedCreationContent?: unknown; relationshipSignature?: unknown };
  let peerIdentity;
  try {
    peerIdentity = parseIdentityInfo({ address: entry.peer, publicKey: { pub: entry.peerKey, alg: 3 } }, 'peer');
    const templateKey: ExchangePublicKey = parseExchangePublicKey({ pub: entry.templateKey, alg: 3 });
    const requestKey = deriveKey(deriveRequestor(keys.ephemeral, templateKey).tx, 1, KdfContext.requestKey);
    signed = JSON.parse(fromUtf8(decrypt(parseCipher(outer.cipher), requestKey))) as typeof signed;
  } catch {
    return; // the registry's template key does not open it: content unknown, nothing shown as ours
  }
  // Whoever holds the template could have put another request here: ours carries our signature.
  const what = `the request of relationship ${dto.id}`;
  const serialized = signed.serializedCreationContent;
  let valid = false;
  try {
    valid = typeof serialized === 'string' && verify(utf8(serialized), parseSignature(signed.relationshipSignature, `${what} signature`), keys.signature.pub);
  } catch {
    valid = false;
  }
  if (!valid) throw new ProtocolError('protocol.relationship.invalid', `${what} is not signed by this identity: it was changed`, dto.id);
  view.peerIdentity = peerIdentity;
  view.creationContent = parseJsonText(serialized as string, what, 'protocol.relationship.invalid', dto.id).content as Record<string, unknown> | undefined;
  view.requestVerified = true;
}
