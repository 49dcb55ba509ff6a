import { cipherToJson, decrypt, encrypt, fromUtf8, parseCipher, toBase64, utf8, type SecretKey } from '../crypto';
import { PlatformCodes, PlatformError, isPlatformError, type DatawalletModificationInput, type PlatformClient } from '../backbone';

/**
 * The identity's durable state, kept in the Backbone datawallet — the one store that every n8n
 * worker using this credential shares, and that survives restarts.
 *
 * The datawallet is an append-only log of modifications with gapless indexes; a push must name the
 * latest index it has seen (`localIndex`), or the Backbone refuses it with datawalletNotUpToDate.
 * That is a compare-and-swap over the whole wallet: `update()` reads what is new, lets the caller
 * compute its change from the current state, pushes, and on a conflict reads again and recomputes.
 * While any sync run of the identity is open the Backbone refuses pushes; `update()` waits and, if
 * a run stays open (a crashed poller leaves one until the next run starts), asks `unblock` to run a
 * sync, which finalizes or cancels it.
 *
 * Payloads are JSON, encrypted with a key derived from the identity secret (random nonces).
 * Objects are (collection, id) → value; the Backbone returns only the newest modification per
 * (object, type), which is all we need.
 */

export type Collection = 'n8n.counters' | 'n8n.relationships' | 'n8n.relationshipEvents' | 'n8n.sends' | 'n8n.read' | 'n8n.attributes' | 'n8n.requests';

export interface Change {
  collection: Collection;
  id: string;
  /** undefined deletes the object. */
  value: unknown;
}

export interface DatawalletStoreOptions {
  /** Called when pushes stay blocked by an open sync run; should run and finalize a sync. */
  unblock?: () => Promise<void>;
  /** Attempts before giving up (conflicts and sync-run locks together). */
  maxAttempts?: number;
  /** How long to wait for another run to finish before calling `unblock`. */
  lockWaitMs?: number;
}

const key = (collection: string, id: string): string => `${collection}\u0000${id}`;

/**
 * The Backbone returns only the newest modification per (objectIdentifier, type, payloadCategory) —
 * the collection is not part of that key. Our collections share ids (a relationship id names both its
 * counter block and its registry entry), so with the bare id as objectIdentifier the newer of the two
 * would hide the other from every later reader: a fresh process would lose the registry entry (no
 * relationship to send on) or, worse, the counter block (counters restarting at 1: nonce reuse). So
 * the objectIdentifier names the collection too. An object stored under a bare id is still read, so a
 * datawallet that holds such objects keeps them.
 */
const objectIdentifier = (collection: Collection, id: string): string => `${collection}/${id}`;
const idOf = (collection: string, objectId: string): string =>
  objectId.startsWith(`${collection}/`) ? objectId.slice(collection.length + 1) : objectId;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class DatawalletStore {
  private localIndex = -1;
  private readonly objects = new Map<string, unknown>();
  private readonly options: Required<Omit<DatawalletStoreOptions, 'unblock'>> & Pick<DatawalletStoreOptions, 'unblock'>;
  /** Pushes made, conflicts met (tests, benchmarks). */
  readonly stats = { pushes: 0, conflicts: 0, lockWaits: 0 };

  constructor(
    private readonly client: PlatformClient,
    private readonly payloadKey: SecretKey,
    options: DatawalletStoreOptions = {},
  ) {
    this.options = { maxAttempts: 50, lockWaitMs: 12_000, ...options };
  }

  /** Reads the modifications the Backbone has beyond what we have seen. */
  async refresh(): Promise<void> {
    for await (const modification of this.client.datawalletModifications(this.localIndex)) {
      if (modification.index <= this.localIndex) continue;
      this.localIndex = modification.index;
      if (!modification.collection.startsWith('n8n.')) continue;
      const k = key(modification.collection, idOf(modification.collection, modification.objectIdentifier));
      if (modification.type === 'Delete' || !modification.encryptedPayload) {
        this.objects.delete(k);
      } else {
        this.objects.set(k, this.decode(modification.encryptedPayload));
      }
    }
  }

  get(collection: Collection, id: string): unknown {
    return this.objects.get(key(collection, id));
  }

  ids(collection: Collection): string[] {
    const prefix = `${collection}\u0000`;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /**
   * Compare-and-swap: `compute` sees the current state and returns the changes to make (or none);
   * it may run several times, so it must not have side effects. Returns what `compute` returned
   * last, i.e. the changes that were stored.
   */
  async update<R>(compute: () => { changes: Change[]; result: R }): Promise<R> {
    let lockedSince: number | undefined;
    let unblocked = false;
    for (let attempt = 1; ; attempt++) {
      await this.refresh();
      const { changes, result } = compute();
      if (changes.length === 0) return result;
      try {
        const pushed = await this.client.pushDatawalletModifications(this.localIndex, changes.map((c) => this.encode(c)));
        this.stats.pushes++;
        // The compare-and-swap held, so the indexes up to newIndex are exactly ours: apply them here.
        if (pushed.newIndex === this.localIndex + changes.length) {
          for (const change of changes) {
            if (change.value === undefined) this.objects.delete(key(change.collection, change.id));
            else this.objects.set(key(change.collection, change.id), change.value);
          }
          this.localIndex = pushed.newIndex;
        }
        return result;
      } catch (error) {
        if (attempt >= this.options.maxAttempts) throw error;
        if (isPlatformError(error, PlatformCodes.datawalletNotUpToDate)) {
          this.stats.conflicts++;
          await sleep(Math.random() * 20 * Math.min(attempt, 10));
          continue;
        }
        if (isPlatformError(error, PlatformCodes.pushDuringSyncRun)) {
          this.stats.lockWaits++;
          lockedSince ??= Date.now();
          if (!unblocked && this.options.unblock && Date.now() - lockedSince > this.options.lockWaitMs) {
            unblocked = true;
            await this.options.unblock();
            continue;
          }
          await sleep(100 + Math.random() * 200);
          continue;
        }
        throw error;
      }
    }
  }

  /** Modifications to append when finalizing a sync run (no localIndex check there). */
  encode(change: Change): DatawalletModificationInput {
    return {
      type: change.value === undefined ? 'Delete' : 'Update',
      objectIdentifier: objectIdentifier(change.collection, change.id),
      collection: change.collection,
      payloadCategory: 'Content',
      encryptedPayload: change.value === undefined ? null : toBase64(cipherToJson(encrypt(utf8(JSON.stringify(change.value)), this.payloadKey))),
      datawalletVersion: 1,
    };
  }

  private decode(payload: string): unknown {
    try {
      return JSON.parse(fromUtf8(decrypt(parseCipher(payload, 'datawallet payload'), this.payloadKey, undefined, 'datawallet payload')));
    } catch (error) {
      throw new PlatformError({
        kind: 'malformedResponse',
        code: 'error.client.datawalletUnreadable',
        message: `a datawallet entry of this identity cannot be read (${error instanceof Error ? error.message : 'unknown'}); was the identity secret changed?`,
      });
    }
  }
}
