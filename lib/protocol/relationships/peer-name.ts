import { parseRelationshipCreationContent } from '../app/read-response';
import { isProtocolError } from '../errors';
import type { Participant } from '../participant';
import { getRelationship, listRelationships } from './registry';
import type { Relationship } from './record';

/**
 * The name a peer goes by, where the relationship holds one: the DisplayName an App user shared
 * (as their own attribute) when answering our template's Request. Only the templator side has it —
 * in the peer's creation content, which only a full read of the relationship decrypts. The address
 * stays the peer's identifier everywhere; the name is for people reading lists and outputs.
 */

/** The peer's display name from a relationship view that carries the creation content. */
export function peerDisplayName(relationship: Relationship): string | undefined {
  if (relationship.role !== 'templator' || !relationship.creationContent) return undefined;
  const name = parseRelationshipCreationContent(relationship.creationContent, { peerAddress: relationship.peer }).displayName?.trim();
  return name || undefined;
}

/** Per participant: relationship id → name (null: none). Creation content never changes, so neither does the name. */
const cache = new WeakMap<Participant, Map<string, string | null>>();

/**
 * Display names for relationships from a list (views without creation content): each templator-side
 * relationship is read in full once per process, then remembered. A relationship that cannot be read
 * (decomposed, or its request unreadable) has no name.
 */
export async function peerDisplayNames(ctx: Participant, relationships: readonly Relationship[]): Promise<Map<string, string>> {
  let known = cache.get(ctx);
  if (!known) cache.set(ctx, (known = new Map()));
  const names = new Map<string, string>();
  for (const r of relationships) {
    if (r.role !== 'templator') continue;
    if (!known.has(r.id)) {
      const full = r.creationContent ? r : await getRelationship(ctx, r.id).catch((error: unknown) => (isProtocolError(error) ? undefined : Promise.reject(error)));
      // Pending requests are read again later: their content is final, but a failed read may not be.
      if (full) known.set(r.id, peerDisplayName(full) ?? null);
    }
    const name = known.get(r.id);
    if (name) names.set(r.id, name);
  }
  return names;
}

/** Peer address → display name, over all our relationships (the newest relationship's name wins). */
export async function peerDisplayNamesByAddress(ctx: Participant): Promise<Map<string, string>> {
  const relationships = await listRelationships(ctx);
  const byId = await peerDisplayNames(ctx, relationships);
  const out = new Map<string, string>();
  for (const r of relationships) {
    const name = byId.get(r.id);
    if (name) out.set(r.peer, name);
  }
  return out;
}
