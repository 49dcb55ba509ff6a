import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { listRelationships, peerDisplayNames, sync } from '../../../../lib/protocol';
import { participantFor } from '../../../shared/session';

/** "Jane Doe · did:e:…" where the peer shared a display name, else the address. */
const label = (peer: string, name: string | undefined): string => (name ? `${name} · ${peer}` : peer);

/** Recipient picker: peers of Active relationships, by display name where known; the value is the address. */
export async function searchPeers(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const participant = await participantFor(this);
  await sync(participant);
  const relationships = (await listRelationships(participant)).filter((r) => r.status === 'Active');
  const names = await peerDisplayNames(participant, relationships);
  const needle = (filter ?? '').toLowerCase();
  return {
    results: relationships
      .filter((r) => !needle || `${r.peer} ${r.id} ${names.get(r.id) ?? ''}`.toLowerCase().includes(needle))
      .map((r) => ({ name: `${label(r.peer, names.get(r.id))} (${r.id})`, value: r.peer })),
  };
}

/** Relationship picker: every relationship with its status and the peer's display name where known. */
export async function searchRelationships(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const participant = await participantFor(this);
  await sync(participant);
  const relationships = (await listRelationships(participant)).reverse();
  const names = await peerDisplayNames(participant, relationships);
  const needle = (filter ?? '').toLowerCase();
  return {
    results: relationships
      .filter((r) => !needle || `${r.peer} ${r.id} ${r.status} ${names.get(r.id) ?? ''}`.toLowerCase().includes(needle))
      .map((r) => ({ name: `${r.status}: ${label(r.peer, names.get(r.id))} (${r.id})`, value: r.id })),
  };
}
