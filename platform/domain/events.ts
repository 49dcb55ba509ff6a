/**
 * External events (§5.3). Indexes are per identity and start at 0. MessageReceived events may be created
 * `blocked` (held back while the relationship is Pending/Terminated) and carry their relationship id so they
 * can be released or dropped when it changes. Every new event pushes ExternalEventCreated (SSE).
 */
import type { Platform } from '../core';
import { newId } from '../util';
import { sendPush } from './push';

export type EventType =
  | 'MessageReceived'
  | 'RelationshipStatusChanged'
  | 'RelationshipReactivationRequested'
  | 'RelationshipReactivationCompleted'
  | 'RelationshipTemplateAllocationsExhausted'
  | 'FileOwnershipLocked'
  | 'FileOwnershipClaimed'
  | 'TokenLocked'
  | 'PeerToBeDeleted'
  | 'PeerDeletionCancelled'
  | 'PeerDeleted'
  | 'IdentityDeletionProcessStarted'
  | 'IdentityDeletionProcessStatusChanged'
  | 'PeerFeatureFlagsChanged';

export function addEvent(
  p: Platform,
  owner: string,
  type: EventType,
  payload: Record<string, unknown>,
  opts: { blocked?: boolean; relationshipId?: string } = {},
): string {
  const row = p.db.get<{ next_event_index: number; status: string }>('SELECT next_event_index, status FROM identities WHERE address = ?', owner);
  if (!row) return ''; // recipient unknown (e.g. deleted): nothing to deliver
  const id = newId('SYI');
  p.db.run('UPDATE identities SET next_event_index = next_event_index + 1 WHERE address = ?', owner);
  p.db.run(
    'INSERT INTO external_events(id, owner, idx, type, payload, created_at, blocked, relationship_id) VALUES(?,?,?,?,?,?,?,?)',
    id,
    owner,
    row.next_event_index,
    type,
    JSON.stringify(payload),
    p.nowIso(),
    opts.blocked ? 1 : 0,
    opts.relationshipId ?? null,
  );
  // ExternalEventCreated to all the owner's devices if the owner is Active. Also for an event created
  // blocked: the Backbone's domain event copies IsDeliveryBlocked in the ExternalEvent's constructor, before
  // the message handler calls BlockDelivery(), so its "blocked: no push" check never fires.
  if (row.status === 'Active') sendPush(p, owner, 'ExternalEventCreated');
  return id;
}

/** Relationship became Active: release held-back MessageReceived events. */
export function unblockMessageEvents(p: Platform, relationshipId: string): void {
  p.db.run("UPDATE external_events SET blocked = 0 WHERE relationship_id = ? AND type = 'MessageReceived' AND blocked = 1", relationshipId);
}

/** Relationship Rejected/Revoked: held-back MessageReceived events are deleted. */
export function deleteBlockedMessageEvents(p: Platform, relationshipId: string): void {
  p.db.run("DELETE FROM external_events WHERE relationship_id = ? AND type = 'MessageReceived' AND blocked = 1", relationshipId);
}

/** Decomposition: the decomposer's undelivered MessageReceived events for that relationship are deleted. */
export function deleteUndeliveredMessageEvents(p: Platform, relationshipId: string, owner: string): void {
  p.db.run(
    "DELETE FROM external_events WHERE relationship_id = ? AND owner = ? AND type = 'MessageReceived' AND sync_run_id IS NULL",
    relationshipId,
    owner,
  );
}
