import type { MessageDto } from '../../backbone';
import {
  buildResponseWrapper,
  classifyContent,
  decideRequest,
  derivedCoreId,
  REQUEST_ITEM_TYPES,
  type ItemOutcome,
  type JsonObject,
  type RequestDecisions,
  type RequestJson,
  type ResponseJson,
} from '../app';
import { checkRequest } from '../app/validate-template';
import { attributeChanges, knownAttributes } from '../attributes';
import { ProtocolError, isProtocolError } from '../errors';
import { messagesNewestFirst } from '../message-feed';
import { getMessage, openMessage, sendMessage, type Message } from '../messages';
import type { Participant } from '../participant';
import { relationshipWith } from '../relationships';
import { allPeerRequests, isExpired, peerRequests, requestsChange, type IncomingRecord } from './records';

/**
 * Requests others sent us by message (an organisation, or a person's App): listed from the messages,
 * checked, accepted with decisions per item, or rejected. The answer is a ResponseWrapper message,
 * as runtime 7 sends it; its attributes change what we know (n8n.attributes) in the same datawallet
 * push that records the decision, before the message goes out, so a retry after a crash sends the
 * same Response again instead of deciding twice.
 */

export type IncomingStatus = 'Open' | 'Expired' | 'Decided' | 'Completed';

export interface IncomingItem {
  /** [i] or [i, j] as in the Request. */
  path: number[];
  type: string;
  mustBeAccepted: boolean;
  /** The item type is one @nmshd/content 7.0.0 knows; an unknown one can only be rejected. */
  known: boolean;
  description?: string;
  /** The item as received. */
  raw: unknown;
}

export interface IncomingRequest {
  id: string;
  peer: string;
  messageId: string;
  /** When the peer sent it (its message's createdAt). */
  createdAt: string;
  expiresAt?: string;
  status: IncomingStatus;
  title?: string;
  description?: string;
  content: RequestJson;
  items: IncomingItem[];
  /** What is wrong with it (malformed parts); an unknown item type is no problem, see `items`. */
  problems: string[];
  response?: ResponseJson;
  responseMessageId?: string;
  decidedAt?: string;
}

/** The id of a received Request: its own, or one derived from its message (the same on every worker). */
const requestIdOf = (request: RequestJson, messageId: string): string => (typeof request.id === 'string' ? request.id : derivedCoreId('REQ', `Request\u0000${messageId}`));

function itemsOf(request: RequestJson): IncomingItem[] {
  const out: IncomingItem[] = [];
  const add = (item: unknown, path: number[]): void => {
    const json = (item && typeof item === 'object' ? item : {}) as JsonObject;
    const type = typeof json['@type'] === 'string' ? json['@type'] : 'unknown';
    const entry: IncomingItem = { path, type, mustBeAccepted: json.mustBeAccepted === true, known: (REQUEST_ITEM_TYPES as readonly string[]).includes(type), raw: item };
    if (typeof json.description === 'string') entry.description = json.description;
    out.push(entry);
  };
  (Array.isArray(request.items) ? request.items : []).forEach((item, i) => {
    const group = item as { '@type'?: unknown; items?: unknown };
    if (group?.['@type'] === 'RequestItemGroup' && Array.isArray(group.items)) group.items.forEach((inner, j) => add(inner, [i, j]));
    else add(item, [i]);
  });
  return out;
}

/** The Request a message carries, as we see it with our decision on it (undefined: no Request, or our own message). */
export function incomingRequestOf(ctx: Participant, message: Message): IncomingRequest | undefined {
  const content = classifyContent(message.content);
  if (content.kind !== 'request' || message.isOwn) return undefined;
  const request = content.request;
  const id = requestIdOf(request, message.id);
  const record = peerRequests(ctx, message.createdBy).incoming.find((r) => r.id === id && r.messageId === message.id);
  const problems: string[] = [];
  checkRequest(request, 'request', problems, { ownTemplate: false, now: new Date(0) });
  const out: IncomingRequest = {
    id,
    peer: message.createdBy,
    messageId: message.id,
    createdAt: message.createdAt,
    status: record?.status ?? (isExpired(request.expiresAt, ctx.now()) ? 'Expired' : 'Open'),
    content: request,
    items: itemsOf(request),
    problems,
  };
  if (typeof request.expiresAt === 'string') out.expiresAt = request.expiresAt;
  if (typeof request.title === 'string') out.title = request.title;
  if (typeof request.description === 'string') out.description = request.description;
  if (record) {
    out.response = record.response;
    out.decidedAt = record.decidedAt;
    if (record.responseMessageId) out.responseMessageId = record.responseMessageId;
  }
  return out;
}

/** How many of the newest messages a search for received Requests reads at most. */
export const REQUEST_SCAN_LIMIT = 500;

async function openQuietly(ctx: Participant, dto: MessageDto): Promise<Message | undefined> {
  try {
    return await openMessage(ctx, dto); // the sender's relationships from the index
  } catch (error) {
    if (isProtocolError(error)) return undefined; // unreadable: no Request we could answer (the trigger reports it)
    throw error;
  }
}

/** Received Requests, newest first, from the newest `scanLimit` messages. */
export async function listIncomingRequests(
  ctx: Participant,
  options: { peer?: string; status?: IncomingStatus[]; limit?: number; scanLimit?: number } = {},
): Promise<IncomingRequest[]> {
  await ctx.store.refresh();
  const out: IncomingRequest[] = [];
  const limit = options.limit ?? Infinity;
  let scanned = 0;
  for await (const dto of messagesNewestFirst(ctx)) {
    if (++scanned > (options.scanLimit ?? REQUEST_SCAN_LIMIT) || out.length >= limit) break;
    if (dto.createdBy === ctx.address || (options.peer && dto.createdBy !== options.peer)) continue;
    const message = await openQuietly(ctx, dto);
    const request = message && incomingRequestOf(ctx, message);
    if (request && (!options.status?.length || options.status.includes(request.status))) out.push(request);
  }
  return out;
}

/** The message carrying a received Request, by the message's id or the Request's. */
async function locate(ctx: Participant, idOrMessageId: string): Promise<Message> {
  await ctx.store.refresh();
  let messageId = /^MSG[A-Za-z0-9]{17}$/.test(idOrMessageId) ? idOrMessageId : undefined;
  if (!messageId) messageId = allPeerRequests(ctx).flatMap((p) => p.incoming).find((r) => r.id === idOrMessageId)?.messageId;
  if (messageId) {
    const message = await getMessage(ctx, messageId).catch((error: unknown) => {
      if (isProtocolError(error)) throw new ProtocolError('protocol.request.notFound', `Message ${messageId} cannot be read: ${error.message}`, messageId, error);
      throw error;
    });
    if (!incomingRequestOf(ctx, message)) throw new ProtocolError('protocol.request.notFound', `Message ${messageId} carries no Request from a peer`, messageId);
    return message;
  }
  const found = (await listIncomingRequests(ctx)).find((r) => r.id === idOrMessageId);
  if (!found) throw new ProtocolError('protocol.request.notFound', `No received Request ${idOrMessageId} among the newest ${REQUEST_SCAN_LIMIT} messages; give its message id instead`, idOrMessageId);
  return getMessage(ctx, found.messageId);
}

export async function getIncomingRequest(ctx: Participant, idOrMessageId: string): Promise<IncomingRequest> {
  return incomingRequestOf(ctx, await locate(ctx, idOrMessageId))!;
}

export interface AnswerCheck {
  /** The Request can be answered so. */
  ok: boolean;
  problems: string[];
  /** How each item would be answered. */
  items: ItemOutcome[];
  request: IncomingRequest;
}

function checkAnswerable(request: IncomingRequest): void {
  if (request.status === 'Completed') {
    throw new ProtocolError('protocol.request.alreadyAnswered', `Request ${request.id} was already answered (message ${request.responseMessageId ?? '?'})`, request.id);
  }
}

/** Whether a received Request can be accepted with these decisions (automatic ones where missing), and how. Changes nothing. */
export async function canAcceptIncomingRequest(ctx: Participant, idOrMessageId: string, decisions?: RequestDecisions): Promise<AnswerCheck> {
  const message = await locate(ctx, idOrMessageId);
  const request = incomingRequestOf(ctx, message)!;
  if (request.status === 'Completed' || request.status === 'Decided') {
    return { ok: false, problems: [`Request ${request.id} was already answered`], items: [], request };
  }
  const decided = decideRequest(request.content, knownAttributes(ctx, request.peer), 'accept', {
    decisions,
    requestId: request.id,
    source: { via: 'request', requestId: request.id, messageId: request.messageId },
    now: ctx.now(),
  });
  return { ok: decided.ok, problems: decided.problems, items: decided.outcomes, request };
}

export interface AnswerResult {
  request: IncomingRequest;
  /** How each item was answered. */
  items: ItemOutcome[];
}

async function answer(ctx: Participant, idOrMessageId: string, mode: 'accept' | 'reject', decisions?: RequestDecisions): Promise<AnswerResult> {
  const message = await locate(ctx, idOrMessageId);
  const first = incomingRequestOf(ctx, message)!;
  checkAnswerable(first);
  const peer = first.peer;
  await relationshipWith(ctx, peer); // the answer travels as a message: an active relationship first

  const decided = await ctx.store.update(() => {
    const requests = peerRequests(ctx, peer);
    const existing = requests.incoming.find((r) => r.id === first.id && r.messageId === message.id);
    if (existing) return { changes: [], result: { record: existing, items: [] as ItemOutcome[] } };
    const known = knownAttributes(ctx, peer);
    const outcome = decideRequest(first.content, known, mode, {
      decisions,
      requestId: first.id,
      source: { via: 'request', requestId: first.id, messageId: message.id },
      now: ctx.now(),
    });
    if (!outcome.ok || !outcome.response || !outcome.known) {
      throw new ProtocolError('protocol.request.cannotAnswer', `Request ${first.id} cannot be ${mode}ed: ${outcome.problems.join('; ')}`, first.id);
    }
    const record: IncomingRecord = { id: first.id, peer, messageId: message.id, status: 'Decided', decidedAt: ctx.now().toISOString(), response: outcome.response };
    requests.incoming.push(record);
    return { changes: [...attributeChanges(known, outcome.known), requestsChange(requests)], result: { record, items: outcome.outcomes } };
  });
  let record = decided.record;
  if (record.response.result !== (mode === 'accept' ? 'Accepted' : 'Rejected')) {
    throw new ProtocolError('protocol.request.alreadyAnswered', `Request ${first.id} was already ${record.response.result.toLowerCase()}`, first.id);
  }
  if (record.status !== 'Completed') {
    // Decided (now, or by an earlier attempt that did not get to send): send the recorded Response.
    const sent = await sendMessage(ctx, { recipients: [peer], content: buildResponseWrapper(record.response, message.id) as unknown as Message['content'] });
    record = await ctx.store.update(() => {
      const requests = peerRequests(ctx, peer);
      const stored = requests.incoming.find((r) => r.id === first.id && r.messageId === message.id);
      if (!stored || stored.status === 'Completed') return { changes: [], result: stored ?? record };
      stored.status = 'Completed';
      stored.responseMessageId = sent.id;
      stored.completedAt = ctx.now().toISOString();
      return { changes: [requestsChange(requests)], result: stored };
    });
  }
  return { request: incomingRequestOf(ctx, message)!, items: decided.items };
}

/**
 * Accepts a received Request: each item as `decisions` say (automatic ones where missing, see
 * decideRequest), sends the Response and records what was shared and received. Throws a
 * ProtocolError naming every item that cannot be answered so.
 */
export function acceptIncomingRequest(ctx: Participant, idOrMessageId: string, decisions?: RequestDecisions): Promise<AnswerResult> {
  return answer(ctx, idOrMessageId, 'accept', decisions);
}

/** Rejects a received Request (every item), optionally saying why. */
export function rejectIncomingRequest(ctx: Participant, idOrMessageId: string, reason: { code?: string; message?: string } = {}): Promise<AnswerResult> {
  return locate(ctx, idOrMessageId).then((message) => {
    const request = incomingRequestOf(ctx, message)!;
    const decision = { accept: false, ...(reason.code ? { code: reason.code } : {}), ...(reason.message ? { message: reason.message } : {}) };
    const decisions: RequestDecisions = (Array.isArray(request.content.items) ? request.content.items : []).map((item) =>
      (item as { '@type'?: string })['@type'] === 'RequestItemGroup' ? { items: ((item as { items?: unknown[] }).items ?? []).map(() => decision) } : decision,
    );
    return answer(ctx, message.id, 'reject', decisions);
  });
}
