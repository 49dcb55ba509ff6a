import { parseRelationshipCreationContent } from '../app/read-response';
import type { Change } from '../../state/datawallet';
import { entryChange } from '../../state/relationship-entries';
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

/** What naming a peer needs of a relationship: an index entry (which may hold the name) or a view. */
type NameSource = Pick<Relationship, 'id' | 'peer' | 'role' | 'creationContent'> & { peerName?: string };

/** The peer's display name from a relationship view that carries the creation content. */
export function peerDisplayName(relationship: NameSource): string | undefined {
  if (relationship.role !== 'templator' || !relationship.creationContent) return undefined;
  const name = parseRelationshipCreationContent(relationship.creationContent, { peerAddress: relationship.peer }).displayName?.trim();
  return name || undefined;
}

/** Per participant: relationship id → name (null: none). Creation content never changes, so neither does the name. */
const cache = new WeakMap<Participant, Map<string, string | null>>();

/**
 * Display names for relationships from a list (views without creation content): the index's name
 * where it holds one; otherwise each templator-side relationship is opened once per process and the
 * name found is kept in its entry, so the pickers show it from then on. One that cannot be read has no name.
 */
export async function peerDisplayNames(
  ctx: Participant,
  relationships: readonly NameSource[],
): Promise<Map<string, string>> {
  let known = cache.get(ctx);
  if (!known) cache.set(ctx, (known = new Map()));
  for (const r of relationships) {
    if (known.has(r.id)) continue;
    const name = r.peerName ?? ctx.registry.find(r.id)?.peerName ?? (r.creationContent ? peerDisplayName(r) : undefined);
    if (name || r.creationContent) known.set(r.id, name ?? null);
  }
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
  await keepNames(ctx, [...names].filter(([id]) => !ctx.registry.find(id)?.peerName));
  return names;
}

/** Names found by opening the records go into the entries that lack them (one datawallet push). */
async function keepNames(ctx: Participant, found: ReadonlyArray<readonly [string, string]>): Promise<void> {
  if (!found.length || !ctx.store.opened) return;
  await ctx.store.update(() => {
    const changes: Change[] = [];
    for (const [id, peerName] of found) {
      const entry = ctx.registry.find(id);
      if (entry && !entry.peerName) changes.push(entryChange({ ...entry, peerName }, 'keep'));
    }
    return { changes, result: undefined };
  });
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
