import { parseRelationshipCreationContent } from '../app/read-response';
import { isProtocolError } from '../errors';
import type { Participant } from '../participant';
import { openRelationship } from './open';
import { openRegistry } from './entries';
import type { Relationship } from './record';

/**
 * The name a peer goes by, where the relationship holds one: the DisplayName an App user shared
 * (as their own attribute) when answering our template's Request. Only the templator side has it —
 * in the peer's creation content, which only a full read of the relationship decrypts. The address
 * stays the peer's identifier everywhere; the name is for people reading lists and outputs.
 */

/** What naming a peer needs of a relationship: an index entry or a view. */
type NameSource = Pick<Relationship, 'id' | 'peer' | 'role' | 'creationContent'>;

/** The peer's display name from a relationship view that carries the creation content. */
export function peerDisplayName(relationship: NameSource): string | undefined {
  if (relationship.role !== 'templator' || !relationship.creationContent) return undefined;
  const name = parseRelationshipCreationContent(relationship.creationContent, { peerAddress: relationship.peer }).displayName?.trim();
  return name || undefined;
}

/** Per participant: relationship id → name (null: none). Creation content never changes, so neither does the name. */
const cache = new WeakMap<Participant, Map<string, string | null>>();

/**
 * Display names for relationships from a list (views without creation content): each templator-side
 * relationship is opened once per process, then remembered. One that cannot be read has no name.
 */
export async function peerDisplayNames(
  ctx: Participant,
  relationships: readonly NameSource[],
): Promise<Map<string, string>> {
  let known = cache.get(ctx);
  if (!known) cache.set(ctx, (known = new Map()));
  for (const r of relationships) if (r.creationContent && !known.has(r.id)) known.set(r.id, peerDisplayName(r) ?? null);
  const unknown = relationships.filter((r) => r.role === 'templator' && !known.has(r.id)).map((r) => r.id);
  // The records in pages of 100, each opened with our template's key (one read of the template each).
  for (let i = 0; i < unknown.length; i += 100) {
    for await (const dto of ctx.client.relationships(unknown.slice(i, i + 100))) {
      const full = await openRelationship(ctx, dto).catch((error: unknown) => (isProtocolError(error) ? undefined : Promise.reject(error)));
      // One that cannot be read now (e.g. its request is unreadable) is tried again next time.
      if (full) known.set(dto.id, peerDisplayName(full) ?? null);
    }
  }
  const names = new Map<string, string>();
  for (const r of relationships) {
    const name = known.get(r.id);
    if (name) names.set(r.id, name);
  }
  return names;
}

/**
 * Peer address → display name for these peers, from the index (no read of every relationship): each
 * peer's relationships as the index knows them, the youngest one with a name wins.
 */
export async function peerDisplayNamesByAddress(ctx: Participant, peers: Iterable<string>): Promise<Map<string, string>> {
  await openRegistry(ctx);
  const relationships = [...new Set(peers)].flatMap((peer) => ctx.registry.withPeer(peer));
  const byId = await peerDisplayNames(ctx, relationships);
  const out = new Map<string, string>();
  for (const r of relationships) {
    const name = byId.get(r.id);
    if (name && !out.has(r.peer)) out.set(r.peer, name);
  }
  return out;
}
