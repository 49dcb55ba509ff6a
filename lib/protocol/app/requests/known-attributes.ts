import type { AttributeJson, IdentityAttributeJson, RelationshipAttributeJson, ResponseItemJson } from '../types';

/**
 * What we know about attributes, as plain data: our own identity attributes (with their versions),
 * and for one peer the attributes it gave us, the ones we shared with it and the attributes of our
 * relationship. The Request and Response logic reads and changes this view; lib/protocol/attributes
 * keeps it in the datawallet.
 *
 * Ids follow the runtime 7 rules: an own attribute keeps its id towards every peer (the peer stores
 * its copy under it), a new value is a new version with a new id that succeeds the old one, and an
 * attribute shared before is answered with its id only (AttributeAlreadySharedAcceptResponseItem).
 */

/** Where an attribute came from. */
export interface AttributeSource {
  /** "created": by us (Attribute → Create); "request": in a Request of the peer; "response": in a peer's Response to our Request. */
  via: 'created' | 'request' | 'response';
  requestId?: string;
  /** The message that carried the Request or Response. */
  messageId?: string;
}

export interface OwnAttributeRecord {
  id: string;
  content: IdentityAttributeJson;
  createdAt: string;
  source: AttributeSource;
  /** The version this one replaced. */
  succeeds?: string;
  /** The version that replaced this one: then this one is no longer current. */
  succeededBy?: string;
}

/** An attribute a peer gave us: its IdentityAttribute, or a RelationshipAttribute of its relationship with a third party. */
export interface PeerAttributeRecord {
  /** The id the peer gave it (the same towards every organisation it shares it with). */
  id: string;
  content: AttributeJson;
  receivedAt: string;
  source: AttributeSource;
  /** For a RelationshipAttribute of another relationship of the peer: that relationship's other side. */
  thirdParty?: string;
  succeeds?: string;
  succeededBy?: string;
  /** We agreed to delete it (DeleteAttributeRequestItem): it is kept only as a tombstone. */
  deletedAt?: string;
}

/** A RelationshipAttribute of our relationship with the peer, owned by us or by the peer. */
export interface RelationshipAttributeRecord {
  id: string;
  content: RelationshipAttributeJson;
  createdAt: string;
  source: AttributeSource;
  succeeds?: string;
  succeededBy?: string;
  deletedAt?: string;
}

/** One of our attributes that the peer holds a copy of. */
export interface SharedAttributeRecord {
  attributeId: string;
  sharedAt: string;
  source: AttributeSource;
  /** The peer agreed to delete its copy by this date (its answer to our DeleteAttributeRequestItem). */
  deletionDate?: string;
}

/** What we know about attributes with one peer. */
export interface PeerAttributes {
  peer: string;
  received: PeerAttributeRecord[];
  shared: SharedAttributeRecord[];
  relationship: RelationshipAttributeRecord[];
}

/** The view a Request or Response with `peer.peer` is decided or applied against. */
export interface KnownAttributes {
  ownAddress: string;
  own: OwnAttributeRecord[];
  peer: PeerAttributes;
  /** Relationship attributes of our relationships with other peers (ThirdPartyRelationshipAttributeQuery); may be empty. */
  thirdParties?: PeerAttributes[];
}

export const emptyPeerAttributes = (peer: string): PeerAttributes => ({ peer, received: [], shared: [], relationship: [] });

/** Own attributes that are current (not replaced by a newer version), oldest first. */
export function currentOwnAttributes(own: readonly OwnAttributeRecord[], valueType?: string): OwnAttributeRecord[] {
  return own.filter((a) => !a.succeededBy && (valueType === undefined || a.content.value['@type'] === valueType));
}

/**
 * The own attribute to answer a query for `valueType` with: the newest current one whose tags
 * include one of `tags` (any, when no tags are asked).
 */
export function defaultOwnAttribute(own: readonly OwnAttributeRecord[], valueType: string, tags?: readonly string[]): OwnAttributeRecord | undefined {
  const candidates = currentOwnAttributes(own, valueType).filter((a) => !tags?.length || (a.content.tags ?? []).some((t) => tags.includes(t)));
  return candidates[candidates.length - 1];
}

/** Every version of the attribute `id` belongs to (its predecessors and successors), oldest first. */
export function versionChain<T extends { id: string; succeeds?: string; succeededBy?: string }>(records: readonly T[], id: string): T[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  let first = byId.get(id);
  const seen = new Set<string>();
  while (first?.succeeds && byId.has(first.succeeds) && !seen.has(first.id)) {
    seen.add(first.id);
    first = byId.get(first.succeeds);
  }
  const chain: T[] = [];
  for (let r = first; r && !chain.includes(r); r = r.succeededBy ? byId.get(r.succeededBy) : undefined) chain.push(r);
  return chain;
}

/**
 * How we share own attribute `attribute` with the peer, as the runtime does: the full attribute when
 * the peer has no version of it, only its id when the peer has this very version, a succession when
 * it has an older one. `kind` picks the accept item of the first case.
 */
export function shareOwnAttribute(
  known: KnownAttributes,
  attribute: OwnAttributeRecord,
  kind: 'Read' | 'Propose' | 'Create',
): { responseItem: ResponseItemJson; sharedBefore: boolean } {
  const versions = versionChain(known.own, attribute.id).map((v) => v.id);
  const sharedVersions = known.peer.shared.filter((s) => versions.includes(s.attributeId) && !s.deletionDate);
  const latestShared = versions.filter((id) => sharedVersions.some((s) => s.attributeId === id)).pop();
  if (latestShared === attribute.id) {
    return { responseItem: { '@type': 'AttributeAlreadySharedAcceptResponseItem', result: 'Accepted', attributeId: attribute.id }, sharedBefore: true };
  }
  if (latestShared !== undefined) {
    return {
      responseItem: {
        '@type': 'AttributeSuccessionAcceptResponseItem',
        result: 'Accepted',
        predecessorId: latestShared,
        successorId: attribute.id,
        successorContent: attribute.content,
      },
      sharedBefore: false,
    };
  }
  if (kind === 'Create') return { responseItem: { '@type': 'CreateAttributeAcceptResponseItem', result: 'Accepted', attributeId: attribute.id }, sharedBefore: false };
  const type = kind === 'Read' ? 'ReadAttributeAcceptResponseItem' : 'ProposeAttributeAcceptResponseItem';
  return { responseItem: { '@type': type, result: 'Accepted', attributeId: attribute.id, attribute: attribute.content }, sharedBefore: false };
}

/** The same value (value fields and tags ignored in order)? Used to reuse an own attribute instead of duplicating it. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
