import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { listRelationships, sync } from '../../../../lib/protocol';
import { participantFor } from '../../../shared/session';

/** Recipient picker: peers of Active relationships. */
export async function searchPeers(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const participant = await participantFor(this);
  await sync(participant);
  const relationships = (await listRelationships(participant)).filter((r) => r.status === 'Active');
  const needle = (filter ?? '').toLowerCase();
  return {
    results: relationships
      .filter((r) => !needle || r.peer.toLowerCase().includes(needle) || r.id.toLowerCase().includes(needle))
      .map((r) => ({ name: `${r.peer} (${r.id})`, value: r.peer })),
  };
}

/** Relationship picker: every relationship with its status. */
export async function searchRelationships(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const participant = await participantFor(this);
  await sync(participant);
  const needle = (filter ?? '').toLowerCase();
  return {
    results: (await listRelationships(participant))
      .reverse()
      .filter((r) => !needle || `${r.peer} ${r.id} ${r.status}`.toLowerCase().includes(needle))
      .map((r) => ({ name: `${r.status}: ${r.peer} (${r.id})`, value: r.id })),
  };
}
