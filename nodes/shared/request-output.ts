import type { IDataObject } from 'n8n-workflow';
import {
  flattenAttributeValue,
  summarizeAttribute,
  type AnswerCheck,
  type AnswerResult,
  type AttributeJson,
  type IncomingRequest,
  type ItemOutcome,
  type OutgoingRequest,
  type OwnAttributeRecord,
  type PeerAttributeRecord,
  type RelationshipAttributeRecord,
  type ResponseSummary,
  type SharedAttributeRecord,
  type TakenAnswer,
} from '../../lib/protocol';

/**
 * Output items for Requests and attributes: flat where a workflow reads them (one field per value
 * type in `attributes`, e.g. `{{ $json.attributes.EMailAddress }}`; a StreetAddress as its fields),
 * with the raw JSON beside it for everything else. Item types, value types and content a newer App
 * sends are kept raw and marked `unknown`, never dropped.
 */

const json = (value: unknown): IDataObject => value as IDataObject;

export type AttributeKind = 'own' | 'peer' | 'shared' | 'relationship';

export function attributeToJson(
  kind: AttributeKind,
  record: { id: string; content?: AttributeJson; succeeds?: string; succeededBy?: string; deletedAt?: string; source?: { via: string; requestId?: string; messageId?: string } },
  extra: IDataObject = {},
): IDataObject {
  const summary = record.content ? summarizeAttribute(record.content) : undefined;
  const out: IDataObject = {
    id: record.id,
    kind,
    valueType: summary?.type,
    value: summary?.value as IDataObject,
    owner: record.content?.owner,
    ...extra,
  };
  if (summary?.tags?.length) out.tags = summary.tags;
  if (record.content?.['@type'] === 'RelationshipAttribute') {
    out.key = record.content.key;
    out.confidentiality = record.content.confidentiality;
  }
  if (summary?.unknownType) out.unknownType = true;
  if (record.source) out.source = json(record.source);
  if (record.succeeds) out.succeeds = record.succeeds;
  if (record.succeededBy) out.succeededBy = record.succeededBy;
  out.isCurrent = !record.succeededBy && !record.deletedAt;
  if (record.deletedAt) out.deletedAt = record.deletedAt;
  out.content = json(record.content);
  return out;
}

export const ownAttributeToJson = (a: OwnAttributeRecord): IDataObject => attributeToJson('own', a, { createdAt: a.createdAt });
export const peerAttributeToJson = (a: PeerAttributeRecord & { peer?: string }): IDataObject =>
  attributeToJson('peer', a, { peer: a.peer ?? a.content.owner, receivedAt: a.receivedAt, ...(a.thirdParty ? { thirdParty: a.thirdParty } : {}) });
export const relationshipAttributeToJson = (a: RelationshipAttributeRecord, peer: string): IDataObject => attributeToJson('relationship', a, { peer, createdAt: a.createdAt });
export const sharedAttributeToJson = (s: SharedAttributeRecord & { content?: AttributeJson }, peer: string): IDataObject =>
  attributeToJson('shared', { id: s.attributeId, content: s.content, source: s.source }, { peer, sharedAt: s.sharedAt, ...(s.deletionDate ? { deletionDate: s.deletionDate } : {}) });

/** A Response's items for a workflow: type, result, and what each gave (value, form answer, code and message). */
export function answerToJson(summary: ResponseSummary): IDataObject {
  return {
    accepted: summary.accepted,
    attributes: json(summary.attributes),
    items: summary.items.map((i) => {
      const out: IDataObject = { path: i.path, type: i.type, result: i.result };
      if (i.requestItemType) out.requestItemType = i.requestItemType;
      if (i.attribute) {
        out.valueType = i.attribute.type;
        out.value = i.attribute.value as IDataObject;
      }
      if (i.attributeId) out.attributeId = i.attributeId;
      if (i.predecessorId) out.predecessorId = i.predecessorId;
      if (i.response !== undefined) out.response = i.response as IDataObject;
      if (i.deletionDate) out.deletionDate = i.deletionDate;
      if (i.code) out.code = i.code;
      if (i.message) out.message = i.message;
      if (i.unknownType || i.attribute?.unknownType) {
        out.unknown = true;
        out.raw = json(i.raw);
      }
      if (i.invalid) out.invalid = true;
      return out;
    }),
    problems: summary.problems,
  };
}

/** The items of a Request as a list a workflow (or an agent) can read: type, mandatory, what it asks. */
function requestItemsToJson(items: { path: number[]; type: string; mustBeAccepted: boolean; known?: boolean; raw: unknown }[]): IDataObject[] {
  return items.map((i) => {
    const raw = (i.raw ?? {}) as Record<string, unknown>;
    const out: IDataObject = { path: i.path, type: i.type, mustBeAccepted: i.mustBeAccepted };
    const query = raw.query as Record<string, unknown> | undefined;
    if (query?.valueType) out.valueType = query.valueType as string;
    if (query?.key) out.key = query.key as string;
    const attribute = raw.attribute as AttributeJson | undefined;
    if (attribute?.value) {
      out.valueType = attribute.value['@type'];
      out.value = flattenAttributeValue(attribute.value) as IDataObject;
    }
    for (const field of ['title', 'consent', 'link', 'attributeId', 'description'] as const) if (typeof raw[field] === 'string') out[field] = raw[field] as string;
    if (i.known === false) {
      out.unknown = true;
      out.raw = json(raw);
    }
    return out;
  });
}

function flatItems(content: { items?: unknown[] }): { path: number[]; type: string; mustBeAccepted: boolean; raw: unknown }[] {
  const out: { path: number[]; type: string; mustBeAccepted: boolean; raw: unknown }[] = [];
  (content.items ?? []).forEach((item, i) => {
    const group = item as { '@type'?: string; items?: unknown[] };
    const add = (it: unknown, path: number[]) => {
      const x = (it ?? {}) as { '@type'?: string; mustBeAccepted?: boolean };
      out.push({ path, type: x['@type'] ?? 'unknown', mustBeAccepted: x.mustBeAccepted === true, raw: it });
    };
    if (group?.['@type'] === 'RequestItemGroup' && Array.isArray(group.items)) group.items.forEach((inner, j) => add(inner, [i, j]));
    else add(item, [i]);
  });
  return out;
}

export function outgoingRequestToJson(r: OutgoingRequest): IDataObject {
  const out: IDataObject = {
    id: r.id,
    direction: 'outgoing',
    peer: r.peer,
    status: r.status,
    messageId: r.messageId,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    title: r.content.title,
    items: requestItemsToJson(flatItems(r.content)),
    content: json(r.content),
  };
  if (r.response) {
    out.response = { messageId: r.response.messageId, createdAt: r.response.createdAt, ...answerToJson(r.response.summary), content: json(r.response.content) };
    out.attributes = json(r.response.summary.attributes);
  }
  return out;
}

export function incomingRequestToJson(r: IncomingRequest): IDataObject {
  const out: IDataObject = {
    id: r.id,
    direction: 'incoming',
    peer: r.peer,
    status: r.status,
    messageId: r.messageId,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    title: r.title,
    description: r.description,
    items: requestItemsToJson(r.items),
    problems: r.problems,
    content: json(r.content),
  };
  if (r.response) out.response = json(r.response);
  if (r.responseMessageId) out.responseMessageId = r.responseMessageId;
  return out;
}

function outcomesToJson(items: ItemOutcome[]): IDataObject[] {
  return items.map((o) => {
    const out: IDataObject = { path: o.path, type: o.type, mustBeAccepted: o.mustBeAccepted, accepted: o.accepted, ok: o.ok };
    if (o.problem) out.problem = o.problem;
    if (o.effect) out.effect = o.effect;
    if (o.attributeId) out.attributeId = o.attributeId;
    if (o.attribute) {
      out.valueType = o.attribute.value['@type'];
      out.value = flattenAttributeValue(o.attribute.value) as IDataObject;
    }
    return out;
  });
}

export const answerCheckToJson = (c: AnswerCheck): IDataObject => ({ id: c.request.id, peer: c.request.peer, canAccept: c.ok, problems: c.problems, decisions: outcomesToJson(c.items) });

export const answerResultToJson = (r: AnswerResult): IDataObject => ({ ...incomingRequestToJson(r.request), decisions: outcomesToJson(r.items) });

/** The trigger's "Request Answered": the Request, the answer flattened, and whether it was taken. */
export function takenAnswerToJson(a: TakenAnswer): IDataObject {
  return {
    requestId: a.request?.id,
    peer: a.peer,
    status: a.request?.status,
    requestMessageId: a.request?.messageId,
    responseMessageId: a.messageId,
    taken: a.taken,
    title: a.request?.content.title,
    ...answerToJson(a.summary),
    problems: a.problems.length ? a.problems : a.summary.problems,
  };
}
