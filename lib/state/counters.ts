import { CryptoError, MAX_COUNTER } from '../crypto';
import type { DatawalletStore } from './datawallet';

/**
 * Transmit counters of counter-mode keys (one per relationship and direction we send in). A
 * (key, counter) pair must never be used twice — with XChaCha20-Poly1305 that would reveal
 * plaintexts and allow forgeries. (The reference client reuses counter 0 for every message key to a
 * peer; we do not.)
 *
 * Counters are reserved in blocks through the datawallet's compare-and-swap, *before* use: a
 * reservation is durable before any ciphertext with those counters exists. Unused counters of a
 * block (after a crash or restart) are simply never used. Within one process, concurrent sends share
 * the block. Counter 0 of every relationship is left for the creation response (acceptance).
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
      const stored = this.store.get('n8n.counters', relationshipId) as { next?: unknown } | undefined;
      const from = typeof stored?.next === 'number' ? stored.next : FIRST;
      const end = Math.min(from + this.blockSize, MAX_COUNTER + 1);
      if (from > MAX_COUNTER) {
        throw new CryptoError('crypto.cipher.counterOutOfRange', `relationship ${relationshipId} has used all 2^32 counters`);
      }
      return { changes: [{ collection: 'n8n.counters' as const, id: relationshipId, value: { next: end } }], result: { next: from, end } };
    });
    this.stats.blocksReserved++;
    return block;
  }
}
