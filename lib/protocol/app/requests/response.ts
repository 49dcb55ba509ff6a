import { describe, isObject, typeOf } from '../checks';
import type { JsonObject, ResponseItemResultValue } from '../types';
import { flattenAttributeValue, valueTypeSpec } from '../value-types';

/**
 * Reading a Response — to our Request by message, or inside the App's answer to our template —
 * against the Request it answers, without ever throwing: every item summarised, what does not fit
 * the Request listed as a problem and marked invalid, unknown item types (a newer App) kept raw.
 */

/** The ResponseItem `@type`s @nmshd/content 7.0.0 knows. */
export const RESPONSE_ITEM_TYPES = [
  'AcceptResponseItem',
  'RejectResponseItem',
  'ErrorResponseItem',
  'ReadAttributeAcceptResponseItem',
  'ProposeAttributeAcceptResponseItem',
  'CreateAttributeAcceptResponseItem',
  'AttributeAlreadySharedAcceptResponseItem',
  'AttributeSuccessionAcceptResponseItem',
  'DeleteAttributeAcceptResponseItem',
  'FormFieldAcceptResponseItem',
  'TransferFileOwnershipAcceptResponseItem',
] as const;

/** Which accept items answer which RequestItem (the item processors of @nmshd/consumption 7.0.0). */
const ACCEPTS: Record<string, readonly string[]> = {
  ReadAttributeRequestItem: ['ReadAttributeAcceptResponseItem', 'AttributeAlreadySharedAcceptResponseItem', 'AttributeSuccessionAcceptResponseItem'],
  ProposeAttributeRequestItem: ['ProposeAttributeAcceptResponseItem', 'AttributeAlreadySharedAcceptResponseItem', 'AttributeSuccessionAcceptResponseItem'],
  CreateAttributeRequestItem: ['CreateAttributeAcceptResponseItem', 'AttributeAlreadySharedAcceptResponseItem', 'AttributeSuccessionAcceptResponseItem'],
  ShareAttributeRequestItem: ['AcceptResponseItem', 'AttributeAlreadySharedAcceptResponseItem'],
  ConsentRequestItem: ['AcceptResponseItem'],
  AuthenticationRequestItem: ['AcceptResponseItem'],
  FormFieldRequestItem: ['FormFieldAcceptResponseItem'],
  DeleteAttributeRequestItem: ['DeleteAttributeAcceptResponseItem', 'AcceptResponseItem'],
  TransferFileOwnershipRequestItem: ['TransferFileOwnershipAcceptResponseItem'],
};

/** An attribute found in a response item, reduced to what a workflow needs. */
export interface AttributeSummary {
  /** "IdentityAttribute" or "RelationshipAttribute". */
  kind: string;
  /** The value type, e.g. "DisplayName". */
  type: string;
  /** For one-field values (DisplayName, GivenName, EMailAddress…) the text; otherwise the value object without "@type". */
  value: unknown;
  owner?: string;
  /** RelationshipAttributes only. */
  key?: string;
  tags?: string[];
  /** The value type is not one of @nmshd/content 7.0.0 (e.g. BankAccount of a newer App). */
  unknownType?: boolean;
}

/** One answered item of the Response. */
export interface ResponseItemSummary {
  /** The item's "@type", e.g. "ReadAttributeAcceptResponseItem"; "unknown" when it has none. */
  type: string;
  /** "Unknown" when the item carries no valid result. */
  result: ResponseItemResultValue | 'Unknown';
  /** Where the item is: [i] in Response.items, or [i, j] inside the group at i. Matches the Request's items. */
  path: number[];
  /** The "@type" of the RequestItem at the same place, when the Request was given. */
  requestItemType?: string;
  /** The attribute sent with the answer (ReadAttribute/ProposeAttribute accept, AttributeSuccession successor). */
  attribute?: AttributeSummary;
  /** The id of that attribute at the peer (or of the attribute already shared / created). */
  attributeId?: string;
  /** For an AttributeSuccessionAcceptResponseItem: the replaced attribute. */
  predecessorId?: string;
  /** For a ReadAttributeAcceptResponseItem with a RelationshipAttribute of another relationship: its other side. */
  thirdParty?: string;
  /** For a FormFieldAcceptResponseItem: the answer. */
  response?: unknown;
  /** For a DeleteAttributeAcceptResponseItem: when the peer deletes its copy. */
  deletionDate?: string;
  /** For Rejected and Error items. */
  code?: string;
  message?: string;
  /** The item type is not one of @nmshd/content 7.0.0: kept as `raw`, nothing taken from it. */
  unknownType?: boolean;
  /** Set when the item does not fit the RequestItem it answers (see the problems): nothing is taken from it. */
  invalid?: true;
  /** The item exactly as received. */
  raw: unknown;
}

export interface ResponseSummary {
  /** Response.result: true for Accepted, false for Rejected, undefined when there is no valid Response. */
  accepted: boolean | undefined;
  requestId?: string;
  /** Every answered item, groups flattened (see `path`). */
  items: ResponseItemSummary[];
  /** For each value type, the first value the peer sent (flattened: a text, or the fields of e.g. a StreetAddress). */
  attributes: Record<string, unknown>;
  /** What could not be understood or does not fit; empty when everything was understood. */
  problems: string[];
}

export interface ParseResponseOptions {
  /** The Request it answers: checks counts, groups and item types, and adds requestItemType. */
  request?: unknown;
  /** The peer's address: IdentityAttributes the peer sends as its own must be owned by it. */
  peerAddress?: string;
  /** The attribute a peer's id stands for (AttributeAlreadySharedAcceptResponseItem names only the id). */
  lookup?: (attributeId: string) => unknown;
}

export function summarizeAttribute(value: unknown): AttributeSummary | undefined {
  if (!isObject(value) || typeof value['@type'] !== 'string' || !isObject(value.value)) return undefined;
  const type = value.value['@type'];
  const summary: AttributeSummary = {
    kind: value['@type'],
    type: typeof type === 'string' ? type : 'unknown',
    value: flattenAttributeValue(value.value),
  };
  if (!valueTypeSpec(type)) summary.unknownType = true;
  if (typeof value.owner === 'string') summary.owner = value.owner;
  if (typeof value.key === 'string') summary.key = value.key;
  if (Array.isArray(value.tags)) summary.tags = value.tags.filter((t): t is string => typeof t === 'string');
  return summary;
}

const where = (path: number[]): string => `response.items[${path.join('].items[')}]`;

function summarizeItem(item: unknown, path: number[], problems: string[]): ResponseItemSummary {
  if (!isObject(item)) {
    problems.push(`${where(path)} is not an object`);
    return { type: 'unknown', result: 'Unknown', path, invalid: true, raw: item };
  }
  const type = typeof item['@type'] === 'string' ? item['@type'] : 'unknown';
  let result: ResponseItemSummary['result'] = 'Unknown';
  if (item.result === 'Accepted' || item.result === 'Rejected' || item.result === 'Error') result = item.result;
  else if (item.result === 'Failed') result = 'Error';
  else problems.push(`${where(path)} has no valid result (${describe(item.result)})`);
  if (type === 'unknown') problems.push(`${where(path)} has no "@type"`);

  const summary: ResponseItemSummary = { type, result, path, raw: item };
  if (result === 'Unknown' || type === 'unknown') summary.invalid = true;
  if (type !== 'unknown' && !(RESPONSE_ITEM_TYPES as readonly string[]).includes(type)) {
    // A newer App's answer: listed, never taken apart.
    summary.unknownType = true;
    summary.invalid = true;
    return summary;
  }
  const attribute = summarizeAttribute(item.attribute ?? item.successorContent);
  if (attribute) summary.attribute = attribute;
  else if (item.attribute !== undefined || item.successorContent !== undefined) {
    problems.push(`${where(path)} carries an attribute that could not be read`);
    summary.invalid = true;
  }
  const attributeId = item.attributeId ?? item.successorId;
  if (typeof attributeId === 'string') summary.attributeId = attributeId;
  if (typeof item.predecessorId === 'string') summary.predecessorId = item.predecessorId;
  const thirdParty = item.thirdPartyAddress ?? item.initialAttributePeer;
  if (typeof thirdParty === 'string') summary.thirdParty = thirdParty;
  if (item.response !== undefined) summary.response = item.response;
  if (typeof item.deletionDate === 'string') summary.deletionDate = item.deletionDate;
  if (typeof item.code === 'string') summary.code = item.code;
  if (typeof item.message === 'string') summary.message = item.message;

  const needs = (ok: boolean, what: string): void => {
    if (ok) return;
    problems.push(`${where(path)} (${type}) has no ${what}`);
    summary.invalid = true;
  };
  if (type === 'ReadAttributeAcceptResponseItem' || type === 'ProposeAttributeAcceptResponseItem' || type === 'AttributeSuccessionAcceptResponseItem') {
    needs(!!summary.attribute, 'attribute');
  }
  if (result === 'Accepted' && type.endsWith('AttributeAcceptResponseItem') && type !== 'DeleteAttributeAcceptResponseItem') needs(summary.attributeId !== undefined, 'attributeId');
  if (type === 'AttributeAlreadySharedAcceptResponseItem' || type === 'AttributeSuccessionAcceptResponseItem') needs(summary.attributeId !== undefined, 'attribute id');
  if (type === 'AttributeSuccessionAcceptResponseItem') needs(summary.predecessorId !== undefined, 'predecessorId');
  if (type === 'FormFieldAcceptResponseItem') needs(summary.response !== undefined, 'response');
  if (type === 'DeleteAttributeAcceptResponseItem') needs(summary.deletionDate !== undefined, 'deletionDate');
  if (result === 'Error' && (summary.code === undefined || summary.message === undefined)) problems.push(`${where(path)} is an error without code and message`);
  if (type === 'ResponseItemGroup') {
    problems.push(`${where(path)} is a group inside a group`);
    summary.invalid = true;
  }
  return summary;
}

/** The RequestItem at each path of a Request ("i" or "i.j"), and which places are groups. */
function requestItemsByPath(request: unknown): { items: Map<string, JsonObject>; shape: (number | number[])[] } | undefined {
  if (!isObject(request) || !Array.isArray(request.items)) return undefined;
  const items = new Map<string, JsonObject>();
  const shape: (number | number[])[] = [];
  request.items.forEach((item, i) => {
    if (typeOf(item) === 'RequestItemGroup' && Array.isArray((item as JsonObject).items)) {
      const inner = (item as JsonObject).items as unknown[];
      shape.push(inner.map((_, j) => j));
      inner.forEach((innerItem, j) => items.set(`${i}.${j}`, isObject(innerItem) ? innerItem : {}));
    } else {
      shape.push(i);
      items.set(`${i}`, isObject(item) ? item : {});
    }
  });
  return { items, shape };
}

/** Does an accepted item fit the RequestItem it answers? The problems say why not. */
function checkAgainstRequest(summary: ResponseItemSummary, requestItem: JsonObject, accepted: boolean | undefined, options: ParseResponseOptions, problems: string[]): void {
  const at = `${where(summary.path)} (${summary.type})`;
  const bad = (why: string): void => {
    problems.push(`${at} ${why}`);
    summary.invalid = true;
  };
  const requestType = typeof requestItem['@type'] === 'string' ? requestItem['@type'] : 'unknown';
  if (summary.result === 'Rejected' && requestItem.mustBeAccepted === true && accepted === true) bad('rejects an item that must be accepted, in an accepted Response');
  if (summary.result !== 'Accepted' || summary.unknownType) return;
  if (accepted === false) return bad('accepts an item of a rejected Response');
  const allowed = ACCEPTS[requestType];
  if (allowed && !allowed.includes(summary.type)) return bad(`does not answer a ${requestType} (expected ${allowed.join(' or ')})`);
  const query = isObject(requestItem.query) ? requestItem.query : undefined;
  const attribute = summary.attribute;
  if (!attribute || !query) return;
  const peer = options.peerAddress;
  if (query['@type'] === 'IdentityAttributeQuery') {
    if (attribute.kind !== 'IdentityAttribute') return bad('sends no IdentityAttribute, though one was asked for');
    if (attribute.type !== query.valueType) return bad(`sends a ${attribute.type}, but a ${String(query.valueType)} was asked for`);
  }
  if (query['@type'] === 'RelationshipAttributeQuery') {
    if (attribute.kind !== 'RelationshipAttribute' || attribute.key !== query.key) return bad(`sends no RelationshipAttribute with the key "${String(query.key)}"`);
    const expectedOwner = query.owner === '' ? peer : query.owner;
    if (expectedOwner !== undefined && attribute.owner !== expectedOwner) return bad(`sends a RelationshipAttribute owned by ${attribute.owner ?? 'nobody'}, not by ${expectedOwner}`);
  }
  if (query['@type'] === 'ThirdPartyRelationshipAttributeQuery') {
    if (attribute.kind !== 'RelationshipAttribute' || attribute.key !== query.key) return bad(`sends no RelationshipAttribute with the key "${String(query.key)}"`);
    if (summary.type === 'ReadAttributeAcceptResponseItem' && summary.thirdParty === undefined) return bad('sends a RelationshipAttribute without naming the third party');
  }
}

/**
 * A summary of a Response (the JSON of Response, with or without "@type") never throwing: what it
 * cannot understand is listed in `problems`. With `options.request`, every item is checked against
 * the RequestItem it answers (count, groups, accept item types, the queried value type and owner);
 * an item that does not fit is `invalid` and gives no attribute.
 */
export function parseResponse(response: unknown, options: ParseResponseOptions = {}): ResponseSummary {
  const summary: ResponseSummary = { accepted: undefined, items: [], attributes: {}, problems: [] };
  const problems = summary.problems;
  try {
    if (!isObject(response)) {
      problems.push(`The Response is not a JSON object but ${describe(response)}`);
      return summary;
    }
    if (response['@type'] !== undefined && response['@type'] !== 'Response') problems.push(`The response "@type" is ${describe(response['@type'])}, not "Response"`);
    if (response.result === 'Accepted') summary.accepted = true;
    else if (response.result === 'Rejected') summary.accepted = false;
    else problems.push(`The response result is ${describe(response.result)}, neither "Accepted" nor "Rejected"`);
    if (typeof response.requestId === 'string') summary.requestId = response.requestId;
    else problems.push('The response has no requestId');
    if (!Array.isArray(response.items)) {
      problems.push('The response has no list of items');
      return summary;
    }
    const requestShape = options.request === undefined ? undefined : requestItemsByPath(options.request);
    if (options.request !== undefined && !requestShape) problems.push('The given request has no list of items');
    if (requestShape && requestShape.shape.length !== response.items.length) {
      problems.push(`The response answers ${response.items.length} items, but the request has ${requestShape.shape.length}`);
    }
    response.items.forEach((item, i) => {
      if (typeOf(item) === 'ResponseItemGroup') {
        const inner = (item as JsonObject).items;
        if (!Array.isArray(inner)) {
          problems.push(`response.items[${i}] is a group without items`);
          return;
        }
        const requestGroup = requestShape?.shape[i];
        if (requestShape && !Array.isArray(requestGroup)) problems.push(`response.items[${i}] is a group, but the request has a single item there`);
        else if (Array.isArray(requestGroup) && requestGroup.length !== inner.length) {
          problems.push(`response.items[${i}] answers ${inner.length} items, but the request group has ${requestGroup.length}`);
        }
        inner.forEach((innerItem, j) => summary.items.push(summarizeItem(innerItem, [i, j], problems)));
      } else {
        if (requestShape && Array.isArray(requestShape.shape[i])) problems.push(`response.items[${i}] is a single item, but the request has a group there`);
        summary.items.push(summarizeItem(item, [i], problems));
      }
    });
    for (const item of summary.items) {
      const requestItem = requestShape?.items.get(item.path.join('.'));
      const attributeSent = item.attribute;
      if (item.result === 'Accepted' && attributeSent?.kind === 'IdentityAttribute' && options.peerAddress !== undefined && attributeSent.owner !== options.peerAddress) {
        // An IdentityAttribute the peer sends is always its own.
        problems.push(`${where(item.path)} sends a ${attributeSent.type} owned by ${attributeSent.owner ?? 'nobody'}, not by the peer`);
        item.invalid = true;
      }
      if (requestItem) {
        if (typeof requestItem['@type'] === 'string') item.requestItemType = requestItem['@type'];
        checkAgainstRequest(item, requestItem, summary.accepted, options, problems);
      } else if (requestShape) item.invalid = true;
      if (item.result !== 'Accepted' || item.invalid) continue;
      if (!item.attribute && item.type === 'AttributeAlreadySharedAcceptResponseItem' && item.attributeId && options.lookup) {
        const known = summarizeAttribute(options.lookup(item.attributeId));
        if (known) item.attribute = known;
        else problems.push(`${where(item.path)} names attribute ${item.attributeId}, shared before, which we do not know`);
      }
      if (!item.attribute && item.type === 'CreateAttributeAcceptResponseItem' && requestItem) {
        const created = summarizeAttribute(requestItem.attribute);
        if (created) item.attribute = created.owner === '' && options.peerAddress ? { ...created, owner: options.peerAddress } : created;
      }
      const attribute = item.attribute;
      if (attribute && !(attribute.type in summary.attributes)) summary.attributes[attribute.type] = attribute.value;
    }
    if (summary.accepted === true && summary.items.length === 0) problems.push('An accepted response must answer at least one item');
    if (summary.accepted === false && summary.items.some((i) => i.result === 'Accepted')) problems.push('A rejected response accepts items');
  } catch (error) {
    problems.push(`The response could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return summary;
}
