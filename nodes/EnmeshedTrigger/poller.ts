import type { MessageDto } from '../../lib/backbone';
import {
  FEED_LOOK_BACK_MS,
  ProtocolError,
  getRelationship,
  listRelationships,
  messagesNewestFirst,
  openMessage,
  readFeed,
  sync,
  type FeedPosition,
  type Message,
  type Participant,
  type Relationship,
} from '../../lib/protocol';
import { requestEventsOf, wantsRequestEvents, type RequestEventName, type RequestTriggerEvent } from './request-events';

/**
 * The trigger's logic, without n8n: what is new since the cursor, and the cursor after it.
 *
 * Messages: the Platform's message list is the record (read from its tail, lib/protocol/message-feed),
 * not sync events, which any other worker or device may consume first. Relationships: the registry
 * and the per-relationship event hints in the datawallet, which every sync run (ours or another
 * worker's) extends atomically with its acknowledgement.
 *
 * The returned state only moves past what the returned events cover: a message that cannot be
 * decrypted is returned as an error event (reported, never dropped); one filtered out by the
 * options is marked handled. The caller stores the state together with the emitted items.
 */

export type TriggerEventName = 'messageReceived' | 'relationshipRequestReceived' | 'relationshipStatusChanged' | RequestEventName;

export interface PollOptions {
  events: TriggerEventName[];
  /** Only messages from these addresses (empty: all). */
  peers?: string[];
  /** Only messages with / without attachments. */
  attachments?: 'any' | 'with' | 'without';
  /** At most this many messages per poll; the rest come with the next poll. */
  maxMessages?: number;
}

export type TriggerEvent =
  | { event: 'messageReceived'; message: Message }
  | { event: 'messageReceived'; error: ProtocolError; dto: Pick<MessageDto, 'id' | 'createdBy' | 'createdAt'> }
  | { event: 'relationshipRequestReceived'; relationship: Relationship }
  | { event: 'relationshipStatusChanged'; relationship: Relationship; oldStatus?: string }
  | RequestTriggerEvent;

export interface TriggerState {
  v: 1;
  messages?: FeedPosition;
  relationships?: {
    /** Last event id seen per relationship (from the datawallet hints). */
    events: Record<string, string>;
    /** Last status emitted (or seeded) per relationship. */
    statuses: Record<string, string>;
  };
}

/** Messages are read for their own events and for the Request events they carry. */
const wantsMessages = (o: PollOptions): boolean => o.events.includes('messageReceived') || wantsRequestEvents(o.events);

const wantsRelationships = (o: PollOptions): boolean =>
  o.events.includes('relationshipRequestReceived') || o.events.includes('relationshipStatusChanged');

function hints(participant: Participant): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of participant.store.ids('n8n.relationshipEvents')) {
    const value = participant.store.get('n8n.relationshipEvents', id) as { lastEventId?: unknown } | undefined;
    if (typeof value?.lastEventId === 'string') out[id] = value.lastEventId;
  }
  return out;
}

/** Parts of the state the options need but the cursor lacks (first poll, or an event type added later). */
export function missingParts(state: TriggerState | undefined, options: PollOptions): { messages: boolean; relationships: boolean } {
  const valid = state?.v === 1;
  return {
    messages: wantsMessages(options) && !(valid && state.messages),
    relationships: wantsRelationships(options) && !(valid && state.relationships),
  };
}

/**
 * Remembers where things stand for the parts the cursor lacks, emitting nothing for them: the first
 * active poll, or an event type added to a running trigger (which must not replay the past).
 */
export async function seed(participant: Participant, options: PollOptions, existing?: TriggerState): Promise<TriggerState> {
  const state: TriggerState = existing?.v === 1 ? { ...existing } : { v: 1 };
  const missing = missingParts(existing, options);
  if (missing.messages) {
    const read = await readFeed(participant, { total: 0, seen: [] });
    const newest = read.messages[read.messages.length - 1];
    const floor = newest ? Date.parse(newest.createdAt) - FEED_LOOK_BACK_MS : 0;
    state.messages = {
      total: read.total,
      watermark: newest?.createdAt,
      seen: read.messages.filter((m) => Date.parse(m.createdAt) >= floor).map((m) => m.id),
    };
  }
  if (missing.relationships) {
    await sync(participant);
    const relationships = await listRelationships(participant); // refreshes the datawallet view
    state.relationships = { events: hints(participant), statuses: Object.fromEntries(relationships.map((r) => [r.id, r.status])) };
  }
  return state;
}

/**
 * A message as an event; one that cannot be decrypted or verified becomes an error event (reported,
 * never dropped). Other failures (the Platform) reject, so the whole poll is retried later.
 */
async function openAsEvent(participant: Participant, dto: MessageDto, relationships?: Relationship[]): Promise<TriggerEvent> {
  const opened = await openMessage(participant, dto, relationships).then(
    (message) => ({ message }),
    (error: unknown) => ({ error }),
  );
  if ('message' in opened) return { event: 'messageReceived', message: opened.message };
  if (opened.error instanceof ProtocolError) {
    return { event: 'messageReceived', error: opened.error, dto: { id: dto.id, createdBy: dto.createdBy, createdAt: dto.createdAt } };
  }
  return Promise.reject(opened.error);
}

/** The events a message gives: its own (Message Received, or the error reading it) and its Request events. */
async function messageEvents(participant: Participant, dto: MessageDto, options: PollOptions, relationships?: Relationship[]): Promise<TriggerEvent[]> {
  const opened = await openAsEvent(participant, dto, relationships);
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

export async function poll(participant: Participant, state: TriggerState, options: PollOptions): Promise<{ events: TriggerEvent[]; state: TriggerState }> {
  const events: TriggerEvent[] = [];
  const next: TriggerState = { ...state, v: 1 };

  if (wantsMessages(options)) {
    const position = state.messages ?? { total: 0, seen: [] };
    const read = await readFeed(participant, position);
    const max = options.maxMessages ?? 100;
    const handled: MessageDto[] = [];
    let relationships: Relationship[] | undefined;
    for (const dto of read.messages) {
      if (events.length >= max) break;
      handled.push(dto);
      if (dto.createdBy === participant.address || !matches(dto, options)) continue;
      relationships ??= await listRelationships(participant);
      events.push(...(await messageEvents(participant, dto, options, relationships)));
    }
    if (handled.length) {
      const watermark = handled.reduce((w, d) => (!w || d.createdAt > w ? d.createdAt : w), position.watermark);
      const floor = watermark ? Date.parse(watermark) - FEED_LOOK_BACK_MS : -Infinity;
      const createdAt = new Map([...read.messages.map((m) => [m.id, m.createdAt] as const)]);
      const kept = position.seen.filter((id) => !createdAt.has(id) || Date.parse(createdAt.get(id)!) >= floor);
      next.messages = { total: read.total, watermark, seen: [...new Set([...kept, ...handled.map((d) => d.id)])] };
    } else {
      next.messages = { ...position, total: read.total };
    }
  }

  if (wantsRelationships(options)) {
    const previous = state.relationships ?? { events: {}, statuses: {} };
    const synced = await sync(participant);
    await participant.store.refresh();
    const current = hints(participant);
    const changed = new Set<string>(synced.newRelationships);
    for (const [id, eventId] of Object.entries(current)) if (previous.events[id] !== eventId) changed.add(id);
    for (const id of participant.store.ids('n8n.relationships')) if (!(id in previous.statuses)) changed.add(id);
    const statuses = { ...previous.statuses };
    if (changed.size) {
      const all = await listRelationships(participant);
      for (const listed of all.filter((r) => changed.has(r.id))) {
        if (previous.statuses[listed.id] === listed.status) continue;
        // The full view: the request content (e.g. the App's answer) and the peer's identity; the bare
        // record when the full one cannot be read (e.g. decomposed), so the change is still reported.
        const relationship = await getRelationship(participant, listed.id).catch((error: unknown) =>
          error instanceof ProtocolError ? listed : Promise.reject(error),
        );
        const old = previous.statuses[relationship.id];
        if (old === relationship.status) continue;
        statuses[relationship.id] = relationship.status;
        if (old === undefined && relationship.status === 'Pending' && relationship.role === 'templator') {
          if (options.events.includes('relationshipRequestReceived')) events.push({ event: 'relationshipRequestReceived', relationship });
        } else if (options.events.includes('relationshipStatusChanged')) {
          events.push({ event: 'relationshipStatusChanged', relationship, oldStatus: old });
        }
      }
    }
    next.relationships = { events: current, statuses };
  }
  return { events, state: next };
}

/** "Fetch Test Event": the newest matching event, without touching any cursor. */
export async function sample(participant: Participant, options: PollOptions): Promise<TriggerEvent[]> {
  if (wantsMessages(options)) {
    let checked = 0;
    for await (const dto of messagesNewestFirst(participant)) {
      if (++checked > 500) break;
      if (dto.createdBy === participant.address || !matches(dto, options)) continue;
      const found = await messageEvents(participant, dto, options);
      if (found.length) return [found[found.length - 1]];
    }
  }
  if (wantsRelationships(options)) {
    await sync(participant);
    const newest = (await listRelationships(participant)).pop();
    if (newest) {
      return [
        newest.status === 'Pending' && newest.role === 'templator' && options.events.includes('relationshipRequestReceived')
          ? { event: 'relationshipRequestReceived', relationship: newest }
          : { event: 'relationshipStatusChanged', relationship: newest },
      ];
    }
  }
  return [];
}
