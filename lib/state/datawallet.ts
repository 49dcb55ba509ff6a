import { cipherToJson, decrypt, encrypt, fromUtf8, parseCipher, toBase64, utf8, type SecretKey } from '../crypto';
import { PlatformCodes, PlatformError, isPlatformError, type DatawalletModificationDto, type DatawalletModificationInput, type PlatformClient } from '../backbone';

/**
 * The identity's durable state, kept in the Backbone datawallet — the one store that every n8n
 * worker using this credential shares, and that survives restarts.
 *
 * The datawallet is an append-only log of modifications with gapless indexes; a push must name the
 * latest index it has seen (`localIndex`), or the Backbone refuses it with datawalletNotUpToDate.
 * That is a compare-and-swap over the whole wallet: `update()` lets the caller compute its change
 * from the state as this process knows it, pushes, and on a conflict reads what is new and
 * recomputes. While any sync run of the identity is open the Backbone refuses pushes; `update()`
 * waits and, if a run stays open (a crashed poller leaves one until the next run starts), asks
 * `unblock` to run a sync, which finalizes or cancels it.
 *
 * Objects are (collection, id) → value. The Backbone returns only the newest modification per
 * (objectIdentifier, type, payloadCategory), so a first read costs one modification per object, and
 * `refresh()` afterwards reads only what is new. Each object remembers the index of the modification
 * it came from: callers use it as "when was this written".
 *
 * The Platform is not trusted with these objects. A payload is JSON encrypted with a key derived from
 * the identity secret and names the object it belongs to: `{"c": collection, "i": id, "v": value}`.
 * A payload that does not decrypt or parse, that names another object (swapped or moved by the
 * Platform), a type we never write (Create, Delete, …), or an unbound payload in a collection whose
 * layout requires binding, makes that object INVALID: reading it throws `DatawalletEntryError`, so
 * the action that needs it stops instead of starting over from nothing (a counter block read as
 * "absent" would restart at 1). What remains possible — serving an older modification of the same
 * object, or withholding one — is the Platform's rollback, described in docs/security.md ("Durable state").
 */

export type Collection =
  /** One object per relationship (lib/state/relationship-entry.ts). */
  | 'n8n.relationships'
  /** The layout of this identity's objects (bound payloads, one object per relationship). */
  | 'n8n.layout'
  /** Written by versions before the layout marker; read (unbound) and never bound. */
  | 'n8n.counters'
  | 'n8n.relationshipEvents'
  /** Idempotency records of sends (lib/protocol/send-once.ts). */
  | 'n8n.sends'
  /** Read state of messages, one object per day (lib/protocol/read-state.ts). */
  | 'n8n.read'
  /** Attributes, ours and each peer's (lib/protocol/attributes/store.ts). */
  | 'n8n.attributes'
  /** Requests sent and decided, one object per peer (lib/protocol/requests/records.ts). */
  | 'n8n.requests'
  /** What the Backbone said of our templates, one object per template (lib/protocol/sync.ts). */
  | 'n8n.templates';

/** Collections that no version ever wrote unbound: an unbound payload in them is the Platform's. */
const ALWAYS_BOUND: readonly Collection[] = ['n8n.sends', 'n8n.read', 'n8n.attributes', 'n8n.requests', 'n8n.templates'];

export interface Change {
  collection: Collection;
  id: string;
  value: unknown;
  /** The format of earlier versions (no binding): only for writing into their collections. */
  unbound?: boolean;
}

/** An object as read: its value, the index of the modification it came from, and whether its payload named it. */
export interface StoredObject {
  value: unknown;
  index: number;
  bound: boolean;
}

interface InvalidObject {
  invalid: string;
  index: number;
}

type Slot = StoredObject | InvalidObject;

export interface DatawalletStoreOptions {
  /** Called when pushes stay blocked by an open sync run; should run and finalize a sync. */
  unblock?: () => Promise<void>;
  /** Attempts before giving up (conflicts and sync-run locks together). */
  maxAttempts?: number;
  /** How long to wait for another run to finish before calling `unblock`. */
  lockWaitMs?: number;
}

/** Called for every object a read or a push changes (after the change); an invalid object comes as the error reading it throws. */
export type ObjectListener = (collection: string, id: string, stored: StoredObject | DatawalletEntryError) => void;

/** An object of this identity's datawallet is unreadable, moved or swapped: the action that needs it stops. */
export class DatawalletEntryError extends PlatformError {
  readonly objectIdentifier: string;
  /** Index of the modification that made the object invalid, when known. */
  readonly index?: number;
  constructor(objectIdentifier: string, why: string, index?: number) {
    super({
      kind: 'malformedResponse',
      code: PlatformCodes.datawalletEntryInvalid,
      message:
        `The datawallet entry ${objectIdentifier} of this identity ${why}. Nothing was done with it: ` +
        'the Platform changed this identity\'s stored state, a worker still runs an earlier version of these nodes, ' +
        'or the credential holds another identity secret than the one that wrote it.',
    });
    this.name = 'DatawalletEntryError';
    this.objectIdentifier = objectIdentifier;
    this.index = index;
  }
}

const key = (collection: string, id: string): string => `${collection}\u0000${id}`;

const UNBOUND = 'carries no binding to its place, which this identity\'s layout requires';

/**
 * The objectIdentifier names the collection too (`<collection>/<id>`): the Backbone keeps only the
 * newest modification per objectIdentifier, so objects of two collections sharing an id must not share it.
 */
const objectIdentifier = (collection: string, id: string): string => `${collection}/${id}`;

/** Collection and id of an objectIdentifier; earlier versions also wrote bare ids (collection from the modification). */
function locate(m: DatawalletModificationDto): { collection: string; id: string } {
  const slash = m.objectIdentifier.indexOf('/');
  if (slash < 0) return { collection: m.collection, id: m.objectIdentifier };
  return { collection: m.objectIdentifier.slice(0, slash), id: m.objectIdentifier.slice(slash + 1) };
}

function isBound(json: unknown): json is { c: unknown; i: unknown; v: unknown } {
  return !!json && typeof json === 'object' && !Array.isArray(json) && 'c' in json && 'i' in json && 'v' in json;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class DatawalletStore {
  private localIndex = -1;
  private read = false;
  private readonly objects = new Map<string, Slot>();
  private readonly listeners: ObjectListener[] = [];
  /** Collections in which an unbound payload is refused (their layout binds every payload). */
  private readonly boundOnly = new Set<string>(ALWAYS_BOUND);
  private readonly options: Required<Omit<DatawalletStoreOptions, 'unblock'>> & Pick<DatawalletStoreOptions, 'unblock'>;
  /** Pushes made, conflicts met; modifications and payload bytes read (tests, benchmarks). */
  readonly stats = { pushes: 0, conflicts: 0, lockWaits: 0, modificationsRead: 0, payloadBytesRead: 0 };

  constructor(
    private readonly client: PlatformClient,
    private readonly payloadKey: SecretKey,
    options: DatawalletStoreOptions = {},
  ) {
    this.options = { maxAttempts: 50, lockWaitMs: 12_000, ...options };
  }

  /** Whether the datawallet was read at least once by this process. */
  get opened(): boolean {
    return this.read;
  }

  /** Index of the newest modification this process has read or written (-1: none). */
  get latestIndex(): number {
    return this.localIndex;
  }

  /** Reads the modifications the Backbone has beyond what we have seen. */
  async refresh(): Promise<void> {
    for await (const modification of this.client.datawalletModifications(this.localIndex)) {
      if (!Number.isInteger(modification.index)) {
        throw new PlatformError({ kind: 'malformedResponse', code: 'error.client.malformedResponse', message: 'a datawallet modification has no index' });
      }
      if (modification.index <= this.localIndex) continue;
      this.localIndex = modification.index;
      if (typeof modification.collection !== 'string' || !modification.collection.startsWith('n8n.') || typeof modification.objectIdentifier !== 'string') continue;
      this.stats.modificationsRead++;
      this.stats.payloadBytesRead += modification.encryptedPayload?.length ?? 0;
      const { collection, id } = locate(modification);
      this.apply(collection, id, this.decode(modification, collection, id));
    }
    this.read = true;
  }

  /** Reads refuse unbound payloads in this collection from now on (its layout binds them all). */
  requireBinding(collection: Collection): void {
    this.boundOnly.add(collection);
    for (const [k, slot] of this.objects) {
      if (k.startsWith(`${collection}\u0000`) && 'bound' in slot && !slot.bound) {
        const id = k.slice(collection.length + 1);
        this.apply(collection, id, { invalid: UNBOUND, index: slot.index });
      }
    }
  }

  /** Calls `listener` for every object that changes from now on. */
  onChange(listener: ObjectListener): void {
    this.listeners.push(listener);
  }

  /** The object, or undefined when there is none. Throws DatawalletEntryError when it is invalid. */
  get(collection: Collection, id: string): StoredObject | undefined {
    const slot = this.objects.get(key(collection, id));
    if (slot && 'invalid' in slot) throw new DatawalletEntryError(objectIdentifier(collection, id), slot.invalid, slot.index);
    return slot;
  }

  /** Ids of the collection's objects, valid or not. */
  ids(collection: Collection): string[] {
    const prefix = `${collection}\u0000`;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /**
   * Compare-and-swap: `compute` sees the current state and returns the changes to make (or none);
   * it may run several times, so it must not have side effects. The first attempt pushes against
   * what this process has read (no read first); a conflict reads what is new and computes again.
   * Returns what `compute` returned last, i.e. the changes that were stored.
   */
  async update<R>(compute: () => { changes: Change[]; result: R }): Promise<R> {
    let lockedSince: number | undefined;
    let unblocked = false;
    if (!this.read) await this.refresh();
    for (let attempt = 1; ; attempt++) {
      const { changes, result } = compute();
      if (changes.length === 0) return result;
      try {
        const pushed = await this.client.pushDatawalletModifications(this.localIndex, changes.map((c) => this.encode(c)));
        this.stats.pushes++;
        // The compare-and-swap held, so the indexes up to newIndex are exactly ours: apply them here.
        if (pushed.newIndex === this.localIndex + changes.length) {
          changes.forEach((change, k) => this.apply(change.collection, change.id, { value: change.value, index: this.localIndex + 1 + k, bound: !change.unbound }));
          this.localIndex = pushed.newIndex;
        } else {
          await this.refresh();
        }
        return result;
      } catch (error) {
        if (attempt >= this.options.maxAttempts) throw error;
        if (isPlatformError(error, PlatformCodes.datawalletNotUpToDate)) {
          this.stats.conflicts++;
          if (attempt > 1) await sleep(Math.random() * 20 * Math.min(attempt, 10));
          await this.refresh();
          continue;
        }
        if (isPlatformError(error, PlatformCodes.pushDuringSyncRun)) {
          this.stats.lockWaits++;
          lockedSince ??= Date.now();
          if (!unblocked && this.options.unblock && Date.now() - lockedSince > this.options.lockWaitMs) {
            unblocked = true;
            await this.options.unblock();
          } else {
            await sleep(100 + Math.random() * 200);
          }
          // The run that blocked us may have written: compute again from what it wrote.
          await this.refresh();
          continue;
        }
        throw error;
      }
    }
  }

  /** The modification for a change, e.g. to append when finalizing a sync run (no localIndex check there). */
  encode(change: Change): DatawalletModificationInput {
    const payload = change.unbound ? change.value : { c: change.collection, i: change.id, v: change.value };
    return {
      type: 'Update',
      objectIdentifier: objectIdentifier(change.collection, change.id),
      collection: change.collection,
      payloadCategory: 'Content',
      encryptedPayload: toBase64(cipherToJson(encrypt(utf8(JSON.stringify(payload)), this.payloadKey))),
      datawalletVersion: 1,
    };
  }

  private apply(collection: string, id: string, slot: Slot): void {
    this.objects.set(key(collection, id), slot);
    const seen = 'invalid' in slot ? new DatawalletEntryError(objectIdentifier(collection, id), slot.invalid, slot.index) : slot;
    for (const listener of this.listeners) listener(collection, id, seen);
  }

  private decode(m: DatawalletModificationDto, collection: string, id: string): Slot {
    const invalid = (why: string): InvalidObject => ({ invalid: why, index: m.index });
    // We only ever write Updates: a Create or a Delete of one of our objects did not come from us.
    if (m.type !== 'Update') return invalid(`is a ${String(m.type)} modification, which this package never writes`);
    if (m.collection !== collection) return invalid(`was moved from the collection ${collection} to ${String(m.collection)}`);
    if (typeof m.encryptedPayload !== 'string') return invalid('has no payload');
    let json: unknown;
    try {
      json = JSON.parse(fromUtf8(decrypt(parseCipher(m.encryptedPayload, 'datawallet payload'), this.payloadKey, undefined, 'datawallet payload')));
    } catch {
      return invalid('cannot be decrypted or read');
    }
    if (!isBound(json)) {
      if (this.boundOnly.has(collection)) return invalid(UNBOUND);
      return { value: json, index: m.index, bound: false };
    }
    if (json.c !== collection || json.i !== id) return invalid(`holds the entry of ${String(json.c)}/${String(json.i)} (swapped or moved)`);
    return { value: json.v, index: m.index, bound: true };
  }
}
