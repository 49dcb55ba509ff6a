import { PlatformCodes, isPlatformError, type ExternalEventDto, type PlatformClient } from '../backbone';
import { DatawalletEntryError, type Change, type DatawalletStore } from '../state/datawallet';
import { entryChange, entryFromRecord, type PeerDeletionStatus, type RelationshipEntries } from '../state/relationship-entries';

/**
 * Sync runs: the Backbone hands out each external event ONCE per identity (whichever device or
 * worker starts the next run takes them all). So events are hints, never the record: messages are
 * read from the message list, and relationships from their entries in the datawallet — which every
 * sync run updates in the same call that acknowledges the events (FinalizeExternalEventSync appends
 * datawallet modifications atomically with the acknowledgement). An event can therefore be
 * acknowledged at once without anything being lost, whoever consumed it.
 *
 * An event names only a relationship id. A run reads the records of the relationships its events
 * name (a hundred per request: O(changed), never O(all)) and records, as a change the trigger
 * reports, each new relationship and each new status (the previous one kept as previousStatus), and
 * each new word on the peer's identity deletion (PeerToBeDeleted, PeerDeletionCancelled, PeerDeleted).
 * A template whose allocations are exhausted gets an object of its own (`n8n.templates`). Both are
 * the Platform's word: nothing a peer signs says so.
 *
 * Why a run may write whole entries (including the counter reservation `next`) without a
 * compare-and-swap: the Backbone refuses every datawallet push while any sync run of the identity is
 * open, and only one run can be open at a time. The run reads the datawallet after it started, so no
 * reservation can come between that read and the finalize. An entry that is invalid is left as it is
 * (overwriting it would lose its counters).
 */

export type SyncEventType =
  | 'MessageReceived'
  | 'RelationshipStatusChanged'
  | 'RelationshipReactivationRequested'
  | 'RelationshipReactivationCompleted'
  | 'RelationshipTemplateAllocationsExhausted'
  | 'PeerToBeDeleted'
  | 'PeerDeletionCancelled'
  | 'PeerDeleted'
  | string;

export interface SyncEvent {
  id: string;
  type: SyncEventType;
  createdAt: string;
  messageId?: string;
  relationshipId?: string;
  payload: Record<string, unknown>;
}

function toEvent(e: ExternalEventDto): SyncEvent {
  const payload = e.payload ?? {};
  return {
    id: e.id,
    type: e.type,
    createdAt: e.createdAt,
    messageId: e.type === 'MessageReceived' && typeof payload.id === 'string' ? payload.id : undefined,
    relationshipId: typeof payload.relationshipId === 'string' ? payload.relationshipId : undefined,
    payload,
  };
}

export interface SyncResult {
  events: SyncEvent[];
  /** Relationship ids newly recorded. */
  newRelationships: string[];
  /** Relationship ids whose new status or peer deletion status was recorded. */
  changedRelationships: string[];
  /** True when another device or worker was syncing at the same time (its run records the events). */
  busy: boolean;
}

const PEER_DELETION_EVENTS: Record<string, PeerDeletionStatus> = {
  PeerToBeDeleted: 'ToBeDeleted',
  PeerDeletionCancelled: 'Cancelled',
  PeerDeleted: 'Deleted',
};

/** The last word on each peer's deletion among these events, per relationship. */
function peerDeletions(events: readonly SyncEvent[]): Map<string, { status: PeerDeletionStatus; date?: string }> {
  const out = new Map<string, { status: PeerDeletionStatus; date?: string }>();
  for (const e of events) {
    const status = PEER_DELETION_EVENTS[e.type];
    if (!status || !e.relationshipId) continue;
    const date = typeof e.payload.deletionDate === 'string' ? e.payload.deletionDate : undefined;
    out.set(e.relationshipId, { status, date });
  }
  return out;
}

/** What a sync run needs: a Participant has it all. */
export interface SyncContext {
  client: PlatformClient;
  store: DatawalletStore;
  registry: RelationshipEntries;
  address: string;
}

/**
 * Sync runs until no unsynced events are left (at most `maxRounds`), or none when another device or
 * worker is syncing (`busy`). Needs only the Backbone client and the datawallet, so that a
 * Participant can run it itself when a datawallet push stays blocked by an open run.
 */
export async function sync(ctx: SyncContext, maxRounds = 20): Promise<SyncResult> {
  const result: SyncResult = { events: [], newRelationships: [], changedRelationships: [], busy: false };
  for (let round = 0; round < maxRounds; round++) {
    let started;
    try {
      started = await ctx.client.startSyncRun('ExternalEventSync', 30);
    } catch (error) {
      if (isPlatformError(error, PlatformCodes.syncRunRunning)) {
        result.busy = true;
        return result;
      }
      throw error;
    }
    if (!started.syncRun) return result;
    const runId = started.syncRun.id;
    const events = (await ctx.client.all(ctx.client.externalEvents(runId))).map(toEvent);
    const ids = [...new Set(events.map((e) => e.relationshipId).filter((id): id is string => !!id))];
    // Read after the run started: from here until the finalize nobody can push.
    if (ids.length) await ctx.store.refresh();
    const records = await ctx.client.relationshipsById(ids);
    const deletions = peerDeletions(events);
    const changes: Change[] = [];
    for (const e of events) {
      const templateId = e.payload.relationshipTemplateId;
      if (e.type !== 'RelationshipTemplateAllocationsExhausted' || typeof templateId !== 'string') continue;
      changes.push({ collection: 'n8n.templates', id: templateId, value: { allocationsExhaustedAt: e.createdAt } });
    }
    for (const id of ids) {
      const dto = records.get(id);
      if (!dto) continue; // not visible (any more) to this identity
      let current;
      try {
        current = ctx.registry.get(id);
      } catch (error) {
        if (error instanceof DatawalletEntryError) continue;
        throw error;
      }
      const recorded = entryFromRecord(ctx.address, dto, current);
      if (!recorded) continue;
      const deletion = deletions.get(id);
      const entry = deletion ? { ...recorded, peerDeletion: deletion.status, peerDeletionDate: deletion.date ?? recorded.peerDeletionDate } : recorded;
      if (!current) {
        changes.push(entryChange(entry, 'change'));
        result.newRelationships.push(id);
      } else if (current.status !== entry.status || current.peerDeletion !== entry.peerDeletion) {
        changes.push(entryChange({ ...entry, previousStatus: current.status, previousPeerDeletion: current.peerDeletion }, 'change'));
        result.changedRelationships.push(id);
      }
    }
    const finalized = await ctx.client.finalizeExternalEventSync(
      runId,
      events.map((e) => ({ externalEventId: e.id })),
      changes.map((c) => ctx.store.encode(c)),
    );
    result.events.push(...events);
    if (!finalized.newUnsyncedExternalEventsExist) return result;
  }
  return result;
}

/** A template the sync recorded as exhausted, or the error reading its object (reported, not skipped). */
export type ExhaustedTemplate = { templateId: string; at: string; error?: undefined } | { templateId: string; error: DatawalletEntryError };

/** Our templates recorded as exhausted by modifications after index `after` (up to `upTo`), in the order recorded. */
export function exhaustedTemplatesAfter(store: DatawalletStore, after: number, upTo: number): ExhaustedTemplate[] {
  const found: (ExhaustedTemplate & { index: number })[] = [];
  for (const templateId of store.ids('n8n.templates')) {
    let stored;
    try {
      stored = store.get('n8n.templates', templateId);
    } catch (error) {
      if (!(error instanceof DatawalletEntryError)) throw error;
      const index = error.index ?? -1;
      if (index > after && index <= upTo) found.push({ templateId, error, index });
      continue;
    }
    if (!stored || stored.index <= after || stored.index > upTo) continue;
    const at = (stored.value as { allocationsExhaustedAt?: unknown } | null)?.allocationsExhaustedAt;
    if (typeof at === 'string') found.push({ templateId, at, index: stored.index });
    else found.push({ templateId, error: new DatawalletEntryError(`n8n.templates/${templateId}`, 'has no valid "allocationsExhaustedAt"', stored.index), index: stored.index });
  }
  return found.sort((a, b) => a.index - b.index).map((t): ExhaustedTemplate => (t.error ? { templateId: t.templateId, error: t.error } : { templateId: t.templateId, at: t.at }));
}
