import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { findRelationships, syncRegistry, type Participant, type RelationshipQuery } from '../../../../lib/protocol';
import { participantFor } from '../../../shared/session';

/**
 * The pickers: a page at a time from the index of relationships (no relationship record is read),
 * searched by peer name or address, id or status. A search starts from what is recorded now (a sync, so a
 * request that just arrived is there); the following pages of the same search do not sync again.
 */

const PAGE_SIZE = 50;

async function page(ctx: ILoadOptionsFunctions, query: RelationshipQuery, paginationToken?: string): Promise<{ participant: Participant; found: ReturnType<typeof findRelationships> }> {
  const participant = await participantFor(ctx);
  const offset = Number(paginationToken ?? 0);
  if (!paginationToken) await syncRegistry(participant);
  return { participant, found: findRelationships(participant, { ...query, offset: Number.isInteger(offset) && offset > 0 ? offset : 0, limit: PAGE_SIZE }) };
}

/** The peer as a person reads it: its display name where the index holds one, the address always. */
const named = (r: { peer: string; peerName?: string }): string => (r.peerName ? `${r.peerName} — ${r.peer}` : r.peer);

const nextToken = (paginationToken: string | undefined, found: ReturnType<typeof findRelationships>): string | undefined =>
  found.more ? String(Number(paginationToken ?? 0) + found.entries.length) : undefined;

/** Recipient picker: peers of Active relationships. */
export async function searchPeers(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
  const { found } = await page(this, { statuses: ['Active'], search: filter }, paginationToken);
  return { results: found.entries.map((r) => ({ name: `${named(r)} (${r.id})`, value: r.peer })), paginationToken: nextToken(paginationToken, found) };
}

/** Relationship picker: every relationship with its status, newest first. */
export async function searchRelationships(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
  const { found } = await page(this, { search: filter }, paginationToken);
  return { results: found.entries.map((r) => ({ name: `${r.status}: ${named(r)} (${r.id})`, value: r.id })), paginationToken: nextToken(paginationToken, found) };
}
