import type { AttributeJson, PeerAttributeRecord, RelationshipAttributeRecord, SharedAttributeRecord } from '../app';
import type { Participant } from '../participant';
import { allPeerAttributes, ownAttributes, peerAttributes } from './store';

/**
 * What we know about attributes with peers: what a peer gave us (in answers to our Requests, or
 * in its own Requests), what we shared with it, and the attributes of our relationship.
 */

export interface ListOptions {
  /** Also replaced versions and deleted ones. */
  versions?: boolean;
}

const current = (r: { succeededBy?: string; deletedAt?: string }): boolean => !r.succeededBy && !r.deletedAt;

/** Attributes `peer` gave us (its identity attributes; relationship attributes of its relationships with third parties). */
export async function listPeerAttributes(ctx: Participant, peer: string, options: ListOptions = {}): Promise<PeerAttributeRecord[]> {
  await ctx.store.refresh();
  return peerAttributes(ctx, peer).received.filter((r) => options.versions || current(r));
}

/** Attributes of every peer, with the peer. */
export async function listAllPeerAttributes(ctx: Participant, options: ListOptions = {}): Promise<(PeerAttributeRecord & { peer: string })[]> {
  await ctx.store.refresh();
  return allPeerAttributes(ctx).flatMap((p) => p.received.filter((r) => options.versions || current(r)).map((r) => ({ ...r, peer: p.peer })));
}

/** Our attributes `peer` holds a copy of, with their content. */
export async function listSharedAttributes(ctx: Participant, peer: string, options: ListOptions = {}): Promise<(SharedAttributeRecord & { content?: AttributeJson })[]> {
  await ctx.store.refresh();
  const own = ownAttributes(ctx);
  const view = peerAttributes(ctx, peer);
  const contentOf = (id: string): AttributeJson | undefined =>
    own.find((a) => a.id === id)?.content ?? [...allPeerAttributes(ctx)].flatMap((p) => p.relationship).find((r) => r.id === id)?.content;
  return view.shared.filter((s) => options.versions || !s.deletionDate).map((s) => ({ ...s, content: contentOf(s.attributeId) }));
}

/** The RelationshipAttributes of our relationship with `peer` (owned by us or by the peer). */
export async function listRelationshipAttributes(ctx: Participant, peer: string, options: ListOptions = {}): Promise<RelationshipAttributeRecord[]> {
  await ctx.store.refresh();
  return peerAttributes(ctx, peer).relationship.filter((r) => options.versions || current(r));
}
