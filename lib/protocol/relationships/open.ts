import {
  EncryptionAlgorithm,
  HashAlgorithm,
  KdfContext,
  StateType,
  assertSignature,
  base64UrlToJson,
  cipherToJson,
  decrypt,
  deriveKey,
  deriveRequestor,
  deriveTemplator,
  encrypt,
  encryptWithCounter,
  fromUtf8,
  generateNonce,
  jsonToBase64Url,
  parseCipher,
  parseExchangePublicKey,
  parseRelationshipPublicRequest,
  parseRelationshipPublicResponse,
  parseSignature,
  relationshipPublicRequestToJson,
  relationshipPublicResponseToJson,
  sign,
  signatureToJson,
  toBase64Url,
  utf8,
  type ExchangePublicKey,
  type RelationshipPublicRequest,
  type SecretKey,
  type SignatureKeypair,
  type SignaturePublicKey,
} from '../../crypto';
import { PlatformCodes, isPlatformError, type RelationshipDto, type RelationshipStatus } from '../../backbone';
import type { Participant } from '../participant';
import { ProtocolError, isProtocolError, orNotFound } from '../errors';
import { cryptoJson, parseJsonText, transportStringify } from '../serialize';
import { readOwnTemplate, type LoadedTemplate } from '../templates';
import { identityJson, parseIdentityInfo, type IdentityInfo } from '../identity-info';

/**
 * Relationships, both roles, exactly as @nmshd/transport derives them:
 *  - templator (A, created the template) = crypto_kx CLIENT; requestor (B) = crypto_kx SERVER;
 *  - request key  K_req = KDF(kx(template key ↔ B's ephemeral key), 1, "REQTMP01");
 *  - A→B key      = KDF(kx(X_A ↔ X_B) A.tx / B.rx, 1, "RELTEM01"), base nonce N_A (chosen by A);
 *  - B→A key      = KDF(kx(X_A ↔ X_B) A.rx / B.tx, 1, "RELREQ01"), base nonce N_B (chosen by B).
 * Everything is recomputed from the Platform's relationship record plus our identity secret, so
 * no per-relationship secret is stored anywhere.
 */

export type RelationshipRole = 'templator' | 'requestor';

export interface DirectionKey {
  key: SecretKey;
  baseNonce: Uint8Array;
}

export interface RelationshipKeys {
  transmit: DirectionKey;
  receive: DirectionKey;
  ownSignature: SignatureKeypair;
  peerSignature: SignaturePublicKey;
}

export interface Relationship {
  id: string;
  templateId: string;
  status: RelationshipStatus;
  role: RelationshipRole;
  peer: string;
  createdAt: string;
  auditLog: RelationshipDto['auditLog'];
  /** The peer's identity (known to the templator from the request, to the requestor from the template). */
  peerIdentity?: IdentityInfo;
  /** The decrypted creation content (the templator reads the peer's; the requestor its own, when known). */
  creationContent?: Record<string, unknown>;
  /** Keys once the relationship was accepted. */
  keys?: RelationshipKeys;
}

/** Registry entry in the datawallet: which relationships this identity has, and what only we know. */
export interface RegistryEntry {
  role?: RelationshipRole;
  templateId?: string;
  /** Requestor side: the template's identity key and template key, to re-read our own request. */
  peerIdentity?: { address: string; publicKey: string };
  templateKey?: string;
}

const RELATIONSHIP_SIGNATURE = HashAlgorithm.SHA256;
const DEVICE_SIGNATURE = HashAlgorithm.SHA512;

function signedEnvelope(serialized: string, field: string, device: SignatureKeypair, relationship: SignatureKeypair): string {
  const bytes = utf8(serialized);
  return transportStringify({
    deviceSignature: cryptoJson(signatureToJson(sign(bytes, device.prv, DEVICE_SIGNATURE), false)),
    relationshipSignature: cryptoJson(signatureToJson(sign(bytes, relationship.prv, RELATIONSHIP_SIGNATURE), false)),
    [field]: serialized,
  });
}

function parseOuter(text: string | null | undefined, what: string, id: string): Record<string, unknown> {
  if (!text) throw new ProtocolError('protocol.relationship.invalid', `relationship ${id} has no ${what}`, id);
  try {
    const value = base64UrlToJson(text, what);
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `the ${what} of relationship ${id} is not readable`, id, error);
  }
  throw new ProtocolError('protocol.relationship.invalid', `the ${what} of relationship ${id} is not an object`, id);
}

/** Requestor: create a relationship request for a loaded template. */
export async function requestRelationship(
  ctx: Participant,
  template: LoadedTemplate,
  content: Record<string, unknown>,
): Promise<Relationship> {
  if (template.createdBy === ctx.identity.address) {
    throw new ProtocolError('protocol.input.invalid', 'This template is your own: a relationship needs another identity', template.id);
  }
  if (!content || typeof content['@type'] !== 'string') {
    throw new ProtocolError('protocol.input.invalid', 'The relationship request content must be a JSON object with an "@type"');
  }
  const baseNonce = generateNonce();
  const keys = ctx.own.requestor(baseNonce);
  const requestKey = deriveKey(deriveRequestor(keys.ephemeral, template.templateKey.pub).tx, 1, KdfContext.requestKey);
  const serialized = transportStringify({
    '@type': 'RelationshipCreationContentWrapper',
    content,
    identity: identityJson({ address: ctx.identity.address, publicKey: ctx.identity.keys.identity.pub }),
    templateId: template.id,
  });
  const plaintext = signedEnvelope(serialized, 'serializedCreationContent', ctx.identity.keys.device, keys.signature);
  const publicRequest: RelationshipPublicRequest = { exc: keys.exchange.pub, sig: keys.signature.pub, eph: keys.ephemeral.pub, nnc: baseNonce };
  const outer = transportStringify({
    '@type': 'RelationshipCreationContentCipher',
    cipher: cryptoJson(cipherToJson(encrypt(utf8(plaintext), requestKey), false)),
    publicCreationContentCrypto: cryptoJson(relationshipPublicRequestToJson(publicRequest, false)),
  });
  const dto = await ctx.client.createRelationship(template.id, jsonToBase64Url(outer));
  const entry: RegistryEntry = {
    role: 'requestor',
    templateId: template.id,
    peerIdentity: { address: template.identity.address, publicKey: toBase64Url(template.identity.publicKey.pub) },
    templateKey: toBase64Url(template.templateKey.pub.pub),
  };
  await ctx.store.update(() => ({ changes: [{ collection: 'n8n.relationships', id: dto.id, value: entry }], result: undefined }));
  return { ...baseView(ctx, dto), peerIdentity: template.identity, creationContent: content };
}

function baseView(ctx: Participant, dto: RelationshipDto): Relationship {
  const role: RelationshipRole = dto.to === ctx.identity.address ? 'templator' : 'requestor';
  return {
    id: dto.id,
    templateId: dto.relationshipTemplateId,
    status: dto.status,
    role,
    peer: role === 'templator' ? dto.from : dto.to,
    createdAt: dto.createdAt,
    auditLog: dto.auditLog,
  };
}

const keyCache = new WeakMap<Participant, Map<string, RelationshipKeys>>();

/** Keys this process already derived for a relationship (they never change for its id), if any. */
export function cachedRelationshipKeys(ctx: Participant, id: string): RelationshipKeys | undefined {
  return keyCache.get(ctx)?.get(id);
}

/** Reads a relationship record and derives what we can: peer, contents, keys. */
export async function openRelationship(ctx: Participant, dto: RelationshipDto): Promise<Relationship> {
  const view = baseView(ctx, dto);
  if (dto.from !== ctx.identity.address && dto.to !== ctx.identity.address) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} does not involve this identity`, dto.id);
  }
  let cache = keyCache.get(ctx);
  if (!cache) keyCache.set(ctx, (cache = new Map()));
  const outer = parseOuter(dto.creationContent, 'creation content', dto.id);
  let publicRequest: RelationshipPublicRequest;
  try {
    publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto, 'publicCreationContentCrypto');
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} has an unreadable request`, dto.id, error);
  }
  if (view.role === 'templator') {
    await openAsTemplator(ctx, dto, outer, publicRequest, view);
  } else {
    await openAsRequestor(ctx, dto, outer, publicRequest, view);
  }
  const cached = cache.get(dto.id);
  if (cached) {
    view.keys = cached;
  } else if (dto.creationResponseContent) {
    view.keys = deriveKeys(ctx, dto, view.role, publicRequest);
    cache.set(dto.id, view.keys);
  }
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
    // Without the template (deleted, or not ours) we cannot read the request content; keys still work.
    if (isProtocolError(error) || isPlatformError(error, PlatformCodes.recordNotFound)) return;
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
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.relationship.invalid', `${what} cannot be read: ${(error as Error).message}`, dto.id, error);
  }
}

async function openAsRequestor(
  ctx: Participant,
  dto: RelationshipDto,
  outer: Record<string, unknown>,
  publicRequest: RelationshipPublicRequest,
  view: Relationship,
): Promise<void> {
  const keys = ctx.own.requestor(publicRequest.nnc);
  if (Buffer.compare(keys.exchange.pub.pub, publicRequest.exc.pub) !== 0) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} was not requested with this identity's secret`, dto.id);
  }
  let entry = ctx.store.get('n8n.relationships', dto.id) as RegistryEntry | undefined;
  if (!entry?.templateKey) {
    // Our in-memory view of the datawallet may predate the request (a fresh process or another worker sent
    // it): read what is new before concluding that we know nothing about the peer.
    await ctx.store.refresh();
    entry = ctx.store.get('n8n.relationships', dto.id) as RegistryEntry | undefined;
  }
  if (!entry?.templateKey || !entry.peerIdentity) return;
  try {
    view.peerIdentity = parseIdentityInfo({ address: entry.peerIdentity.address, publicKey: { pub: entry.peerIdentity.publicKey, alg: 3 } }, 'peer');
    const templateKey: ExchangePublicKey = parseExchangePublicKey({ pub: entry.templateKey, alg: 3 });
    const requestKey = deriveKey(deriveRequestor(keys.ephemeral, templateKey).tx, 1, KdfContext.requestKey);
    const signed = JSON.parse(fromUtf8(decrypt(parseCipher(outer.cipher), requestKey))) as { serializedCreationContent?: string };
    view.creationContent = (JSON.parse(signed.serializedCreationContent ?? '{}') as { content?: Record<string, unknown> }).content;
  } catch {
    // Our own request content is informational only.
  }
}

function deriveKeys(ctx: Participant, dto: RelationshipDto, role: RelationshipRole, publicRequest: RelationshipPublicRequest): RelationshipKeys {
  const outer = parseOuter(dto.creationResponseContent, 'creation response', dto.id);
  let publicResponse;
  try {
    publicResponse = parseRelationshipPublicResponse(outer.publicCreationResponseContentCrypto, 'publicCreationResponseContentCrypto');
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} has an unreadable acceptance`, dto.id, error);
  }
  if (role === 'templator') {
    const own = ctx.own.templator(publicResponse.sta.nnc);
    const d = deriveTemplator(own.exchange, publicRequest.exc);
    return {
      transmit: { key: deriveKey(d.tx, 1, KdfContext.templatorToRequestor), baseNonce: publicResponse.sta.nnc },
      receive: { key: deriveKey(d.rx, 1, KdfContext.requestorToTemplator), baseNonce: publicRequest.nnc },
      ownSignature: own.signature,
      peerSignature: publicRequest.sig,
    };
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
  const what = `the acceptance of relationship ${dto.id}`;
  try {
    const signed = parseJsonText(fromUtf8(decrypt(parseCipher(outer.cipher, what), keys.receive.key, keys.receive.baseNonce, what)), what, 'protocol.relationship.invalid', dto.id);
    const serialized = signed.serializedCreationResponseContent;
    if (typeof serialized !== 'string') throw new ProtocolError('protocol.relationship.invalid', `${what} is not signed content`, dto.id);
    assertSignature(utf8(serialized), parseSignature(signed.relationshipSignature, `${what} signature`), keys.peerSignature, what);
    if ((JSON.parse(serialized) as { relationshipId?: unknown }).relationshipId !== dto.id) {
      throw new ProtocolError('protocol.relationship.invalid', `${what} names another relationship`, dto.id);
    }
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.relationship.invalid', `${what} cannot be verified: ${(error as Error).message}`, dto.id, error);
  }
  return keys;
}

/** Templator: accept a pending request (creation response in counter mode, counter 0 of fresh keys). */
export async function acceptRelationship(ctx: Participant, id: string): Promise<Relationship> {
  const dto = await ctx.client.getRelationship(id);
  const view = baseView(ctx, dto);
  if (view.role !== 'templator') {
    throw new ProtocolError('protocol.relationship.wrongState', `Relationship ${id} was requested by you: only ${dto.to} can accept it`, id);
  }
  if (dto.status !== 'Pending') {
    throw new ProtocolError('protocol.relationship.wrongState', `Relationship ${id} is ${dto.status}, not Pending: it cannot be accepted`, id);
  }
  const outer = parseOuter(dto.creationContent, 'creation content', id);
  const publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto, 'publicCreationContentCrypto');
  const baseNonce = generateNonce(); // fresh keys for every attempt: a retried accept never reuses a nonce
  const own = ctx.own.templator(baseNonce);
  const d = deriveTemplator(own.exchange, publicRequest.exc);
  const transmitKey = deriveKey(d.tx, 1, KdfContext.templatorToRequestor);
  const serialized = transportStringify({ '@type': 'RelationshipCreationResponseContentWrapper', relationshipId: id });
  const plaintext = signedEnvelope(serialized, 'serializedCreationResponseContent', ctx.identity.keys.device, own.signature);
  const outerResponse = transportStringify({
    '@type': 'RelationshipCreationResponseContentCipher',
    cipher: cryptoJson(cipherToJson(encryptWithCounter(utf8(plaintext), transmitKey, baseNonce, 0), false)),
    publicCreationResponseContentCrypto: cryptoJson(
      relationshipPublicResponseToJson(
        { exc: own.exchange.pub, sig: own.signature.pub, sta: { nnc: baseNonce, alg: EncryptionAlgorithm.XCHACHA20_POLY1305, typ: StateType.Transmit } },
        false,
      ),
    ),
  });
  await ensureRegistered(ctx, id, { role: 'templator', templateId: dto.relationshipTemplateId });
  const accepted = await ctx.client.acceptRelationship(id, jsonToBase64Url(outerResponse));
  return openRelationship(ctx, { ...accepted, creationContent: dto.creationContent, creationResponseContent: jsonToBase64Url(outerResponse) });
}

async function ensureRegistered(ctx: Participant, id: string, entry: RegistryEntry): Promise<void> {
  await ctx.store.update(() => ({
    changes: ctx.store.get('n8n.relationships', id) ? [] : [{ collection: 'n8n.relationships' as const, id, value: entry }],
    result: undefined,
  }));
}

export type RelationshipAction = 'reject' | 'revoke' | 'terminate' | 'requestReactivation' | 'acceptReactivation' | 'rejectReactivation' | 'revokeReactivation' | 'decompose';

/** State changes without crypto; wrong-state answers become ProtocolErrors that say what to do. */
export async function changeRelationship(ctx: Participant, id: string, action: RelationshipAction): Promise<Relationship> {
  const calls: Record<RelationshipAction, (rid: string) => Promise<RelationshipDto>> = {
    reject: (rid) => ctx.client.rejectRelationship(rid),
    revoke: (rid) => ctx.client.revokeRelationship(rid),
    terminate: (rid) => ctx.client.terminateRelationship(rid),
    requestReactivation: (rid) => ctx.client.requestReactivation(rid),
    acceptReactivation: (rid) => ctx.client.acceptReactivation(rid),
    rejectReactivation: (rid) => ctx.client.rejectReactivation(rid),
    revokeReactivation: (rid) => ctx.client.revokeReactivation(rid),
    decompose: (rid) => ctx.client.decomposeRelationship(rid),
  };
  try {
    const dto = await calls[action](id);
    return baseView(ctx, dto);
  } catch (error) {
    if (isPlatformError(error) && error.code.startsWith('error.platform.validation.relationship.')) {
      throw new ProtocolError('protocol.relationship.wrongState', `Cannot ${action} relationship ${id}: ${error.message}`, id, error);
    }
    throw error;
  }
}

/**
 * Our relationships: the registry in the datawallet (fed by our requests and by sync events).
 * `refresh: false` uses the registry as this process last read it (the records are still fetched).
 */
export async function listRelationships(ctx: Participant, options: { refresh?: boolean } = {}): Promise<Relationship[]> {
  if (options.refresh !== false) await ctx.store.refresh();
  const ids = ctx.store.ids('n8n.relationships');
  const views: Relationship[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    for await (const dto of ctx.client.relationships(ids.slice(i, i + 100))) {
      if (dto.from !== ctx.identity.address && dto.to !== ctx.identity.address) continue;
      // Keys this process already derived for the id (they never change for a relationship) come with
      // the view, so a send or a received message needs no second read of the record and of our
      // template (npm run bench: 2 reads fewer per send, 1 fewer per message a trigger poll opens).
      const keys = cachedRelationshipKeys(ctx, dto.id);
      views.push(keys ? { ...baseView(ctx, dto), keys } : baseView(ctx, dto));
    }
  }
  return views.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function getRelationship(ctx: Participant, id: string): Promise<Relationship> {
  const dto = await orNotFound(
    ctx.client.getRelationship(id).catch((error: unknown) => {
      // After decomposing, the Backbone refuses the record: for us it is gone.
      if (isPlatformError(error, 'error.platform.validation.relationship.relationshipAlreadyDecomposed')) {
        throw new ProtocolError('protocol.relationship.notFound', `Relationship ${id} was decomposed (deleted) by this identity`, id, error);
      }
      throw error;
    }),
    'protocol.relationship.notFound',
    `Relationship ${id} does not exist or does not involve this identity`,
    id,
  );
  // The answer must be about the relationship asked for (found by test/faults/response-fuzzing).
  if (dto.id !== id) throw new ProtocolError('protocol.relationship.invalid', `The Platform answered the request for relationship ${id} with relationship ${dto.id}`, id);
  return openRelationship(ctx, dto);
}

/** The relationship to use with a peer: the youngest Active one (Terminated only when allowed). */
export async function relationshipWith(ctx: Participant, peer: string, allowTerminated = false): Promise<Relationship> {
  // The Backbone allows one live relationship per pair of identities: when the registry this process
  // already read holds one with the peer that the Platform (just now) calls Active, no newer one can
  // exist, so the datawallet need not be read again for every send (npm run bench: together with the
  // key cache, a warm send reads once before its POST instead of 4 times, which counts as soon as the
  // Platform is not on loopback).
  if (ctx.store.ids('n8n.relationships').length > 0) {
    const known = (await listRelationships(ctx, { refresh: false })).filter((r) => r.peer === peer && r.status === 'Active');
    const active = known[known.length - 1];
    if (active?.keys) return active;
  }
  const all = (await listRelationships(ctx)).filter((r) => r.peer === peer);
  const usable = all.filter((r) => r.status === 'Active' || (allowTerminated && r.status === 'Terminated'));
  const chosen = usable[usable.length - 1];
  if (!chosen) {
    const states = all.map((r) => `${r.id} is ${r.status}`).join(', ');
    throw new ProtocolError(
      all.length ? 'protocol.relationship.notActive' : 'protocol.relationship.notFound',
      all.length ? `No active relationship with ${peer} (${states})` : `No relationship with ${peer}: create one from a template first`,
    );
  }
  // The list was just read (fresh status); with cached keys it is all a send needs.
  return chosen.keys ? chosen : getRelationship(ctx, chosen.id);
}
