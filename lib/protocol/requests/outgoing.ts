import type { MessageDto } from '../../backbone';
import { isValidAddress } from '../../crypto';
import {
  applyResponse,
  buildRequest,
  classifyContent,
  parseResponse,
  prepareRequest,
  type JsonObject,
  type OwnRequestContext,
  type RequestInput,
  type RequestJson,
  type ResponseSummary,
} from '../app';
import { attributeChanges, knownAttributes } from '../attributes';
import { peerAttributes } from '../attributes/store';
import { ProtocolError, isProtocolError } from '../errors';
import { messagesNewestFirst } from '../message-feed';
import { getMessage, openMessage, sendMessage, type Message } from '../messages';
import type { Participant } from '../participant';
import { relationshipWith } from '../relationships';
import { allPeerRequests, isExpired, MAX_OPEN, peerRequests, requestsChange, type OutgoingRecord } from './records';

/**
 * Our Requests to peers, by message: sent with a fresh id, recorded, and matched with their answer
 * — by the Request's id and by the message it answers (a Request without an id gets one from the
 * App) — which is checked against the Request and taken into what we know about attributes.
 */

export type OutgoingStatus = 'Open' | 'Completed' | 'Expired';

export interface OutgoingRequest {
  id: string;
  peer: string;
  messageId: string;
  createdAt: string;
  expiresAt?: string;
  status: OutgoingStatus;
  content: RequestJson;
  response?: {
    messageId: string;
    createdAt: string;
    receivedAt: string;
    /** True: Accepted, false: Rejected. */
    accepted: boolean | undefined;
    content: JsonObject;
    summary: ResponseSummary;
  };
}

function view(ctx: Participant, record: OutgoingRecord): OutgoingRequest {
  const now = ctx.now();
  const out: OutgoingRequest = {
    id: record.id,
    peer: record.peer,
    messageId: record.messageId,
    createdAt: record.createdAt,
    status: record.status === 'Open' && isExpired(record.expiresAt, now) ? 'Expired' : record.status,
    content: record.content,
  };
  if (record.expiresAt) out.expiresAt = record.expiresAt;
  if (record.response) {
    const known = peerAttributes(ctx, record.peer);
    const lookup = (id: string): unknown => known.received.find((r) => r.id === id)?.content ?? known.relationship.find((r) => r.id === id)?.content;
    const summary = parseResponse(record.response.content, { request: record.content, peerAddress: record.peer, lookup });
    out.response = { ...record.response, accepted: summary.accepted, summary };
  }
  return out;
}

export interface SendRequestInput {
  peer: string;
  /** The Request from item inputs… */
  request?: RequestInput;
  /** …or as JSON (a fresh id is added unless it has one). */
  json?: unknown;
}

/** Sends a Request to a peer with an active relationship, and records it. */
export async function sendRequest(ctx: Participant, input: SendRequestInput): Promise<OutgoingRequest> {
  const peer = typeof input.peer === 'string' ? input.peer.trim() : '';
  if (!isValidAddress(peer)) throw new ProtocolError('protocol.input.invalid', `"${peer}" is not an enmeshed address (did:e:…)`);
  await relationshipWith(ctx, peer); // an active relationship first: nothing is built or sent without one
  await ctx.store.refresh();
  const known = knownAttributes(ctx, peer);
  const requestCtx: OwnRequestContext = { ownAddress: ctx.address, peer, now: ctx.now(), own: known.own, known };
  const content = input.json !== undefined ? prepareRequest(input.json, requestCtx) : buildRequest(input.request ?? { items: [] }, requestCtx);
  const open = peerRequests(ctx, peer).outgoing.filter((r) => r.status === 'Open' && !isExpired(r.expiresAt, ctx.now()));
  if (open.length >= MAX_OPEN) {
    throw new ProtocolError('protocol.input.invalid', `${open.length} Requests to ${peer} are still unanswered; wait for answers (or their expiry) before sending more`);
  }
  const sent = await sendMessage(ctx, { recipients: [peer], content: content as unknown as Message['content'] });
  const record: OutgoingRecord = { id: content.id!, peer, messageId: sent.id, createdAt: sent.createdAt, content, status: 'Open' };
  if (content.expiresAt) record.expiresAt = content.expiresAt;
  const stored = await ctx.store.update(() => {
    const requests = peerRequests(ctx, peer);
    // An answer taken by another worker in the meantime wrote the record already.
    const existing = requests.outgoing.find((r) => r.id === record.id);
    if (existing) return { changes: [], result: existing };
    requests.outgoing.push(record);
    return { changes: [requestsChange(requests)], result: record };
  });
  return view(ctx, stored);
}

function findRecord(ctx: Participant, idOrMessageId: string): OutgoingRecord | undefined {
  for (const requests of allPeerRequests(ctx)) {
    const found = requests.outgoing.find((r) => r.id === idOrMessageId || r.messageId === idOrMessageId);
    if (found) return found;
  }
  return undefined;
}

/** The Request we sent in message `messageId`, read back from the message (when its record is gone). */
async function recordFromMessage(ctx: Participant, messageId: string, peer: string, requestId?: string): Promise<OutgoingRecord | undefined> {
  let message: Message;
  try {
    message = await getMessage(ctx, messageId);
  } catch (error) {
    if (isProtocolError(error)) return undefined;
    throw error;
  }
  const content = classifyContent(message.content);
  if (!message.isOwn || content.kind !== 'request' || !message.recipients.some((r) => r.address === peer)) return undefined;
  const id = content.request.id ?? requestId;
  if (!id) return undefined;
  const record: OutgoingRecord = { id, peer, messageId, createdAt: message.createdAt, content: content.request, status: 'Open' };
  if (content.request.expiresAt) record.expiresAt = content.request.expiresAt;
  return record;
}

/** An answer found in a message: the Request it answers, and what it said. */
export interface TakenAnswer {
  /** The Request answered (undefined when we know of none). */
  request?: OutgoingRequest;
  /** The answer as read against the Request. */
  summary: ResponseSummary;
  /** The message with the answer. */
  messageId: string;
  peer: string;
  /** The answer was taken (now, or earlier from the same message). False: see problems. */
  taken: boolean;
  problems: string[];
}

/**
 * Takes the answer a message carries (a ResponseWrapper, or a bare Response) to one of our
 * Requests: checked against the Request, its attributes stored as the peer's, the Request
 * Completed. Taking the same message again changes nothing and reports it as taken. Undefined when
 * the message carries no answer. A second answer to an answered Request, an answer from someone
 * else or after the expiry is reported with `taken: false`.
 */
export async function takeAnswer(ctx: Participant, message: Message): Promise<TakenAnswer | undefined> {
  const content = classifyContent(message.content);
  if (content.kind !== 'response' || message.isOwn) return undefined;
  const peer = message.createdBy;
  const fromMessage = content.sourceType !== 'RelationshipTemplate' ? content.sourceReference : undefined;
  const base = { messageId: message.id, peer };
  const unmatched = (problem: string): TakenAnswer => ({ ...base, summary: parseResponse(content.response, { peerAddress: peer }), taken: false, problems: [problem] });
  if (content.sourceType === 'RelationshipTemplate') return unmatched(`It answers the Request of our template ${content.sourceReference ?? ''}, not a Request sent by message`);

  await ctx.store.refresh();
  const matches = (r: OutgoingRecord): boolean => (content.requestId !== undefined && r.id === content.requestId) || (fromMessage !== undefined && r.messageId === fromMessage);
  let record = peerRequests(ctx, peer).outgoing.find(matches);
  if (!record && fromMessage) record = await recordFromMessage(ctx, fromMessage, peer, content.requestId);
  if (!record) {
    const elsewhere = content.requestId !== undefined ? findRecord(ctx, content.requestId) : undefined;
    return unmatched(elsewhere ? `It answers Request ${elsewhere.id}, which was sent to ${elsewhere.peer}, not to ${peer}` : 'It answers no Request we sent to this peer');
  }
  if (record.content.id !== undefined && content.requestId !== undefined && content.requestId !== record.content.id) {
    return { ...base, request: view(ctx, record), summary: parseResponse(content.response, { request: record.content, peerAddress: peer }), taken: false, problems: [`It names Request ${content.requestId}, but answers the message of Request ${record.id}`] };
  }
  if (record.status === 'Completed') {
    const same = record.response?.messageId === message.id;
    const current = view(ctx, record);
    return { ...base, request: current, summary: current.response!.summary, taken: same, problems: same ? [] : [`Request ${record.id} was already answered by message ${record.response?.messageId}`] };
  }
  if (isExpired(record.expiresAt, new Date(message.createdAt))) {
    return {
      ...base,
      request: view(ctx, record),
      summary: parseResponse(content.response, { request: record.content, peerAddress: peer }),
      taken: false,
      problems: [`It was sent at ${message.createdAt}, after the Request expired (${record.expiresAt}); it is not taken`],
    };
  }
  const probe = parseResponse(content.response, { request: record.content, peerAddress: peer });
  if (probe.accepted === undefined) return { ...base, request: view(ctx, record), summary: probe, taken: false, problems: probe.problems };

  const found = record;
  const completed = await ctx.store.update(() => {
    const requests = peerRequests(ctx, peer);
    const stored = requests.outgoing.find((r) => r.id === found.id);
    if (stored?.status === 'Completed') return { changes: [], result: stored };
    const target = stored ?? { ...found };
    if (!stored) requests.outgoing.push(target);
    target.status = 'Completed';
    target.response = { messageId: message.id, createdAt: message.createdAt, receivedAt: ctx.now().toISOString(), content: content.response };
    const known = knownAttributes(ctx, peer);
    const applied = applyResponse(known, target.content as unknown as JsonObject, content.response, { via: 'response', requestId: target.id, messageId: message.id }, ctx.now());
    return { changes: [...attributeChanges(known, applied.known), requestsChange(requests)], result: target };
  });
  const current = view(ctx, completed);
  const taken = completed.response?.messageId === message.id;
  return { ...base, request: current, summary: current.response!.summary, taken, problems: taken ? current.response!.summary.problems : [`Request ${completed.id} was already answered by message ${completed.response?.messageId}`] };
}

/** Message ids this process already looked at for answers (bounded), so repeated checks stay cheap. */
const examined = new WeakMap<Participant, Set<string>>();
const MAX_EXAMINED = 5000;
/** How many of the newest messages a check for answers reads at most. */
export const ANSWER_SCAN_LIMIT = 500;

/**
 * Looks for answers to our open Requests among the messages since the oldest of them (at most the
 * newest ANSWER_SCAN_LIMIT messages) and takes them. The trigger takes answers as they arrive;
 * this lets Request → Get and Get Many show answers without one. Returns the answers taken now.
 */
export async function checkForAnswers(ctx: Participant): Promise<TakenAnswer[]> {
  await ctx.store.refresh();
  const open = allPeerRequests(ctx).flatMap((p) => p.outgoing.filter((r) => r.status === 'Open'));
  if (open.length === 0) return [];
  const peers = new Set(open.map((r) => r.peer));
  const floor = open.reduce((min, r) => (r.createdAt < min ? r.createdAt : min), open[0].createdAt);
  let seen = examined.get(ctx);
  if (!seen || seen.size > MAX_EXAMINED) examined.set(ctx, (seen = new Set()));
  const taken: TakenAnswer[] = [];
  let scanned = 0;
  for await (const dto of messagesNewestFirst(ctx)) {
    if (++scanned > ANSWER_SCAN_LIMIT || dto.createdAt < floor) break;
    if (seen.has(dto.id) || dto.createdBy === ctx.address || !peers.has(dto.createdBy)) continue;
    const message = await openQuietly(ctx, dto);
    const answer = message && (await takeAnswer(ctx, message));
    seen.add(dto.id); // only once read (a Platform failure above leaves it for the next check)
    if (answer?.taken) taken.push(answer);
  }
  return taken;
}

async function openQuietly(ctx: Participant, dto: MessageDto): Promise<Message | undefined> {
  try {
    return await openMessage(ctx, dto); // the sender's relationships from the index
  } catch (error) {
    // A message we cannot read carries no answer we could take; the trigger reports it.
    if (isProtocolError(error)) return undefined;
    throw error;
  }
}

/** A Request we sent, by its id or the id of its message. */
export async function getOutgoingRequest(ctx: Participant, idOrMessageId: string, options: { checkAnswers?: boolean } = {}): Promise<OutgoingRequest> {
  if (options.checkAnswers !== false) await checkForAnswers(ctx);
  else await ctx.store.refresh();
  const record = findRecord(ctx, idOrMessageId);
  if (!record) throw new ProtocolError('protocol.request.notFound', `We sent no Request ${idOrMessageId} (or it is older than the ones kept)`, idOrMessageId);
  return view(ctx, record);
}

/** The Requests we sent, newest first. */
export async function listOutgoingRequests(
  ctx: Participant,
  options: { peer?: string; status?: OutgoingStatus[]; checkAnswers?: boolean } = {},
): Promise<OutgoingRequest[]> {
  if (options.checkAnswers !== false) await checkForAnswers(ctx);
  else await ctx.store.refresh();
  const records = (options.peer ? [peerRequests(ctx, options.peer)] : allPeerRequests(ctx)).flatMap((p) => p.outgoing);
  return records
    .map((r) => view(ctx, r))
    .filter((r) => !options.status?.length || options.status.includes(r.status))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
