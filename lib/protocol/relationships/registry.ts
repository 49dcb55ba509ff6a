import { isPlatformError } from '../../backbone';
import type { RelationshipEntry } from '../../state/relationship-entries';
import { ProtocolError, readById } from '../errors';
import type { Participant } from '../participant';
import { openRegistry } from './entries';
import { cachedRelationshipKeys, entryRelationshipKeys } from './keys';
import { openRelationship, type OpenOptions } from './open';
import { baseView, type Relationship, type RelationshipKeys } from './record';

/**
 * Our relationships. The Backbone can neither list them nor find one by peer: this identity's
 * relationship objects in the datawallet are the list (lib/state/relationship-entries.ts), fed by our
 * requests, our acceptances and every sync run, and indexed in memory per process. The datawallet is
 * read once per process (the one step that grows with the number of relationships N: the Backbone
 * offers no other way to read it); after that every action finds its relationship in the index and
 * reads the Backbone's record of that one relationship only, if at all.
 */

export async function getRelationship(ctx: Participant, id: string, options: OpenOptions = {}): Promise<Relationship> {
  const dto = await readById(
    ctx.client.getRelationship(id).catch((error: unknown) => {
      // After decomposing, the Backbone refuses the record: for us it is gone.
      if (isPlatformError(error, 'error.platform.validation.relationship.relationshipAlreadyDecomposed')) {
        throw new ProtocolError('protocol.relationship.notFound', `Relationship ${id} was decomposed (deleted) by this identity`, id, error);
      }
      throw error;
    }),
    id,
    { notFound: 'protocol.relationship.notFound', invalid: 'protocol.relationship.invalid' },
    `Relationship ${id} does not exist or does not involve this identity`,
  );
  return openRelationship(ctx, dto, options);
}

/** A relationship found in the index, with the keys a message needs (once it was accepted). */
export interface KnownRelationship {
  id: string;
  peer: string;
  status: Relationship['status'];
  keys?: RelationshipKeys;
}

const known = (entry: RelationshipEntry): KnownRelationship => ({ id: entry.id, peer: entry.peer, status: entry.status });

/**
 * Our relationships with a peer, youngest first, with keys where this process has them. One read of
 * what is new in the datawallet when the index knows none (another worker may have just made it).
 */
export async function relationshipsWithPeer(ctx: Participant, peer: string): Promise<KnownRelationship[]> {
  await openRegistry(ctx);
  let entries = ctx.registry.withPeer(peer);
  if (entries.length === 0) {
    await ctx.store.refresh();
    entries = ctx.registry.withPeer(peer);
  }
  return entries.map((entry) => {
    const keys = entryRelationshipKeys(ctx, entry);
    return keys ? { ...known(entry), keys } : known(entry);
  });
}

/**
 * The relationship to use with a peer: the youngest Active one (Terminated only when allowed), from
 * the index. With its keys in this process or in its entry it costs no request (the Backbone refuses a
 * message on a relationship that is no longer active); otherwise one read of that relationship's record.
 * A Pending entry counts as a candidate: the peer may have accepted since it was recorded.
 */
export async function relationshipWith(ctx: Participant, peer: string, allowTerminated = false): Promise<KnownRelationship & { keys: RelationshipKeys }> {
  const all = await relationshipsWithPeer(ctx, peer);
  const usable = (status: string): boolean => status === 'Active' || (allowTerminated && status === 'Terminated');
  const candidate = all.find((r) => usable(r.status) || r.status === 'Pending');
  if (candidate?.keys) return { ...candidate, keys: candidate.keys };
  if (candidate) {
    const fresh = await getRelationship(ctx, candidate.id, { keysOnly: true });
    if (usable(fresh.status) && fresh.keys) return { id: fresh.id, peer: fresh.peer, status: fresh.status, keys: fresh.keys };
    candidate.status = fresh.status;
  }
  const states = all.map((r) => `${r.id} is ${r.status}`).join(', ');
  throw new ProtocolError(
    all.length ? 'protocol.relationship.notActive' : 'protocol.relationship.notFound',
    all.length ? `No active relationship with ${peer} (${states})` : `No relationship with ${peer}: create one from a template first`,
  );
}

export interface RelationshipQuery {
  /** Only these statuses (all when empty). */
  statuses?: readonly string[];
  /** Case-insensitive text in the peer's address, the id or the status. */
  search?: string;
  /** Matches to skip (pagination). */
  offset?: number;
  /** At most this many (default all). */
  limit?: number;
}

/** A page of matching entries from the index, newest first, and whether more match beyond it. No request. */
export function findRelationships(ctx: Participant, query: RelationshipQuery = {}): { entries: RelationshipEntry[]; more: boolean } {
  const statuses = query.statuses?.length ? new Set(query.statuses) : undefined;
  const needle = query.search?.trim().toLowerCase();
  const offset = Math.max(0, query.offset ?? 0);
  const limit = query.limit ?? Infinity;
  const entries: RelationshipEntry[] = [];
  const all = ctx.registry.newestFirst();
  // A search is one scan of the index's joined search text; without one the page is read off the list.
  const candidates = needle ? ctx.registry.search(needle).map((k) => all[k]) : all;
  let skipped = 0;
  for (const entry of candidates) {
    if (statuses && !statuses.has(entry.status)) continue;
    if (skipped < offset) {
      skipped++;
      continue;
    }
    if (entries.length >= limit) return { entries, more: true };
    entries.push(entry);
  }
  return { entries, more: false };
}

/**
 * Our relationships as the Backbone records them, newest first: the matching page from the index as
 * this process knows it (`syncRegistry` first for what just arrived), then the records of that page
 * only (up to a hundred per request). Relationships whose record is gone are left out.
 */
export async function listRelationships(ctx: Participant, query: RelationshipQuery = {}): Promise<Relationship[]> {
  await openRegistry(ctx);
  const { entries } = findRelationships(ctx, query);
  const records = await ctx.client.relationshipsById(entries.map((e) => e.id));
  const views: Relationship[] = [];
  for (const entry of entries) {
    const dto = records.get(entry.id);
    if (!dto || (dto.from !== ctx.identity.address && dto.to !== ctx.identity.address)) continue;
    const keys = cachedRelationshipKeys(ctx, dto.id);
    views.push(keys ? { ...baseView(ctx, dto), keys } : baseView(ctx, dto));
  }
  return views;
}
