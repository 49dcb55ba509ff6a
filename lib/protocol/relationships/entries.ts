import { parseRelationshipPublicRequest, parseRelationshipPublicResponse, toBase64Url, type RelationshipPublicRequest } from '../../crypto';
import type { RelationshipDto } from '../../backbone';
import type { DatawalletStore } from '../../state/datawallet';
import { LAYOUT, entryChange, entryFromRecord, retiredChange, type RelationshipEntry } from '../../state/relationship-entries';
import { ProtocolError } from '../errors';
import type { Participant } from '../participant';
import { sync } from '../sync';
import { parseOuter } from './record';

/**
 * Our relationship entries in the datawallet (lib/state/relationship-entries.ts): reading them once
 * per process — the one step that grows with the number of relationships, since the Backbone offers
 * no other way to read a datawallet —, bringing those of earlier versions into this layout, and
 * recording what our own actions did.
 */

const opening = new WeakMap<DatawalletStore, Promise<void>>();

/** Reads the datawallet once per process and brings objects of earlier versions into this layout. */
export async function openRegistry(ctx: Participant): Promise<void> {
  if (ctx.store.opened && ctx.registry.complete) return;
  let open = opening.get(ctx.store);
  if (!open) {
    open = (async () => {
      if (!ctx.store.opened) await ctx.store.refresh();
      if (!ctx.registry.complete) await upgradeLayout(ctx);
    })().finally(() => opening.delete(ctx.store));
    opening.set(ctx.store, open);
  }
  await open;
}

/**
 * The registry with everything recorded so far: runs a sync (events into the datawallet) and reads
 * what other workers wrote. Returns the datawallet index this covers.
 */
export async function syncRegistry(ctx: Participant): Promise<number> {
  await openRegistry(ctx);
  await sync(ctx);
  await ctx.store.refresh();
  return ctx.store.latestIndex;
}

/** Our salt in the record (the public base nonce our own keys for it derive from), when the record proves it is ours. */
export function ownSalt(ctx: Participant, dto: RelationshipDto): string | undefined {
  try {
    if (dto.to === ctx.identity.address) {
      if (!dto.creationResponseContent) return undefined;
      const response = parseRelationshipPublicResponse(parseOuter(dto.creationResponseContent, 'creation response', dto.id).publicCreationResponseContentCrypto);
      const own = ctx.own.templator(response.sta.nnc);
      return Buffer.compare(own.exchange.pub.pub, response.exc.pub) === 0 ? toBase64Url(response.sta.nnc) : undefined;
    }
    const request: RelationshipPublicRequest = parseRelationshipPublicRequest(parseOuter(dto.creationContent, 'creation content', dto.id).publicCreationContentCrypto);
    const own = ctx.own.requestor(request.nnc);
    return Buffer.compare(own.exchange.pub.pub, request.exc.pub) === 0 ? toBase64Url(request.nnc) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Identities used by earlier versions hold unbound relationship objects (only the id is certain).
 * Each is replaced by a bound entry built from the Backbone's record (a hundred records per read);
 * then the layout marker is written, after which unbound relationship objects are refused. Their
 * counter blocks (`n8n.counters`) stay where they are: reservations start above all of them.
 */
async function upgradeLayout(ctx: Participant): Promise<void> {
  const legacy = [...ctx.registry.legacy.entries()];
  for (let i = 0; i < legacy.length; i += 100) {
    const chunk = legacy.slice(i, i + 100);
    const records = await ctx.client.relationshipsById(chunk.map(([id]) => id));
    await ctx.store.update(() => ({
      changes: chunk
        .filter(([id]) => ctx.registry.legacy.has(id)) // another worker may have done it meanwhile
        .map(([id, old]) => {
          const dto = records.get(id);
          const entry = dto && entryFromRecord(ctx.identity.address, dto);
          if (!entry) return retiredChange(id);
          return entryChange({ ...entry, salt: ownSalt(ctx, dto), ...legacyRequestorKeys(entry, old) }, 'keep');
        }),
      result: undefined,
    }));
  }
  await ctx.store.update(() => ({ changes: ctx.registry.complete || ctx.registry.legacy.size > 0 ? [] : [{ ...LAYOUT }], result: undefined }));
}

/** What an earlier version kept to re-read our own request, when it is consistent with the record (unbound: it may be another's). */
function legacyRequestorKeys(entry: RelationshipEntry, old: unknown): Pick<RelationshipEntry, 'templateKey' | 'peerKey'> {
  const o = old as { peerIdentity?: { address?: unknown; publicKey?: unknown }; templateKey?: unknown } | null;
  if (entry.role !== 'requestor' || o?.peerIdentity?.address !== entry.peer) return {};
  if (typeof o.peerIdentity.publicKey !== 'string' || typeof o.templateKey !== 'string') return {};
  return { peerKey: o.peerIdentity.publicKey, templateKey: o.templateKey };
}

/**
 * Records what our own action (a request, an acceptance, a reject…) did to a relationship, from the
 * record the Backbone answered with. Not a change for the trigger: it reports what peers do.
 */
export async function recordOwnAction(ctx: Participant, dto: RelationshipDto, extra: Partial<RelationshipEntry> = {}): Promise<void> {
  await openRegistry(ctx);
  await ctx.store.update(() => {
    const current = ctx.registry.get(dto.id);
    const entry = entryFromRecord(ctx.identity.address, dto, current);
    if (!entry) throw new ProtocolError('protocol.relationship.invalid', `relationship ${dto.id} does not involve this identity`, dto.id);
    const updated: RelationshipEntry = { ...entry, ...extra };
    const keys = new Set([...Object.keys(updated), ...Object.keys(current ?? {})]) as Set<keyof RelationshipEntry>;
    const same = current && [...keys].every((k) => current[k] === updated[k]);
    return { changes: same ? [] : [entryChange(updated, 'keep')], result: undefined };
  });
}

