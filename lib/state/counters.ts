import { CryptoError, MAX_COUNTER } from '../crypto';
import { DatawalletEntryError, type Change, type DatawalletStore } from './datawallet';
import { POISONED_COUNTER, entryChange, type RelationshipEntries } from './relationship-entries';

/**
 * Transmit counters of counter-mode keys (one per relationship and direction we send in). A
 * (key, counter) pair must never be used twice — with XChaCha20-Poly1305 that would reveal
 * plaintexts and allow forgeries. (The reference client reuses counter 0 for every message key to a
 * peer; we do not.)
 *
 * Counters are reserved in blocks through the datawallet's compare-and-swap, *before* use: the
 * relationship's object records the next counter not yet reserved (`next`), and a reservation is
 * durable before any ciphertext with those counters exists. Unused counters of a block (after a
 * crash or restart) are simply never used. Within one process, concurrent sends share the block.
 * Counter 0 of every relationship is left for the creation response (acceptance).
 *
 * Fail closed: a relationship whose object is missing or invalid gets no counter (no restart at 1).
 * Identities that earlier versions used kept counter blocks in `n8n.counters`, unbound, so their
 * values may have been swapped between relationships: a reservation starts above the highest of them
 * all, and (on any identity an earlier version used) writes that relationship's old block as
 * exhausted, so a worker still running an earlier version stops sending on it instead of starting
 * its counters over.
 */

interface Block {
  next: number;
  end: number;
}

const FIRST = 1;

export class CounterReservations {
  private readonly blocks = new Map<string, Block>();
  private readonly pending = new Map<string, Promise<Block>>();
  /** Counters handed out and blocks reserved (tests). */
  readonly stats = { handedOut: 0, blocksReserved: 0 };

  constructor(
    private readonly store: DatawalletStore,
    private readonly entries: RelationshipEntries,
    private readonly blockSize = 16,
  ) {}

  /** The next unused transmit counter of a relationship, durably reserved. */
  async next(relationshipId: string): Promise<number> {
    for (;;) {
      const block = this.blocks.get(relationshipId);
      if (block && block.next < block.end) {
        this.stats.handedOut++;
        return block.next++;
      }
      let reserving = this.pending.get(relationshipId);
      if (!reserving) {
        reserving = this.reserve(relationshipId).finally(() => this.pending.delete(relationshipId));
        this.pending.set(relationshipId, reserving);
      }
      this.blocks.set(relationshipId, await reserving);
    }
  }

  private async reserve(relationshipId: string): Promise<Block> {
    const block = await this.store.update(() => {
      const entry = this.entries.get(relationshipId);
      if (!entry) throw new DatawalletEntryError(`n8n.relationships/${relationshipId}`, 'is missing, so no counter can be reserved for it');
      const from = Math.max(entry.next ?? FIRST, this.entries.counterFloor);
      if (from > MAX_COUNTER) {
        throw new CryptoError('crypto.cipher.counterOutOfRange', `relationship ${relationshipId} has used all 2^32 counters`);
      }
      const end = Math.min(from + this.blockSize, MAX_COUNTER + 1);
      const peerPublic = entry.peerPublic ?? this.entries.verifiedPeerPublic.get(relationshipId);
      const changes: Change[] = [entryChange({ ...entry, peerPublic, next: end }, 'keep')];
      if (this.entries.usedByEarlierVersion && this.entries.legacyCounter(relationshipId) !== POISONED_COUNTER) {
        changes.push({ collection: 'n8n.counters', id: relationshipId, value: { next: POISONED_COUNTER }, unbound: true });
      }
      return { changes, result: { next: from, end } };
    });
    this.stats.blocksReserved++;
    this.entries.verifiedPeerPublic.delete(relationshipId);
    return block;
  }
}
