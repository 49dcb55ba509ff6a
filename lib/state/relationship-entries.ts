import { MAX_COUNTER, isValidAddress } from '../crypto';
import type { RelationshipDto, RelationshipStatus } from '../backbone';
import { DatawalletEntryError, type Change, type DatawalletStore, type StoredObject } from './datawallet';

/**
 * One datawallet object per relationship, `n8n.relationships/<REL id>`: what finding and using a
 * relationship needs and nothing that can be recomputed — who the peer is, our role, the status as
 * last recorded, the public salt our own keys for it derive from, and the next transmit counter not
 * yet reserved. Keys are not stored (derived from the identity secret, the salt and the record).
 *
 * `changedIndex` is the datawallet index of the modification that recorded the last change the peer
 * (or the Platform) made: a new relationship or a new status. Counter reservations and our own
 * actions carry it over unchanged. A modification that records such a change leaves it out, and the
 * reader takes the modification's own index — assigned by the Backbone, so no writer has to predict
 * it. "What changed since index W" is then answerable from the store alone (the trigger).
 *
 * `RelationshipEntries` is this process's index over the objects, kept current by every read and
 * push of the store: peer → relationship ids, id → entry. Building it is O(N) once, at the first
 * read of the datawallet; every lookup after that is O(1).
 */

export type RelationshipRole = 'templator' | 'requestor';

const ROLES: readonly string[] = ['templator', 'requestor'];
const PEER_DELETION: readonly string[] = ['ToBeDeleted', 'Cancelled', 'Deleted'];

/** The peer deletion events of the Backbone (PeerToBeDeleted, PeerDeletionCancelled, PeerDeleted), as a status. */
export type PeerDeletionStatus = 'ToBeDeleted' | 'Cancelled' | 'Deleted';
const STATUSES: readonly string[] = ['Pending', 'Active', 'Rejected', 'Revoked', 'Terminated', 'DeletionProposed', 'ReadyForDeletion'];

export interface RelationshipEntry {
  id: string;
  peer: string;
  role: RelationshipRole;
  templateId: string;
  status: RelationshipStatus;
  /** The status before the last recorded change. */
  previousStatus?: RelationshipStatus;
  createdAt: string;
  /** Index of the modification that recorded the last change by the peer; -1 when there was none (our own request). */
  changedIndex: number;
  /** Base64url of our public salt: N_B (requestor), N_A once we accepted (templator). */
  salt?: string;
  /** The next transmit counter not yet reserved (absent: none reserved; counter 0 belongs to the acceptance). */
  next?: number;
  /** Where the peer's identity deletion stands, as the Backbone's last event about it said (absent: no event). */
  peerDeletion?: PeerDeletionStatus;
  /** When the peer's identity will be (or was) deleted, as that event said. */
  peerDeletionDate?: string;
  /** `peerDeletion` before the last recorded change (a change that reports it differs). */
  previousPeerDeletion?: PeerDeletionStatus;
  /** Templator: the DisplayName the peer shared in its request, kept when we accepted it (for pickers and outputs). */
  peerName?: string;
  /** Requestor: the template's exchange key and its creator's identity key (base64url), to re-read our own request. */
  templateKey?: string;
  peerKey?: string;
  /**
   * The peer's public keys of the accepted relationship, as the record carried them when this
   * identity verified the acceptance (JSON: the request's public part for the templator, the
   * response's for the requestor). With `salt` they give the relationship's keys without reading
   * the record again.
   */
  peerPublic?: string;
}

/** How a write relates to the trigger's notion of change. */
export type EntryWrite =
  /** A change by the peer or the Platform (new relationship, new status): the trigger reports it. */
  | 'change'
  /** Our own action or a counter reservation: the last change stays what it was. */
  | 'keep';

/** The change that stores `entry`. */
export function entryChange(entry: RelationshipEntry, write: EntryWrite): Change {
  const { id, changedIndex, ...value } = entry;
  const stored: Record<string, unknown> = { ...value };
  if (write === 'keep') stored.changedIndex = changedIndex;
  for (const k of Object.keys(stored)) if (stored[k] === undefined) delete stored[k];
  return { collection: 'n8n.relationships', id, value: stored };
}

/**
 * What an upgrade writes for a relationship of an earlier version whose record is gone (e.g.
 * decomposed): the old object is replaced, and the relationship is no longer ours to use.
 */
export function retiredChange(id: string): Change {
  return { collection: 'n8n.relationships', id, value: { retired: true } };
}

/**
 * The entry the Backbone's record gives (salt, counters and the rest carried over from `base`): who
 * the peer is and our role follow from whether we are `to` (templator) or `from` (requestor).
 * Undefined when the record does not involve `address`.
 */
export function entryFromRecord(address: string, dto: RelationshipDto, base?: RelationshipEntry): RelationshipEntry | undefined {
  if (dto.to !== address && dto.from !== address) return undefined;
  const role: RelationshipRole = dto.to === address ? 'templator' : 'requestor';
  return {
    ...base,
    id: dto.id,
    peer: role === 'templator' ? dto.from : dto.to,
    role,
    templateId: dto.relationshipTemplateId,
    status: dto.status,
    createdAt: dto.createdAt,
    changedIndex: base?.changedIndex ?? -1,
  };
}

function parseEntry(id: string, stored: StoredObject): RelationshipEntry | undefined {
  const v = stored.value as Record<string, unknown> | null;
  const bad = (field: string): DatawalletEntryError => new DatawalletEntryError(`n8n.relationships/${id}`, `has no valid "${field}"`, stored.index);
  if (!v || typeof v !== 'object') throw bad('value');
  if (v.retired === true) return undefined;
  const text = (field: string, optional = false): string | undefined => {
    const x = v[field];
    if (x === undefined && optional) return undefined;
    if (typeof x !== 'string' || x.length === 0 || x.length > 1000) throw bad(field);
    return x;
  };
  const integer = (field: string, min: number, max: number): number | undefined => {
    const x = v[field];
    if (x === undefined) return undefined;
    if (!Number.isInteger(x) || (x as number) < min || (x as number) > max) throw bad(field);
    return x as number;
  };
  const oneOf = (field: string, allowed: readonly string[]): string | undefined => {
    const x = text(field, true);
    if (x !== undefined && !allowed.includes(x)) throw bad(field);
    return x;
  };
  const peer = text('peer')!;
  if (!isValidAddress(peer)) throw bad('peer');
  const role = text('role')!;
  if (!ROLES.includes(role)) throw bad('role');
  const status = text('status')!;
  if (!STATUSES.includes(status)) throw bad('status');
  const previousStatus = text('previousStatus', true);
  if (previousStatus !== undefined && !STATUSES.includes(previousStatus)) throw bad('previousStatus');
  const changedIndex = integer('changedIndex', -1, stored.index) ?? stored.index;
  return {
    id,
    peer,
    role: role as RelationshipRole,
    templateId: text('templateId')!,
    status: status as RelationshipStatus,
    previousStatus: previousStatus as RelationshipStatus | undefined,
    createdAt: text('createdAt')!,
    changedIndex,
    salt: text('salt', true),
    next: integer('next', 1, MAX_COUNTER + 1),
    templateKey: text('templateKey', true),
    peerKey: text('peerKey', true),
    peerPublic: text('peerPublic', true),
    peerName: text('peerName', true),
    peerDeletion: oneOf('peerDeletion', PEER_DELETION) as PeerDeletionStatus | undefined,
    peerDeletionDate: text('peerDeletionDate', true),
    previousPeerDeletion: oneOf('previousPeerDeletion', PEER_DELETION) as PeerDeletionStatus | undefined,
  };
}

/** Newest first: by createdAt, then id (ids of one instant in a fixed order). */
const newestFirst = (a: RelationshipEntry, b: RelationshipEntry): number =>
  a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id === b.id ? 0 : a.id < b.id ? 1 : -1;

/** What a search of the pickers looks in: the peer's name and address, the id and the status, in lower case, on one line. */
const searchTextOf = (entry: RelationshipEntry): string =>
  `${entry.peerName ? `${entry.peerName.replace(/\s+/g, ' ')} ` : ''}${entry.peer} ${entry.id} ${entry.status}`.toLowerCase();

/**
 * Every entry newest first, as arrays, and their search texts joined by newlines into one string:
 * a search is then one native substring scan of that string, not a loop over N entries.
 */
interface Listing {
  entries: RelationshipEntry[];
  text: string;
  /** Where each entry's text starts in `text`. */
  starts: number[];
}

/** The layout marker: present once every relationship object of the identity is bound and complete. */
export const LAYOUT = { collection: 'n8n.layout' as const, id: 'relationships', value: { version: 2 } };

/** What earlier versions wrote as a counter block ({next}); poisoned ones stop those versions from sending. */
export const POISONED_COUNTER = MAX_COUNTER + 1;

export class RelationshipEntries {
  private readonly entries = new Map<string, RelationshipEntry | DatawalletEntryError>();
  private readonly byPeer = new Map<string, Set<string>>();
  /** `peerPublic` this process verified for entries that lack it: the entry's next counter reservation writes it too. */
  readonly verifiedPeerPublic = new Map<string, string>();

  /** Rebuilt on demand after an entry came, went, or changed what a listing shows (not after counter reservations). */
  private listing: Listing | undefined;
  private invalid = 0;
  /** Counter blocks earlier versions reserved, per relationship id (`n8n.counters`). */
  private readonly legacyCounters = new Map<string, number>();
  private legacyFloor = 0;
  private earlierVersion = false;
  /** Whether the layout marker is present. */
  private marked = false;
  /** Relationship objects in the format of earlier versions (unbound): id → value, to migrate. */
  private readonly unbound = new Map<string, unknown>();

  constructor(private readonly store: DatawalletStore) {
    store.onChange((collection, id, stored) => this.changed(collection, id, stored));
  }

  /** Whether this identity's objects are all in this layout (the marker is present). */
  get complete(): boolean {
    return this.marked;
  }

  /** Relationship objects of earlier versions (id → their unbound value). */
  get legacy(): ReadonlyMap<string, unknown> {
    return this.unbound;
  }

  /** The entry of a relationship, undefined when there is none. Throws DatawalletEntryError when it is invalid. */
  get(id: string): RelationshipEntry | undefined {
    const entry = this.entries.get(id);
    if (entry instanceof DatawalletEntryError) throw entry;
    return entry;
  }

  /** The entry of a relationship when it has a valid one; undefined when it has none or an invalid one. */
  find(id: string): RelationshipEntry | undefined {
    const entry = this.entries.get(id);
    return entry instanceof DatawalletEntryError ? undefined : entry;
  }

  /**
   * The relationships with a peer, youngest first. Throws while any relationship object is invalid:
   * whose it was cannot be known, so no lookup by peer can be sure it found the right one.
   */
  withPeer(peer: string): RelationshipEntry[] {
    this.assertAllValid();
    return [...(this.byPeer.get(peer) ?? [])].map((id) => this.entries.get(id) as RelationshipEntry).sort(newestFirst);
  }

  /** Every entry, newest first. Throws while any relationship object is invalid. */
  newestFirst(): readonly RelationshipEntry[] {
    return this.currentListing().entries;
  }

  /**
   * Positions (in `newestFirst()`) of the entries whose peer name or address, id or status contains `needle`
   * (lower case), in order.
   */
  search(needle: string): number[] {
    const { text, starts } = this.currentListing();
    const found: number[] = [];
    if (needle.includes('\n')) return found; // the separator: it is in no entry's text
    for (let at = text.indexOf(needle); at >= 0; ) {
      // the entry whose text holds position `at`: the last start ≤ at
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= at) lo = mid;
        else hi = mid - 1;
      }
      found.push(lo);
      const next = lo + 1 < starts.length ? starts[lo + 1] : text.length;
      at = text.indexOf(needle, next);
    }
    return found;
  }

  private currentListing(): Listing {
    this.assertAllValid();
    if (!this.listing) {
      const entries = [...this.entries.values()].map((e) => e as RelationshipEntry).sort(newestFirst);
      const starts: number[] = [];
      let length = 0;
      const texts = entries.map((e) => {
        const text = searchTextOf(e);
        starts.push(length);
        length += text.length + 1;
        return text;
      });
      this.listing = { entries, text: texts.join('\n'), starts };
    }
    return this.listing;
  }

  /** The lowest counter a reservation may hand out, given the counter blocks earlier versions reserved. */
  get counterFloor(): number {
    return this.legacyFloor;
  }

  /** Whether an earlier version used this identity (its counters or event hints are there): each reservation then also poisons its block. */
  get usedByEarlierVersion(): boolean {
    return this.earlierVersion;
  }

  legacyCounter(id: string): number | undefined {
    return this.legacyCounters.get(id);
  }

  /** The relationship objects that are invalid, as the errors reading them throw. */
  invalidEntries(): DatawalletEntryError[] {
    if (this.invalid === 0) return [];
    return [...this.entries.values()].filter((e): e is DatawalletEntryError => e instanceof DatawalletEntryError);
  }

  /** Entries whose last change was recorded after datawallet index `after`, oldest change first. */
  changedAfter(after: number): RelationshipEntry[] {
    const changed: RelationshipEntry[] = [];
    for (const entry of this.entries.values()) if (!(entry instanceof DatawalletEntryError) && entry.changedIndex > after) changed.push(entry);
    return changed.sort((a, b) => a.changedIndex - b.changedIndex);
  }

  private assertAllValid(): void {
    if (this.invalid === 0) return;
    for (const entry of this.entries.values()) if (entry instanceof DatawalletEntryError) throw entry;
  }

  private changed(collection: string, id: string, stored: StoredObject | DatawalletEntryError): void {
    if (collection === LAYOUT.collection && id === LAYOUT.id) {
      this.marked = !(stored instanceof DatawalletEntryError);
      if (this.marked) this.store.requireBinding('n8n.relationships');
      return;
    }
    if (collection === 'n8n.relationshipEvents') {
      this.earlierVersion = true;
      return;
    }
    if (collection === 'n8n.counters') {
      this.earlierVersion = true;
      const next = stored instanceof DatawalletEntryError ? undefined : (stored.value as { next?: unknown } | null)?.next;
      if (typeof next === 'number' && Number.isInteger(next)) {
        this.legacyCounters.set(id, next);
        if (next < POISONED_COUNTER) this.legacyFloor = Math.max(this.legacyFloor, next);
      }
      return;
    }
    if (collection !== 'n8n.relationships') return;
    this.unbound.delete(id);
    if (!(stored instanceof DatawalletEntryError) && !stored.bound) {
      this.set(id, undefined);
      this.unbound.set(id, stored.value);
      return;
    }
    let entry: RelationshipEntry | DatawalletEntryError | undefined;
    try {
      entry = stored instanceof DatawalletEntryError ? stored : parseEntry(id, stored);
    } catch (error) {
      if (!(error instanceof DatawalletEntryError)) throw error;
      entry = error;
    }
    this.set(id, entry);
  }

  private set(id: string, entry: RelationshipEntry | DatawalletEntryError | undefined): void {
    const old = this.entries.get(id);
    if (old instanceof DatawalletEntryError) this.invalid--;
    else if (old) this.unlink(old);
    if (entry === undefined) this.entries.delete(id);
    else this.entries.set(id, entry);
    const shown = (e: typeof entry | typeof old): string | undefined => (e && !(e instanceof DatawalletEntryError) ? `${e.createdAt} ${searchTextOf(e)}` : undefined);
    if (old === undefined || entry === undefined || shown(old) !== shown(entry)) this.listing = undefined;
    else if (this.listing && !(entry instanceof DatawalletEntryError)) this.listing.entries[this.listing.entries.indexOf(old as RelationshipEntry)] = entry;
    if (entry instanceof DatawalletEntryError) {
      this.invalid++;
    } else if (entry) {
      let ids = this.byPeer.get(entry.peer);
      if (!ids) this.byPeer.set(entry.peer, (ids = new Set()));
      ids.add(id);
    }
  }

  private unlink(entry: RelationshipEntry): void {
    const ids = this.byPeer.get(entry.peer);
    ids?.delete(entry.id);
    if (ids?.size === 0) this.byPeer.delete(entry.peer);
  }
}
