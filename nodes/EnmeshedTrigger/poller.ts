import type { MessageDto } from '../../lib/backbone';
import {
  DatawalletEntryError,
  FEED_LOOK_BACK_MS,
  exhaustedTemplatesAfter,
  ProtocolError,
  REPLAY_TOLERANCE_MS,
  getRelationship,
  isProtocolError,
  messagesNewestFirst,
  openMessage,
  peerDeletionInfo,
  readFeed,
  readTail,
  repeatedMessageError,
  syncRegistry,
  type FeedPosition,
  type Message,
  type Participant,
  type Relationship,
  type RelationshipEntry,
  type SeenMessage,
} from '../../lib/protocol';
import { requestEventsOf, wantsRequestEvents, type RequestEventName, type RequestTriggerEvent } from './request-events';

/**
 * The trigger's logic, without n8n: what is new since the cursor, and the cursor after it.
 *
 * Messages: the Platform's message list is the record (read from its tail, lib/protocol/message-feed),
 * not sync events, which any other worker or device may consume first. Relationships: their entries
 * in the datawallet, which every sync run (ours or another worker's) updates atomically with its
 * acknowledgement, each change stamped with the datawallet index that recorded it (`changedIndex`).
 * The cursor is one number, the datawallet index handled so far: what changed after it is new. A
 * request whose record does not verify is emitted as an error event, like a message that does not.
 *
 * The returned state only moves past what the returned events cover: a message that cannot be
 * decrypted is returned as an error event (reported, never dropped); one filtered out by the
 * options is marked handled. The caller hands the state to n8n with the emitted items.
 */

export type TriggerEventName =
  | 'messageReceived'
  | 'relationshipRequestReceived'
  | 'relationshipStatusChanged'
  | 'peerToBeDeleted'
  | 'templateAllocationsExhausted'
  | RequestEventName;

export interface PollOptions {
  events: TriggerEventName[];
  /** Only messages from these addresses (empty: all). */
  peers?: string[];
  /** Only messages with / without attachments. */
  attachments?: 'any' | 'with' | 'without';
  /** At most this many messages per poll; the rest come with the next poll. */
  maxMessages?: number;
}

export type RelationshipEventName = 'relationshipRequestReceived' | 'relationshipStatusChanged';

export type TriggerEvent =
  | { event: 'messageReceived'; message: Message }
  | { event: 'messageReceived'; error: ProtocolError | DatawalletEntryError; dto: Pick<MessageDto, 'id' | 'createdBy' | 'createdAt'> }
  | { event: 'relationshipRequestReceived'; relationship: Relationship }
  | { event: 'relationshipStatusChanged'; relationship: Relationship; oldStatus?: string }
  | { event: RelationshipEventName; error: ProtocolError | DatawalletEntryError; relationshipId: string; peer?: string }
  /** The Platform's word that the peer's identity will be deleted (no peer signs it). */
  | { event: 'peerToBeDeleted'; relationship: Relationship; deletionDate?: string }
  /** The Platform's word that one of our templates has no allocations left. */
  | { event: 'templateAllocationsExhausted'; templateId: string; at: string }
  | { event: 'templateAllocationsExhausted'; templateId: string; error: DatawalletEntryError }
  | RequestTriggerEvent;

/** Digest of an emitted message's signed content, the message id, and until when (ISO) it is kept. */
export type RecentDigest = [digest: string, id: string, keep: string];

export interface MessageCursor extends FeedPosition {
  recent?: RecentDigest[];
}

export interface TriggerState {
  v: 1;
  messages?: MessageCursor;
  relationships?: {
    /** The datawallet index handled: relationship changes recorded after it are new. */
    index: number;
  };
  templates?: {
    /** The datawallet index handled: template events recorded after it are new. */
    index: number;
  };
}

/** The relationship part of a cursor written by an earlier version: the last status per relationship. */
interface EarlierRelationshipCursor {
  statuses: Record<string, string>;
}

/** Messages are read for their own events and for the Request events they carry. */
const wantsMessages = (o: PollOptions): boolean => o.events.includes('messageReceived') || wantsRequestEvents(o.events);

const wantsRelationships = (o: PollOptions): boolean =>
  o.events.includes('relationshipRequestReceived') || o.events.includes('relationshipStatusChanged') || o.events.includes('peerToBeDeleted');

const wantsTemplates = (o: PollOptions): boolean => o.events.includes('templateAllocationsExhausted');

/** Parts of the state the options need but the cursor lacks (first poll, or an event type added later). */
export function missingParts(state: TriggerState | undefined, options: PollOptions): { messages: boolean; relationships: boolean; templates: boolean; any: boolean } {
  const valid = state?.v === 1;
  const missing = {
    messages: wantsMessages(options) && !(valid && state.messages),
    relationships: wantsRelationships(options) && !(valid && state.relationships),
    templates: wantsTemplates(options) && !(valid && state.templates),
  };
  return { ...missing, any: missing.messages || missing.relationships || missing.templates };
}

/**
 * Remembers where things stand for the parts the cursor lacks, emitting nothing for them: the first
 * active poll, or an event type added to a running trigger (which must not replay the past).
 */
export async function seed(participant: Participant, options: PollOptions, existing?: TriggerState): Promise<TriggerState> {
  const state: TriggerState = existing?.v === 1 ? { ...existing } : { v: 1 };
  const missing = missingParts(existing, options);
  if (missing.messages) {
    const read = await readTail(participant);
    const newest = read.messages[read.messages.length - 1];
    const floor = newest ? Date.parse(newest.createdAt) - FEED_LOOK_BACK_MS : 0;
    state.messages = {
      total: read.total,
      watermark: newest?.createdAt,
      seen: read.messages.filter((m) => Date.parse(m.createdAt) >= floor).map((m): SeenMessage => [m.id, m.createdAt]),
      ...(read.tail ? { tail: read.tail } : {}),
    };
  }
  if (missing.relationships || missing.templates) {
    const index = await syncRegistry(participant);
    if (missing.relationships) state.relationships = { index };
    if (missing.templates) state.templates = { index };
  }
  return state;
}

/**
 * A message as an event; one that cannot be decrypted or verified becomes an error event (reported,
 * never dropped). Other failures (the Platform) reject, so the whole poll is retried later.
 */
async function openAsEvent(participant: Participant, dto: MessageDto): Promise<TriggerEvent> {
  const opened = await openMessage(participant, dto).then(
    (message) => ({ message }),
    (error: unknown) => ({ error }),
  );
  if ('message' in opened) return { event: 'messageReceived', message: opened.message };
  if (opened.error instanceof ProtocolError || opened.error instanceof DatawalletEntryError) {
    return { event: 'messageReceived', error: opened.error, dto: { id: dto.id, createdBy: dto.createdBy, createdAt: dto.createdAt } };
  }
  return Promise.reject(opened.error);
}

/** The events of an opened message: its own (Message Received, or the error reading it) and its Request events. */
async function withRequestEvents(participant: Participant, opened: TriggerEvent, options: PollOptions): Promise<TriggerEvent[]> {
  const requestEvents = 'message' in opened ? await requestEventsOf(participant, opened.message, options.events) : [];
  // A message that cannot be read is reported even when only Request events are wanted: it may have carried one.
  const own = options.events.includes('messageReceived') || 'error' in opened ? [opened] : [];
  return [...own, ...requestEvents];
}

function matches(dto: MessageDto, options: PollOptions): boolean {
  if (options.peers?.length && !options.peers.includes(dto.createdBy)) return false;
  if (options.attachments === 'with' && dto.attachments.length === 0) return false;
  if (options.attachments === 'without' && dto.attachments.length > 0) return false;
  return true;
}

/**
 * The message cursor as stored. One written by an earlier version kept `seen` as bare ids: they are
 * dated with its watermark, the newest they can be, so none is forgotten early (each is kept at most
 * one window longer than needed). It has no tail, so its first read covers the window.
 */
function storedCursor(stored: MessageCursor | undefined): MessageCursor {
  if (!stored) return { total: 0, seen: [] };
  const dated = (entry: SeenMessage | string): SeenMessage => (typeof entry === 'string' ? [entry, stored.watermark ?? ''] : entry);
  return { ...stored, seen: (stored.seen as (SeenMessage | string)[]).map(dated) };
}

/**
 * New messages since the cursor. The cursor stays bounded by the look-back window, not by the total:
 * `seen` keeps only handled messages created inside the window, `recent` only the digests of emitted
 * messages whose (clamped) signed time lies within the window plus REPLAY_TOLERANCE_MS — a message the
 * Platform serves again under a new id is either refused by openMessage for its age or found here.
 * When a poll handles only the first of the messages a forward read found (maxMessages), the cursor
 * stands on the last one handled, so the next poll reads forward from there.
 */
async function pollMessages(participant: Participant, stored: MessageCursor | undefined, options: PollOptions): Promise<{ events: TriggerEvent[]; cursor: MessageCursor }> {
  const position = storedCursor(stored);
  const events: TriggerEvent[] = [];
  const read = await readFeed(participant, position);
  const max = options.maxMessages ?? 100;
  const handled: MessageDto[] = [];
  const recent = new Map((position.recent ?? []).map(([digest, id, keep]) => [digest, { id, keep }]));
  for (const dto of read.messages) {
    if (events.length >= max) break;
    handled.push(dto);
    if (dto.createdBy === participant.address || !matches(dto, options)) continue;
    const event = await openAsEvent(participant, dto);
    if ('message' in event) {
      const first = recent.get(event.message.contentDigest);
      if (first && first.id !== dto.id) {
        events.push({ event: 'messageReceived', error: repeatedMessageError(event.message, first.id), dto: { id: dto.id, createdBy: dto.createdBy, createdAt: dto.createdAt } });
        continue;
      }
      const keep = Math.min(Date.parse(event.message.sentAt), Date.parse(dto.createdAt) + REPLAY_TOLERANCE_MS);
      recent.set(event.message.contentDigest, { id: dto.id, keep: new Date(keep).toISOString() });
    }
    events.push(...(await withRequestEvents(participant, event, options)));
  }
  const watermark = handled.reduce((w, d) => (!w || d.createdAt > w ? d.createdAt : w), position.watermark);
  const floor = watermark ? Date.parse(watermark) - FEED_LOOK_BACK_MS : -Infinity;
  const dates = new Map(position.seen);
  for (const dto of handled) dates.set(dto.id, dto.createdAt);
  const seen = [...dates].filter(([, createdAt]) => Date.parse(createdAt) >= floor);
  const kept = [...recent].filter(([, r]) => Date.parse(r.keep) >= floor - REPLAY_TOLERANCE_MS).map(([digest, r]): RecentDigest => [digest, r.id, r.keep]);
  const all = handled.length === read.messages.length;
  const last = handled[handled.length - 1];
  const stand = all ? { total: read.total, tail: read.tail } : read.from !== undefined && last ? { total: read.from + handled.length - 1, tail: last.id } : { total: read.total };
  return { events, cursor: { ...stand, watermark, seen, ...(kept.length ? { recent: kept } : {}) } };
}

export async function poll(participant: Participant, state: TriggerState, options: PollOptions): Promise<{ events: TriggerEvent[]; state: TriggerState }> {
  const events: TriggerEvent[] = [];
  const next: TriggerState = { ...state, v: 1 };

  if (wantsMessages(options)) {
    const polled = await pollMessages(participant, state.messages, options);
    events.push(...polled.events);
    next.messages = polled.cursor;
  }

  const index = wantsRelationships(options) || wantsTemplates(options) ? await syncRegistry(participant) : -1;
  if (wantsRelationships(options)) {
    const previous = state.relationships as TriggerState['relationships'] | EarlierRelationshipCursor | undefined;
    const changes =
      previous && 'statuses' in previous ? changedSinceStatuses(participant, previous.statuses) : changedSinceIndex(participant, previous?.index ?? index, index);
    for (const change of changes) events.push(...(await relationshipEvents(participant, change, options)));
    next.relationships = { index };
  }
  if (wantsTemplates(options)) {
    events.push(...exhaustedTemplates(participant, state.templates?.index ?? index, index));
    next.templates = { index };
  }
  return { events, state: next };
}

/** The trigger events of templates recorded as exhausted after `after` (up to `upTo`); an unreadable record as an error event. */
function exhaustedTemplates(participant: Participant, after: number, upTo: number): TriggerEvent[] {
  return exhaustedTemplatesAfter(participant.store, after, upTo).map((t): TriggerEvent => ({ event: 'templateAllocationsExhausted', ...t }));
}

type Change =
  | { entry: RelationshipEntry; oldStatus?: string; peerDeletionChanged?: boolean; invalid?: undefined }
  | { invalid: DatawalletEntryError; entry?: undefined };

/** Entries changed after `after` (up to `upTo`), and invalid entries that became so in that range: each once. */
function changedSinceIndex(participant: Participant, after: number, upTo: number): Change[] {
  const changes: Change[] = participant.registry
    .changedAfter(after)
    .filter((entry) => entry.changedIndex <= upTo)
    .map((entry) => ({ entry, oldStatus: entry.previousStatus, peerDeletionChanged: entry.peerDeletion !== entry.previousPeerDeletion }));
  for (const invalid of participant.registry.invalidEntries()) {
    if (invalid.index !== undefined && invalid.index > after && invalid.index <= upTo) changes.push({ invalid });
  }
  return changes;
}

/** Once, for a cursor of an earlier version: every entry whose status differs from the status it remembered. */
function changedSinceStatuses(participant: Participant, statuses: Record<string, string>): Change[] {
  const changes: Change[] = [];
  for (const entry of participant.registry.newestFirst()) {
    if (statuses[entry.id] !== entry.status) changes.push({ entry, oldStatus: statuses[entry.id] });
  }
  return changes.reverse();
}

/** The events of a recorded change: of its status (or a new request) and of the peer's deletion. */
async function relationshipEvents(participant: Participant, change: Change, options: PollOptions): Promise<TriggerEvent[]> {
  const events: TriggerEvent[] = [];
  if (change.invalid || change.oldStatus !== change.entry.status) {
    const event = await relationshipEvent(participant, change, options);
    if (event) events.push(event);
  }
  const entry = change.entry;
  if (entry && change.peerDeletionChanged && entry.peerDeletion === 'ToBeDeleted' && options.events.includes('peerToBeDeleted')) {
    // The event is about the peer, not content: the record as it reads now, or the entry if it cannot be read.
    const relationship = await getRelationship(participant, entry.id).catch((error: unknown) =>
      error instanceof ProtocolError || error instanceof DatawalletEntryError ? entryView(entry) : Promise.reject(error),
    );
    events.push({ event: 'peerToBeDeleted', relationship, deletionDate: entry.peerDeletionDate });
  }
  return events;
}

/** A relationship as our entry records it, for when its record is gone. */
const entryView = (entry: RelationshipEntry): Relationship => ({
  id: entry.id,
  templateId: entry.templateId,
  status: entry.status,
  role: entry.role,
  peer: entry.peer,
  createdAt: entry.createdAt,
  auditLog: [],
  peerDeletionInfo: peerDeletionInfo(entry),
});

/**
 * The event for a recorded change: a request on our template (templator, Pending, nothing before)
 * or a status change. The output carries the full record (the request content, e.g. the App's
 * answer, and the peer's identity), read and verified now: a request that does not verify is an
 * error event, never a normal "request received"; a record that is gone (decomposed) is reported
 * from the entry.
 */
async function relationshipEvent(participant: Participant, change: Change, options: PollOptions): Promise<TriggerEvent | undefined> {
  if (change.invalid) {
    // Whose it was is unknown: reported under whichever relationship event the trigger listens to.
    const id = change.invalid.objectIdentifier.slice('n8n.relationships/'.length);
    const event = options.events.includes('relationshipStatusChanged') ? 'relationshipStatusChanged' : 'relationshipRequestReceived';
    return { event, error: change.invalid, relationshipId: id };
  }
  const { entry, oldStatus } = change;
  const name: RelationshipEventName =
    entry.role === 'templator' && entry.status === 'Pending' && oldStatus === undefined ? 'relationshipRequestReceived' : 'relationshipStatusChanged';
  if (!options.events.includes(name)) return undefined;
  const read = await getRelationship(participant, entry.id).then(
    (relationship): { relationship: Relationship } => ({ relationship }),
    (error: unknown) => ({ error }),
  );
  let relationship: Relationship;
  if ('relationship' in read) {
    relationship = read.relationship;
  } else if (isProtocolError(read.error, 'protocol.relationship.notFound') && name === 'relationshipStatusChanged') {
    relationship = entryView(entry);
  } else if (read.error instanceof ProtocolError || read.error instanceof DatawalletEntryError) {
    return { event: name, error: read.error, relationshipId: entry.id, peer: entry.peer };
  } else {
    return Promise.reject(read.error);
  }
  if (name === 'relationshipStatusChanged') return { event: name, relationship, oldStatus };
  // A request is an event only once verified (with our own, proven template): never one to act on otherwise.
  if (!relationship.requestVerified) {
    const error = new ProtocolError('protocol.relationship.invalid', `The request of relationship ${entry.id} cannot be verified: its template no longer exists`, entry.id);
    return { event: name, error, relationshipId: entry.id, peer: entry.peer };
  }
  return { event: name, relationship };
}

/** "Fetch Test Event": the newest matching event, without touching any cursor. */
export async function sample(participant: Participant, options: PollOptions): Promise<TriggerEvent[]> {
  if (wantsMessages(options)) {
    let checked = 0;
    for await (const dto of messagesNewestFirst(participant)) {
      if (++checked > 500) break;
      if (dto.createdBy === participant.address || !matches(dto, options)) continue;
      const found = await withRequestEvents(participant, await openAsEvent(participant, dto), options);
      if (found.length) return [found[found.length - 1]];
    }
  }
  if (wantsRelationships(options)) {
    await syncRegistry(participant);
    const newest = participant.registry.changedAfter(-1).pop() ?? participant.registry.newestFirst()[0];
    if (newest) {
      const event = await relationshipEvent(participant, { entry: newest, oldStatus: newest.previousStatus }, options);
      if (event) return [event];
    }
  }
  if (wantsTemplates(options)) {
    await syncRegistry(participant);
    const newest = exhaustedTemplates(participant, -1, Infinity).pop();
    if (newest) return [newest];
  }
  return [];
}
