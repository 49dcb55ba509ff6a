import type { Change } from '../../state/datawallet';
import type { JsonObject, RequestJson, ResponseJson } from '../app';
import { peerObjectId } from '../attributes';
import type { Participant } from '../participant';

/**
 * What we keep about Requests (collection `n8n.requests`, one object per peer, id `peer.<hash>` as
 * for attributes): the Requests we sent and their answers, and our decisions on Requests we
 * received. The messages themselves stay the record of what was asked: a Request received is
 * read from its message, and one we sent can be read back from ours, so a lost entry is rebuilt.
 *
 * Bounded per peer: every unanswered Request we sent (at most MAX_OPEN) and the newest
 * MAX_FINISHED answered or expired ones; the newest MAX_FINISHED decisions on received ones (the
 * answered attributes stay in n8n.attributes).
 */

export const REQUESTS = 'n8n.requests' as const;
export const MAX_OPEN = 100;
export const MAX_FINISHED = 50;

export interface OutgoingRecord {
  id: string;
  peer: string;
  /** The message that carried it. */
  messageId: string;
  createdAt: string;
  expiresAt?: string;
  content: RequestJson;
  /** Open until answered; an Open Request past its expiry reads as Expired. */
  status: 'Open' | 'Completed';
  response?: {
    messageId: string;
    /** When the answer was sent (its message's createdAt). */
    createdAt: string;
    receivedAt: string;
    content: JsonObject;
  };
}

export interface IncomingRecord {
  id: string;
  peer: string;
  messageId: string;
  /** Decided: the Response is built (and the attributes changed), not yet sent; Completed: sent. */
  status: 'Decided' | 'Completed';
  decidedAt: string;
  response: ResponseJson;
  responseMessageId?: string;
  completedAt?: string;
}

interface RequestsObject {
  v: 1;
  peer: string;
  outgoing: OutgoingRecord[];
  incoming: IncomingRecord[];
}

export interface PeerRequests {
  peer: string;
  outgoing: OutgoingRecord[];
  incoming: IncomingRecord[];
}

export function peerRequests(ctx: Participant, peer: string): PeerRequests {
  const stored = ctx.store.get(REQUESTS, peerObjectId(peer))?.value as Partial<RequestsObject> | undefined;
  if (!stored || stored.peer !== peer) return { peer, outgoing: [], incoming: [] };
  return {
    peer,
    outgoing: Array.isArray(stored.outgoing) ? structuredClone(stored.outgoing) : [],
    incoming: Array.isArray(stored.incoming) ? structuredClone(stored.incoming) : [],
  };
}

export function allPeerRequests(ctx: Participant): PeerRequests[] {
  const out: PeerRequests[] = [];
  for (const id of ctx.store.ids(REQUESTS)) {
    const stored = ctx.store.get(REQUESTS, id)?.value as Partial<RequestsObject> | undefined;
    if (typeof stored?.peer === 'string') out.push(peerRequests(ctx, stored.peer));
  }
  return out;
}

/** The change storing `requests` (bounded as described above). */
export function requestsChange(requests: PeerRequests): Change {
  const finishedOut = requests.outgoing.filter((r) => r.status !== 'Open');
  const keepOut = new Set(finishedOut.slice(Math.max(0, finishedOut.length - MAX_FINISHED)));
  const outgoing = requests.outgoing.filter((r) => r.status === 'Open' || keepOut.has(r));
  const finishedIn = requests.incoming.filter((r) => r.status === 'Completed');
  const keepIn = new Set(finishedIn.slice(Math.max(0, finishedIn.length - MAX_FINISHED)));
  const incoming = requests.incoming.filter((r) => r.status !== 'Completed' || keepIn.has(r));
  const value: RequestsObject = { v: 1, peer: requests.peer, outgoing, incoming };
  return { collection: REQUESTS, id: peerObjectId(requests.peer), value };
}

/** Open and past its expiry (the runtime's rule: such a Request no longer takes an answer created after it). */
export function isExpired(expiresAt: string | undefined, now: Date): boolean {
  return expiresAt !== undefined && Date.parse(expiresAt) <= now.getTime();
}
