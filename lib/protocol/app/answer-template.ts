import { isValidAddress } from '../../crypto';
import { attributeTextProblem, cleanAttributeText } from './attribute-values';
import { describe, isObject, typeOf } from './checks';
import { randomCoreId, REQUEST_ID } from './ids';
import {
  AppContentError,
  type ArbitraryRelationshipCreationContentJson,
  type AttributeValueJson,
  type IdentityAttributeJson,
  type IdentityAttributeValueType,
  type JsonObject,
  type RejectResponseItemJson,
  type RelationshipCreationContentJson,
  type ResponseItemGroupJson,
  type ResponseItemJson,
  type ResponseJson,
} from './types';
import { checkRequest } from './validate-template';

/**
 * Our own answer when we request a relationship from someone else's App-style template: accept what
 * a program can honestly accept, reject the rest where allowed.
 */

/** The RelationshipCreationContent carrying a Response. */
export function buildRelationshipCreationContent(response: ResponseJson): RelationshipCreationContentJson {
  const problems: string[] = [];
  if (!isObject(response)) problems.push('The response must be a Response object');
  else {
    if (response.result !== 'Accepted' && response.result !== 'Rejected') problems.push('The response result must be "Accepted" or "Rejected"');
    if (typeof response.requestId !== 'string' || !REQUEST_ID.test(response.requestId)) problems.push('The response needs a request id (REQ…)');
    if (!Array.isArray(response.items) || response.items.length === 0) problems.push('The response must answer at least one item');
  }
  if (problems.length > 0) throw new AppContentError(problems);
  return { '@type': 'RelationshipCreationContent', response };
}

/** The creation content answering an ArbitraryRelationshipTemplateContent (default value: {}). */
export function buildArbitraryRelationshipCreationContent(value: unknown = {}): ArbitraryRelationshipCreationContentJson {
  if (value === undefined) throw new AppContentError(['An ArbitraryRelationshipCreationContent needs a value']);
  return { '@type': 'ArbitraryRelationshipCreationContent', value };
}

/** How buildAcceptResponse answered (or could not answer) one item. */
export interface ItemDecision {
  /** [i] or [i, j] as in the Request. */
  path: number[];
  type: string;
  mustBeAccepted: boolean;
  decision: 'accept' | 'reject' | 'impossible';
  reason: string;
  /** An attribute the peer gives us by this item (ShareAttribute / CreateAttribute): store it if needed. */
  received?: { attribute: unknown; attributeId?: string };
  /** The attribute we send (ReadAttribute / ProposeAttribute). */
  sent?: IdentityAttributeJson;
  /** Consent items: the text we agreed to. */
  consent?: string;
}

export interface AcceptResponseOptions {
  /** Our address: required to answer ReadAttribute/ProposeAttribute items with our attributes. */
  ownAddress?: string;
  /**
   * Our identity attributes by value type, to answer ReadAttributeRequestItems with an
   * IdentityAttributeQuery, e.g. `{ DisplayName: 'ACME GmbH' }`. A text becomes `{ value: text }`;
   * an object is used as the value's fields (for StreetAddress etc.; not validated here).
   */
  attributes?: Partial<Record<IdentityAttributeValueType, string | JsonObject>>;
  /** Answer a template's onExistingRelationship instead of onNewRelationship. */
  existingRelationship?: boolean;
  /** The id for the Response's requestId when the Request has none (default: a fresh REQ… id). */
  requestId?: string;
  /** The current time, for the expiry check (default: now). */
  now?: Date;
}

export type AcceptResponseResult =
  | {
      ok: true;
      /** The content to send with the relationship request. */
      content: RelationshipCreationContentJson | ArbitraryRelationshipCreationContentJson;
      /** The Response inside (absent for an arbitrary template). */
      response?: ResponseJson;
      decisions: ItemDecision[];
    }
  | {
      ok: false;
      /** Why it cannot be accepted automatically. */
      problems: string[];
      decisions: ItemDecision[];
    };

const CANNOT_FULFIL = 'This participant is an automated system and cannot answer this item.';

function attributeFor(valueType: string, options: AcceptResponseOptions): { attribute?: IdentityAttributeJson; problem?: string } {
  const given = options.attributes?.[valueType as IdentityAttributeValueType];
  if (given === undefined) return { problem: `no ${valueType} was given to answer with` };
  if (options.ownAddress === undefined || !isValidAddress(options.ownAddress)) return { problem: 'our address (ownAddress) is needed to send an attribute' };
  let value: AttributeValueJson;
  if (typeof given === 'string') {
    const text = cleanAttributeText(given);
    if (text === '') return { problem: `the given ${valueType} is empty` };
    value = { '@type': valueType, value: text };
  } else if (isObject(given)) {
    const fields: JsonObject = {};
    for (const [k, v] of Object.entries(given)) if (k !== '@type') fields[k] = typeof v === 'string' ? cleanAttributeText(v) : v;
    value = { '@type': valueType, ...fields };
  } else return { problem: `the given ${valueType} must be text or an object` };
  for (const [field, entry] of Object.entries(value)) {
    if (field === '@type' || typeof entry !== 'string') continue;
    const problem = attributeTextProblem(entry);
    if (problem) return { problem: `our ${valueType} ${problem}` };
  }
  return { attribute: { '@type': 'IdentityAttribute', owner: options.ownAddress, value } };
}

function decideItem(item: JsonObject, path: number[], options: AcceptResponseOptions): { responseItem?: ResponseItemJson; decision: ItemDecision } {
  const type = typeof item['@type'] === 'string' ? item['@type'] : 'unknown';
  const mustBeAccepted = item.mustBeAccepted === true;
  const base = { path, type, mustBeAccepted };
  const accept = (responseItem: ResponseItemJson, reason: string, extra: Partial<ItemDecision> = {}) => ({
    responseItem,
    decision: { ...base, decision: 'accept' as const, reason, ...extra },
  });
  const cannot = (reason: string) =>
    mustBeAccepted
      ? { decision: { ...base, decision: 'impossible' as const, reason } }
      : {
          responseItem: { '@type': 'RejectResponseItem', result: 'Rejected', message: CANNOT_FULFIL } as RejectResponseItemJson,
          decision: { ...base, decision: 'reject' as const, reason },
        };

  switch (type) {
    case 'ConsentRequestItem':
      return accept(
        { '@type': 'AcceptResponseItem', result: 'Accepted' },
        item.requiresInteraction === true ? 'consent given by this automated participant (the App would ask a person to tick it)' : 'consent given',
        { consent: typeof item.consent === 'string' ? item.consent : undefined },
      );
    case 'AuthenticationRequestItem':
      return accept({ '@type': 'AcceptResponseItem', result: 'Accepted' }, 'authentication confirmed');
    case 'ShareAttributeRequestItem': {
      const attribute = isObject(item.attribute) ? item.attribute : undefined;
      const thirdParty = item.thirdPartyAddress ?? item.initialAttributePeer;
      if (attribute?.['@type'] === 'IdentityAttribute' && thirdParty !== undefined) return cannot('an IdentityAttribute shared with a third party address is invalid');
      if (attribute?.['@type'] === 'RelationshipAttribute' && thirdParty === undefined) return cannot('a shared RelationshipAttribute without a third party address is invalid');
      return accept({ '@type': 'AcceptResponseItem', result: 'Accepted' }, 'shared attribute taken note of', {
        received: { attribute: item.attribute, attributeId: typeof item.attributeId === 'string' ? item.attributeId : undefined },
      });
    }
    case 'CreateAttributeRequestItem': {
      const attributeId = randomCoreId('ATT');
      return accept({ '@type': 'CreateAttributeAcceptResponseItem', result: 'Accepted', attributeId }, 'attribute accepted; store it under attributeId if needed', {
        received: { attribute: item.attribute, attributeId },
      });
    }
    case 'ReadAttributeRequestItem':
    case 'ProposeAttributeRequestItem': {
      const query = isObject(item.query) ? item.query : undefined;
      if (query?.['@type'] !== 'IdentityAttributeQuery') return cannot(`only an IdentityAttributeQuery can be answered, not ${describe(query?.['@type'])}`);
      if (Array.isArray(query.tags) && query.tags.length > 0) return cannot('the query asks for tagged attributes');
      const valueType = String(query.valueType);
      const { attribute, problem } = attributeFor(valueType, options);
      if (!attribute) return cannot(problem ?? 'no attribute');
      // A fresh id each time: the peer stores its copy under it, and may already hold one from an earlier answer.
      const attributeId = randomCoreId('ATT');
      const responseType = type === 'ReadAttributeRequestItem' ? 'ReadAttributeAcceptResponseItem' : 'ProposeAttributeAcceptResponseItem';
      return accept({ '@type': responseType, result: 'Accepted', attributeId, attribute }, `our ${valueType} sent`, { sent: attribute });
    }
    default:
      return cannot(`a ${type} cannot be answered automatically`);
  }
}

/**
 * Our answer when WE accept someone else's App-style template: a RelationshipCreationContent whose
 * Response accepts what a program can honestly accept and rejects the rest where allowed.
 *
 * - ConsentRequestItem, AuthenticationRequestItem → AcceptResponseItem (we agree; the text is in the decision).
 * - ShareAttributeRequestItem → AcceptResponseItem (we take note of the peer's attribute; it is in `received`).
 * - CreateAttributeRequestItem → CreateAttributeAcceptResponseItem with a fresh attribute id.
 * - ReadAttribute/ProposeAttributeRequestItem with an IdentityAttributeQuery (no tags) → our attribute
 *   from `options.attributes` (IdentityAttribute owned by ownAddress) in a Read/ProposeAttributeAcceptResponseItem.
 *   (A bare AcceptResponseItem is no answer here: the peer's runtime expects the attribute.)
 * - Anything else (FormField, TransferFileOwnership, DeleteAttribute, relationship/IQL queries,
 *   unknown types, attributes not given) → RejectResponseItem when the item is optional; when it
 *   must be accepted the whole template cannot be accepted automatically (ok: false).
 *
 * Accepts a template content (RelationshipTemplateContent → onNewRelationship, or
 * onExistingRelationship with `existingRelationship`; ArbitraryRelationshipTemplateContent →
 * ArbitraryRelationshipCreationContent) or a bare Request. The requestId is the Request's id if it
 * has one (as the runtime does), else `options.requestId` or a fresh REQ… id. Never throws.
 */
export function buildAcceptResponse(template: unknown, options: AcceptResponseOptions = {}): AcceptResponseResult {
  const decisions: ItemDecision[] = [];
  try {
    if (typeOf(template) === 'ArbitraryRelationshipTemplateContent') {
      return { ok: true, content: buildArbitraryRelationshipCreationContent({}), decisions };
    }
    let request: unknown = template;
    if (typeOf(template) === 'RelationshipTemplateContent') {
      request = (template as JsonObject)[options.existingRelationship ? 'onExistingRelationship' : 'onNewRelationship'];
      if (request === undefined || request === null) return { ok: false, problems: ['The template has no Request for an existing relationship'], decisions };
    }
    const now = options.now ?? new Date();
    const structural: string[] = [];
    checkRequest(request, 'request', structural, { ownTemplate: false, now: new Date(0) });
    if (structural.length > 0) return { ok: false, problems: structural.map((p) => `The request is malformed: ${p}`), decisions };
    const req = request as JsonObject;
    if (typeof req.expiresAt === 'string' && new Date(req.expiresAt).getTime() <= now.getTime()) {
      return { ok: false, problems: [`The request expired at ${req.expiresAt}`], decisions };
    }
    const requestId = typeof req.id === 'string' ? req.id : (options.requestId ?? randomCoreId('REQ'));
    if (!REQUEST_ID.test(requestId)) return { ok: false, problems: [`"${requestId}" is not a request id (REQ…)`], decisions };

    const items: (ResponseItemJson | ResponseItemGroupJson)[] = [];
    (req.items as unknown[]).forEach((item, i) => {
      if (typeOf(item) === 'RequestItemGroup') {
        const groupItems: ResponseItemJson[] = [];
        ((item as JsonObject).items as JsonObject[]).forEach((inner, j) => {
          const { responseItem, decision } = decideItem(inner, [i, j], options);
          decisions.push(decision);
          if (responseItem) groupItems.push(responseItem);
        });
        items.push({ '@type': 'ResponseItemGroup', items: groupItems });
      } else {
        const { responseItem, decision } = decideItem(item as JsonObject, [i], options);
        decisions.push(decision);
        if (responseItem) items.push(responseItem);
      }
    });
    const impossible = decisions.filter((d) => d.decision === 'impossible');
    if (impossible.length > 0) {
      return {
        ok: false,
        problems: impossible.map((d) => `request.items[${d.path.join('].items[')}] (${d.type}) must be accepted, but ${d.reason}`),
        decisions,
      };
    }
    const response: ResponseJson = { '@type': 'Response', result: 'Accepted', requestId, items };
    return { ok: true, content: buildRelationshipCreationContent(response), response, decisions };
  } catch (error) {
    return { ok: false, problems: [`The template could not be answered: ${error instanceof Error ? error.message : String(error)}`], decisions };
  }
}
