import { isPlatformError } from '../../backbone';
import { ProtocolError, readById } from '../errors';
import type { Participant } from '../participant';
import { cachedRelationshipKeys } from './keys';
import { openRelationship } from './open';
import { baseView, type RegistryEntry, type Relationship } from './record';

/**
 * Our relationships. The Backbone cannot list them: the registry in the datawallet
 * (`n8n.relationships`) is the list, fed by our requests, our acceptances and every sync run.
 */

/** Adds a relationship to the registry unless it is there already. */
export async function ensureRegistered(ctx: Participant, id: string, entry: RegistryEntry): Promise<void> {
  await ctx.store.update(() => ({
    changes: ctx.store.get('n8n.relationships', id) ? [] : [{ collection: 'n8n.relationships' as const, id, value: entry }],
    result: undefined,
  }));
}

/**
 * All our relationships, oldest first. `refresh: false` uses the registry as this process last read
 * it (the records are still fetched).
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
