import { describe, isObject, typeOf } from './checks';
import type { JsonObject, ResponseItemResultValue } from './types';

/**
 * Reading the App's answer to our template: the RelationshipCreationContent with its Response,
 * summarised for a workflow without ever throwing.
 */

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
  /** For a FormFieldAcceptResponseItem: the answer. */
  response?: unknown;
  /** For Rejected and Error items. */
  code?: string;
  message?: string;
  /** The item exactly as received. */
  raw: unknown;
}

/** What parseRelationshipCreationContent understood. */
export interface CreationContentSummary {
  type: 'RelationshipCreationContent' | 'ArbitraryRelationshipCreationContent' | 'unknown';
  /** Response.result: true for Accepted, false for Rejected, undefined when there is no valid Response. */
  accepted: boolean | undefined;
  requestId?: string;
  /** Every answered item, groups flattened (see `path`). */
  items: ResponseItemSummary[];
  /** The first DisplayName the peer sent, if any (convenience for onboarding). */
  displayName?: string;
  /** For each value type, the first value the peer sent (e.g. { DisplayName: 'Jane', EMailAddress: '…' }). */
  attributes: Record<string, unknown>;
  /** The value of an ArbitraryRelationshipCreationContent. */
  value?: unknown;
  /** What could not be understood or does not fit; empty when everything was understood. */
  problems: string[];
  /** The input, untouched. */
  raw: unknown;
}

export interface ParseCreationContentOptions {
  /** The Request the content answers (our template's onNewRelationship): checks counts and adds requestItemType. */
  request?: unknown;
  /** The peer's address: attributes the peer sends as its own must be owned by it. */
  peerAddress?: string;
}

function summarizeAttribute(value: unknown): AttributeSummary | undefined {
  if (!isObject(value) || typeof value['@type'] !== 'string' || !isObject(value.value)) return undefined;
  const { '@type': type, ...fields } = value.value;
  const summary: AttributeSummary = {
    kind: value['@type'],
    type: typeof type === 'string' ? type : 'unknown',
    value: Object.keys(fields).length === 1 && 'value' in fields ? fields.value : fields,
  };
  if (typeof value.owner === 'string') summary.owner = value.owner;
  if (typeof value.key === 'string') summary.key = value.key;
  if (Array.isArray(value.tags)) summary.tags = value.tags.filter((t): t is string => typeof t === 'string');
  return summary;
}

function summarizeItem(item: unknown, path: number[], problems: string[]): ResponseItemSummary {
  const where = `response.items[${path.join('].items[')}]`;
  if (!isObject(item)) {
    problems.push(`${where} is not an object`);
    return { type: 'unknown', result: 'Unknown', path, raw: item };
  }
  const type = typeof item['@type'] === 'string' ? item['@type'] : 'unknown';
  let result: ResponseItemSummary['result'] = 'Unknown';
  if (item.result === 'Accepted' || item.result === 'Rejected' || item.result === 'Error') result = item.result;
  else if (item.result === 'Failed') result = 'Error';
  else problems.push(`${where} has no valid result (${describe(item.result)})`);
  if (type === 'unknown') problems.push(`${where} has no "@type"`);

  const summary: ResponseItemSummary = { type, result, path, raw: item };
  const attribute = summarizeAttribute(item.attribute ?? item.successorContent);
  if (attribute) summary.attribute = attribute;
  else if (item.attribute !== undefined || item.successorContent !== undefined) problems.push(`${where} carries an attribute that could not be read`);
  const attributeId = item.attributeId ?? item.successorId;
  if (typeof attributeId === 'string') summary.attributeId = attributeId;
  if (typeof item.predecessorId === 'string') summary.predecessorId = item.predecessorId;
  if (item.response !== undefined) summary.response = item.response;
  if (typeof item.code === 'string') summary.code = item.code;
  if (typeof item.message === 'string') summary.message = item.message;

  if (type === 'ReadAttributeAcceptResponseItem' || type === 'ProposeAttributeAcceptResponseItem') {
    if (!summary.attribute) problems.push(`${where} (${type}) has no attribute`);
    if (summary.attributeId === undefined) problems.push(`${where} (${type}) has no attributeId`);
  }
  if (result === 'Error' && (summary.code === undefined || summary.message === undefined)) problems.push(`${where} is an error without code and message`);
  if (type === 'ResponseItemGroup') problems.push(`${where} is a group inside a group`);
  return summary;
}

function requestItemTypes(request: unknown): { flat: Map<string, string>; shape: (number | number[])[] } | undefined {
  if (!isObject(request) || !Array.isArray(request.items)) return undefined;
  const flat = new Map<string, string>();
  const shape: (number | number[])[] = [];
  request.items.forEach((item, i) => {
    if (typeOf(item) === 'RequestItemGroup' && Array.isArray((item as JsonObject).items)) {
      const inner = (item as JsonObject).items as unknown[];
      shape.push(inner.map((_, j) => j));
      inner.forEach((innerItem, j) => flat.set(`${i}.${j}`, typeOf(innerItem) ?? 'unknown'));
    } else {
      shape.push(i);
      flat.set(`${i}`, typeOf(item) ?? 'unknown');
    }
  });
  return { flat, shape };
}

/**
 * A friendly summary of the content a peer sent when requesting a relationship from our template.
 * Never throws: what it cannot understand is listed in `problems`, and the input is in `raw`.
 *
 * For a RelationshipCreationContent it reads the Response (the nested Response usually has no
 * "@type", as the classes' .toJSON() leaves it out) and each item: AcceptResponseItem (consent,
 * shared attribute taken), ReadAttributeAcceptResponseItem (the attribute asked for),
 * AttributeAlreadySharedAcceptResponseItem (the peer had shared it before: only its id),
 * AttributeSuccessionAcceptResponseItem, RejectResponseItem and ErrorResponseItem (code, message).
 */
export function parseRelationshipCreationContent(json: unknown, options: ParseCreationContentOptions = {}): CreationContentSummary {
  const summary: CreationContentSummary = { type: 'unknown', accepted: undefined, items: [], attributes: {}, problems: [], raw: json };
  const problems = summary.problems;
  try {
    if (!isObject(json)) {
      problems.push(`The creation content is not a JSON object but ${describe(json)}`);
      return summary;
    }
    const type = json['@type'];
    if (type === 'ArbitraryRelationshipCreationContent') {
      summary.type = type;
      summary.value = json.value;
      if (json.value === undefined) problems.push('The ArbitraryRelationshipCreationContent has no value');
      return summary;
    }
    if (type !== 'RelationshipCreationContent') {
      problems.push(`Unknown creation content type ${describe(type)}`);
      return summary;
    }
    summary.type = type;
    const response = json.response;
    if (!isObject(response)) {
      problems.push('The RelationshipCreationContent has no Response');
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
    const requestShape = options.request === undefined ? undefined : requestItemTypes(options.request);
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
      if (requestShape) {
        const requestType = requestShape.flat.get(item.path.join('.'));
        if (requestType !== undefined) item.requestItemType = requestType;
      }
      const attribute = item.attribute;
      if (!attribute || item.result !== 'Accepted') continue;
      if (options.peerAddress !== undefined && attribute.kind === 'IdentityAttribute' && attribute.owner !== options.peerAddress) {
        problems.push(`response.items[${item.path.join('].items[')}] sends a ${attribute.type} owned by ${attribute.owner ?? 'nobody'}, not by the peer`);
        continue;
      }
      if (!(attribute.type in summary.attributes)) summary.attributes[attribute.type] = attribute.value;
      if (attribute.type === 'DisplayName' && summary.displayName === undefined && typeof attribute.value === 'string') summary.displayName = attribute.value;
    }
    if (summary.accepted === true && summary.items.length === 0) problems.push('An accepted response must answer at least one item');
  } catch (error) {
    problems.push(`The creation content could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return summary;
}
