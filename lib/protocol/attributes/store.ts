import { sha256, toBase64Url } from '../../crypto';
import type { Change } from '../../state/datawallet';
import { emptyPeerAttributes, type KnownAttributes, type OwnAttributeRecord, type PeerAttributes } from '../app';
import type { Participant } from '../participant';

/**
 * Attributes in the datawallet (collection `n8n.attributes`), where every worker using the
 * credential sees them, encrypted like the rest of our state:
 *
 *   own            our identity attributes, all versions             (one object)
 *   peer.<hash>    per peer: what it gave us, what we shared with it,
 *                  the attributes of our relationship                 (one object per peer)
 *
 * So the number of objects is bounded by the number of peers plus one, whatever the traffic. The
 * hash (22 characters of SHA-256 of the address) keeps object identifiers short and fixed-length
 * whatever the Platform's host name. Each list is bounded too (MAX_RECORDS): beyond it, the oldest
 * replaced or deleted versions go first, then the oldest entries.
 */

export const ATTRIBUTES = 'n8n.attributes' as const;
const OWN = 'own';
/** Records kept per list (own attributes; per peer: received, shared, relationship). */
export const MAX_RECORDS = 200;

export const peerObjectId = (address: string): string => `peer.${toBase64Url(sha256(address)).slice(0, 22)}`;

interface OwnObject {
  v: 1;
  own: OwnAttributeRecord[];
}

interface PeerObject extends PeerAttributes {
  v: 1;
}

/** Our own identity attributes as this process last read them (call `ctx.store.refresh()` first for the newest). */
export function ownAttributes(ctx: Participant): OwnAttributeRecord[] {
  const stored = ctx.store.get(ATTRIBUTES, OWN)?.value as Partial<OwnObject> | undefined;
  return Array.isArray(stored?.own) ? structuredClone(stored.own) : [];
}

/** What we know about attributes with `peer` as this process last read it. */
export function peerAttributes(ctx: Participant, peer: string): PeerAttributes {
  const stored = ctx.store.get(ATTRIBUTES, peerObjectId(peer))?.value as Partial<PeerObject> | undefined;
  if (!stored || stored.peer !== peer) return emptyPeerAttributes(peer);
  return {
    peer,
    received: Array.isArray(stored.received) ? structuredClone(stored.received) : [],
    shared: Array.isArray(stored.shared) ? structuredClone(stored.shared) : [],
    relationship: Array.isArray(stored.relationship) ? structuredClone(stored.relationship) : [],
  };
}

/** Every peer we know attributes of. */
export function allPeerAttributes(ctx: Participant): PeerAttributes[] {
  const out: PeerAttributes[] = [];
  for (const id of ctx.store.ids(ATTRIBUTES)) {
    if (!id.startsWith('peer.')) continue;
    const stored = ctx.store.get(ATTRIBUTES, id)?.value as Partial<PeerObject> | undefined;
    if (typeof stored?.peer === 'string') out.push(peerAttributes(ctx, stored.peer));
  }
  return out;
}

/** The view a Request or Response with `peer` works on (with our relationship attributes with other peers). */
export function knownAttributes(ctx: Participant, peer: string): KnownAttributes {
  return {
    ownAddress: ctx.address,
    own: ownAttributes(ctx),
    peer: peerAttributes(ctx, peer),
    thirdParties: allPeerAttributes(ctx).filter((p) => p.peer !== peer),
  };
}

/** Drops the oldest replaced or deleted records, then the oldest ones, beyond `max`. */
function bounded<T extends { succeededBy?: string; deletedAt?: string; deletionDate?: string }>(records: T[], max = MAX_RECORDS): T[] {
  const out = [...records];
  for (let i = 0; out.length > max && i < out.length; ) {
    if (out[i].succeededBy || out[i].deletedAt || out[i].deletionDate) out.splice(i, 1);
    else i++;
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/** The datawallet changes that turn `before` into `after` (only the objects that changed). */
export function attributeChanges(before: KnownAttributes, after: KnownAttributes): Change[] {
  const changes: Change[] = [];
  if (JSON.stringify(before.own) !== JSON.stringify(after.own)) {
    changes.push({ collection: ATTRIBUTES, id: OWN, value: { v: 1, own: bounded(after.own) } satisfies OwnObject });
  }
  if (JSON.stringify(before.peer) !== JSON.stringify(after.peer)) {
    const p = after.peer;
    const value: PeerObject = { v: 1, peer: p.peer, received: bounded(p.received), shared: bounded(p.shared), relationship: bounded(p.relationship) };
    changes.push({ collection: ATTRIBUTES, id: peerObjectId(p.peer), value });
  }
  return changes;
}
