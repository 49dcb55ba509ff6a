import { PlatformCodes, isPlatformError, type ExternalEventDto, type PlatformClient } from '../backbone';
import type { Change, DatawalletStore } from '../state/datawallet';

/**
 * Sync runs: the Backbone hands out each external event ONCE per identity (whichever device or
 * worker starts the next run takes them all). So events are hints, never the record: messages are
 * read from the message list, and relationships from the registry in the datawallet — which every
 * sync run extends, in the same call that acknowledges the events (FinalizeExternalEventSync appends
 * datawallet modifications atomically with the acknowledgement). An event can therefore be
 * acknowledged at once without anything being lost, whoever consumed it.
 *
 * Besides the registry, every relationship event leaves a hint (`n8n.relationshipEvents`: the last
 * event id per relationship, with its type and, for PeerToBeDeleted, the deletion date), and so does
 * every template event (`n8n.templateEvents`, per template), so a trigger on another worker learns
 * of them even when this worker consumed the event.
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
  /** Relationship ids newly added to the registry. */
  newRelationships: string[];
  /** True when another device or worker was syncing at the same time (its run records the events). */
  busy: boolean;
}

/**
 * Sync runs until no unsynced events are left (at most `maxRounds`), or none when another device or
 * worker is syncing (`busy`). Needs only the Backbone client and the datawallet, so that a
 * Participant can run it itself when a datawallet push stays blocked by an open run.
 */
export async function sync(ctx: { client: PlatformClient; store: DatawalletStore }, maxRounds = 20): Promise<SyncResult> {
  const result: SyncResult = { events: [], newRelationships: [], busy: false };
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
    await ctx.store.refresh();
    const known = new Set(ctx.store.ids('n8n.relationships'));
    const changes: Change[] = [];
    const hints = new Map<string, SyncEvent>();
    const templateHints = new Map<string, SyncEvent>();
    for (const event of events) {
      const templateId = event.payload.relationshipTemplateId;
      if (typeof templateId === 'string') templateHints.set(templateId, event);
      if (!event.relationshipId) continue;
      hints.set(event.relationshipId, event);
      if (!known.has(event.relationshipId)) {
        known.add(event.relationshipId);
        changes.push({ collection: 'n8n.relationships', id: event.relationshipId, value: { discoveredBy: event.type } });
        result.newRelationships.push(event.relationshipId);
      }
    }
    for (const [relationshipId, event] of hints) {
      const deletionDate = typeof event.payload.deletionDate === 'string' ? { deletionDate: event.payload.deletionDate } : {};
      changes.push({ collection: 'n8n.relationshipEvents', id: relationshipId, value: { lastEventId: event.id, type: event.type, at: event.createdAt, ...deletionDate } });
    }
    for (const [templateId, event] of templateHints) {
      changes.push({ collection: 'n8n.templateEvents', id: templateId, value: { lastEventId: event.id, type: event.type, at: event.createdAt } });
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
