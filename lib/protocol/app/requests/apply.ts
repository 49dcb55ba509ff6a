import { isObject } from '../checks';
import type { AttributeJson, JsonObject, RelationshipAttributeJson } from '../types';
import type { AttributeSource, KnownAttributes } from './known-attributes';
import { parseResponse, type ResponseSummary } from './response';

/**
 * What the peer's answer to our Request changes in what we know: the attributes it sent become
 * the peer's (received, or of our relationship), a version it replaced is marked so, what it took
 * of ours is recorded as shared with it, what it agreed to delete is marked with the date. Only
 * items that fit the Request count (parseResponse); the rest is reported and left out.
 */

export interface AppliedResponse {
  summary: ResponseSummary;
  known: KnownAttributes;
}

function requestItemAt(request: JsonObject, path: number[]): JsonObject | undefined {
  const items = Array.isArray(request.items) ? request.items : [];
  const top = items[path[0]];
  const item = path.length === 2 && isObject(top) && Array.isArray(top.items) ? top.items[path[1]] : top;
  return isObject(item) ? item : undefined;
}

export function applyResponse(known: KnownAttributes, request: JsonObject, response: unknown, source: AttributeSource, now: Date): AppliedResponse {
  const next: KnownAttributes = JSON.parse(JSON.stringify(known)) as KnownAttributes;
  const peer = next.peer;
  const at = now.toISOString();
  const lookup = (id: string): unknown => peer.received.find((r) => r.id === id)?.content ?? peer.relationship.find((r) => r.id === id)?.content;
  const summary = parseResponse(response, { request, peerAddress: peer.peer, lookup });

  const receive = (id: string, content: AttributeJson, thirdParty?: string, succeeds?: string): void => {
    if (content['@type'] === 'RelationshipAttribute' && thirdParty === undefined) {
      if (peer.relationship.some((r) => r.id === id)) return;
      peer.relationship.push({ id, content, createdAt: at, source, ...(succeeds ? { succeeds } : {}) });
      const predecessor = succeeds ? peer.relationship.find((r) => r.id === succeeds) : undefined;
      if (predecessor) predecessor.succeededBy = id;
      return;
    }
    const existing = peer.received.find((r) => r.id === id);
    if (existing) {
      delete existing.deletedAt; // the peer shares it again
      return;
    }
    peer.received.push({ id, content, receivedAt: at, source, ...(thirdParty ? { thirdParty } : {}), ...(succeeds ? { succeeds } : {}) });
    const predecessor = succeeds ? peer.received.find((r) => r.id === succeeds) : undefined;
    if (predecessor) predecessor.succeededBy = id;
  };
  const shared = (attributeId: string): void => {
    if (!peer.shared.some((s) => s.attributeId === attributeId && !s.deletionDate)) peer.shared.push({ attributeId, sharedAt: at, source });
  };

  for (const item of summary.items) {
    if (item.result !== 'Accepted' || item.invalid) continue;
    const requestItem = requestItemAt(request, item.path);
    if (!requestItem) continue;
    const raw = isObject(item.raw) ? item.raw : {};
    switch (item.type) {
      case 'ReadAttributeAcceptResponseItem':
      case 'ProposeAttributeAcceptResponseItem':
        if (item.attributeId && isObject(raw.attribute)) receive(item.attributeId, raw.attribute as unknown as AttributeJson, item.thirdParty);
        break;
      case 'AttributeSuccessionAcceptResponseItem':
        if (item.attributeId && isObject(raw.successorContent)) receive(item.attributeId, raw.successorContent as unknown as AttributeJson, undefined, item.predecessorId);
        break;
      case 'CreateAttributeAcceptResponseItem':
        if (item.attributeId && isObject(requestItem.attribute)) {
          const attribute = { ...(requestItem.attribute as unknown as AttributeJson) };
          if (attribute.owner === '') attribute.owner = peer.peer;
          receive(item.attributeId, attribute);
        }
        break;
      case 'AcceptResponseItem':
      case 'AttributeAlreadySharedAcceptResponseItem':
        if (requestItem['@type'] === 'ShareAttributeRequestItem' && typeof requestItem.attributeId === 'string') shared(requestItem.attributeId);
        break;
      case 'DeleteAttributeAcceptResponseItem': {
        const id = requestItem.attributeId;
        for (const s of peer.shared) if (s.attributeId === id && !s.deletionDate) s.deletionDate = item.deletionDate;
        const own = peer.relationship.find((r) => r.id === id && (r.content as RelationshipAttributeJson).owner === next.ownAddress);
        if (own) own.deletedAt = item.deletionDate;
        break;
      }
    }
  }
  return { summary, known: next };
}
