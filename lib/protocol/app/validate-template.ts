import { isValidAddress } from '../../crypto';
import { attributeTextProblem } from './attribute-values';
import { checkOptionalObject, checkText, describe, includes, isObject, isoDate, LINK, typeOf } from './checks';
import { ATTRIBUTE_ID, REQUEST_ID } from './ids';
import {
  ATTRIBUTE_QUERY_TYPES,
  CONTENT_LIMITS,
  IDENTITY_ATTRIBUTE_VALUE_TYPES,
  LATER_REQUEST_ITEM_TYPES,
  REQUEST_ITEM_TYPES,
  type JsonObject,
} from './types';

/**
 * Checking a template content given as raw JSON, and the Requests inside it: what @nmshd/content
 * 7.0.0 needs to read it and what the App relies on beyond that. Also checks the structure of
 * someone else's Request before we answer it (answer-template.ts).
 */

/** Options for validateTemplateContent. */
export interface TemplateValidationOptions {
  /**
   * The content is meant for the enmeshed App: an ArbitraryRelationshipTemplateContent is then a
   * problem (the App shows no Request for it and cannot onboard anyone with it). Default false.
   */
  forApp?: boolean;
  /** Our address: when given, attributes we share must be owned by it. */
  ownerAddress?: string;
  /** The current time, for expiry checks (default: now). */
  now?: Date;
}

export interface CheckContext {
  /** Checking our own template (stricter: request ids, characters of shared attributes). */
  ownTemplate: boolean;
  /** Our own Request sent by message: it carries its id (a template's Request must not). */
  requestIdAllowed?: boolean;
  ownerAddress?: string;
  now: Date;
}

function checkAttribute(value: unknown, what: string, problems: string[], ctx: CheckContext): void {
  if (!isObject(value)) {
    problems.push(`${what} must be an attribute object, but is ${describe(value)}`);
    return;
  }
  const type = value['@type'];
  if (type !== 'IdentityAttribute' && type !== 'RelationshipAttribute') {
    problems.push(`${what}["@type"] must be "IdentityAttribute" or "RelationshipAttribute", but is ${describe(type)}`);
    return;
  }
  if (typeof value.owner !== 'string') problems.push(`${what}.owner must be an address, but is ${describe(value.owner)}`);
  const attrValue = value.value;
  if (!isObject(attrValue) || typeof attrValue['@type'] !== 'string') {
    problems.push(`${what}.value must be an object with an "@type" such as "DisplayName"`);
    return;
  }
  if (type === 'IdentityAttribute') {
    if (!includes(IDENTITY_ATTRIBUTE_VALUE_TYPES, attrValue['@type'])) {
      problems.push(`${what}.value["@type"] ${describe(attrValue['@type'])} is not an IdentityAttribute value type`);
    }
    if (value.tags !== undefined && (!Array.isArray(value.tags) || value.tags.some((t) => typeof t !== 'string'))) {
      problems.push(`${what}.tags must be a list of texts`);
    }
  } else {
    if (typeof value.key !== 'string') problems.push(`${what}.key must be text`);
    if (!['public', 'protected', 'private'].includes(value.confidentiality as string)) {
      problems.push(`${what}.confidentiality must be "public", "protected" or "private"`);
    }
  }
  if (ctx.ownTemplate) {
    for (const [field, entry] of Object.entries(attrValue)) {
      if (field === '@type' || typeof entry !== 'string') continue;
      const problem = attributeTextProblem(entry);
      if (problem) problems.push(`${what}.value.${field} ${problem}`);
    }
    if (typeof attrValue.value === 'string' && attrValue.value.length > CONTENT_LIMITS.attributeString && attrValue['@type'] === 'DisplayName') {
      problems.push(`${what}.value.value has ${attrValue.value.length} characters; a DisplayName allows at most ${CONTENT_LIMITS.attributeString}`);
    }
  }
}

function checkQuery(value: unknown, what: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${what} must be an attribute query object, but is ${describe(value)}`);
    return;
  }
  const type = value['@type'];
  if (!includes(ATTRIBUTE_QUERY_TYPES, type)) {
    problems.push(`${what}["@type"] must be one of ${ATTRIBUTE_QUERY_TYPES.join(', ')}, but is ${describe(type)}`);
    return;
  }
  if (type === 'IdentityAttributeQuery' && !includes(IDENTITY_ATTRIBUTE_VALUE_TYPES, value.valueType)) {
    problems.push(`${what}.valueType must be an IdentityAttribute value type such as "DisplayName", but is ${describe(value.valueType)}`);
  }
  if (type === 'IQLQuery' && typeof value.queryString !== 'string') problems.push(`${what}.queryString must be text`);
  if ((type === 'RelationshipAttributeQuery' || type === 'ThirdPartyRelationshipAttributeQuery') && typeof value.key !== 'string') {
    problems.push(`${what}.key must be text`);
  }
  if (type === 'RelationshipAttributeQuery' && !isObject(value.attributeCreationHints)) {
    problems.push(`${what}.attributeCreationHints must be an object`);
  }
  if (type === 'ThirdPartyRelationshipAttributeQuery' && !Array.isArray(value.thirdParty)) problems.push(`${what}.thirdParty must be a list of addresses`);
}

function checkRequestItem(item: unknown, what: string, problems: string[], ctx: CheckContext): void {
  if (!isObject(item)) {
    problems.push(`${what} must be an object, but is ${describe(item)}`);
    return;
  }
  const type = item['@type'];
  if (type === 'RequestItemGroup') {
    problems.push(`${what} is a RequestItemGroup inside a RequestItemGroup; groups may only contain RequestItems`);
    return;
  }
  if (!ctx.ownTemplate && typeof type === 'string' && !includes(REQUEST_ITEM_TYPES, type)) {
    // Someone else's Request may use item types newer than ours: we only need to know whether we may reject them.
    if (typeof item.mustBeAccepted !== 'boolean') problems.push(`${what}.mustBeAccepted must be true or false, but is ${describe(item.mustBeAccepted)}`);
    return;
  }
  if (includes(LATER_REQUEST_ITEM_TYPES, type)) {
    problems.push(`${what}["@type"] "${type}" is not known to @nmshd/content 7.0.0 (it needs a newer App)`);
    return;
  }
  if (!includes(REQUEST_ITEM_TYPES, type)) {
    problems.push(`${what}["@type"] must be a known RequestItem type (${REQUEST_ITEM_TYPES.join(', ')}), but is ${describe(type)}`);
    return;
  }
  if (typeof item.mustBeAccepted !== 'boolean') problems.push(`${what}.mustBeAccepted must be true or false, but is ${describe(item.mustBeAccepted)}`);
  checkText(item.description, `${what}.description`, problems, { max: CONTENT_LIMITS.description });
  checkOptionalObject(item.metadata, `${what}.metadata`, problems);
  switch (type) {
    case 'ConsentRequestItem':
      checkText(item.consent, `${what}.consent`, problems, { required: true, max: CONTENT_LIMITS.consent });
      if (checkText(item.link, `${what}.link`, problems, { min: CONTENT_LIMITS.linkMin, max: CONTENT_LIMITS.linkMax }) && !LINK.test(item.link)) {
        problems.push(`${what}.link ${describe(item.link)} is not a link such as https://example.com/terms`);
      }
      checkText(item.linkDisplayText, `${what}.linkDisplayText`, problems, { min: CONTENT_LIMITS.linkDisplayTextMin, max: CONTENT_LIMITS.linkDisplayTextMax });
      if (item.linkDisplayText !== undefined && item.link === undefined) problems.push(`${what}.linkDisplayText is only allowed together with a link`);
      if (item.requiresInteraction !== undefined && typeof item.requiresInteraction !== 'boolean') {
        problems.push(`${what}.requiresInteraction must be true or false`);
      }
      break;
    case 'AuthenticationRequestItem':
      checkText(item.title, `${what}.title`, problems, { required: true, max: CONTENT_LIMITS.authenticationTitle });
      break;
    case 'ShareAttributeRequestItem': {
      checkAttribute(item.attribute, `${what}.attribute`, problems, ctx);
      if (typeof item.attributeId !== 'string' || item.attributeId === '') {
        problems.push(`${what}.attributeId must be an attribute id (ATT…), but is ${describe(item.attributeId)}`);
      } else if (ctx.ownTemplate && !ATTRIBUTE_ID.test(item.attributeId)) {
        problems.push(`${what}.attributeId "${item.attributeId}" is not an attribute id (ATT and 17 letters or digits)`);
      }
      const attribute = isObject(item.attribute) ? item.attribute : undefined;
      const thirdParty = item.thirdPartyAddress ?? item.initialAttributePeer;
      if (attribute?.['@type'] === 'IdentityAttribute') {
        if (thirdParty !== undefined) problems.push(`${what}: an IdentityAttribute is shared without a third party address`);
        if (ctx.ownTemplate && typeof attribute.owner === 'string') {
          if (!isValidAddress(attribute.owner)) {
            problems.push(`${what}.attribute.owner must be our address (the App refuses a shared IdentityAttribute owned by anyone else), but is ${describe(attribute.owner)}`);
          } else if (ctx.ownerAddress !== undefined && attribute.owner !== ctx.ownerAddress) {
            problems.push(`${what}.attribute.owner is ${attribute.owner}, not our address ${ctx.ownerAddress}; the App refuses it`);
          }
        }
      } else if (attribute?.['@type'] === 'RelationshipAttribute' && thirdParty === undefined) {
        problems.push(`${what}: a shared RelationshipAttribute needs the address of the relationship it comes from (thirdPartyAddress)`);
      }
      break;
    }
    case 'ReadAttributeRequestItem':
      checkQuery(item.query, `${what}.query`, problems);
      break;
    case 'ProposeAttributeRequestItem':
      checkQuery(item.query, `${what}.query`, problems);
      checkAttribute(item.attribute, `${what}.attribute`, problems, { ...ctx, ownTemplate: false });
      break;
    case 'CreateAttributeRequestItem':
      checkAttribute(item.attribute, `${what}.attribute`, problems, { ...ctx, ownTemplate: false });
      break;
    case 'DeleteAttributeRequestItem':
      if (typeof item.attributeId !== 'string') problems.push(`${what}.attributeId must be an attribute id`);
      break;
    case 'FormFieldRequestItem':
      checkText(item.title, `${what}.title`, problems, { required: true, max: CONTENT_LIMITS.title });
      if (!isObject(item.settings)) problems.push(`${what}.settings must be an object`);
      break;
    case 'TransferFileOwnershipRequestItem':
      if (typeof item.fileReference !== 'string') problems.push(`${what}.fileReference must be text`);
      if (typeof item.ownershipToken !== 'string') problems.push(`${what}.ownershipToken must be text`);
      break;
  }
}

export function checkRequest(request: unknown, what: string, problems: string[], ctx: CheckContext): void {
  if (!isObject(request)) {
    problems.push(`${what} must be a Request object, but is ${describe(request)}`);
    return;
  }
  // .toJSON() of the classes leaves "@type" out of a nested Request; when present it must say Request.
  if (request['@type'] !== undefined && request['@type'] !== 'Request') {
    problems.push(`${what}["@type"] must be "Request", but is ${describe(request['@type'])}`);
  }
  if (request.id !== undefined) {
    if (typeof request.id !== 'string' || !REQUEST_ID.test(request.id)) problems.push(`${what}.id must be a request id (REQ…), but is ${describe(request.id)}`);
    else if (ctx.ownTemplate && !ctx.requestIdAllowed) {
      problems.push(`${what}.id should not be set in a template: the App refuses a Request whose id it has seen before, so the same person could not scan the template twice`);
    }
  }
  if (request.expiresAt !== undefined) {
    if (typeof request.expiresAt !== 'string') problems.push(`${what}.expiresAt must be an ISO date`);
    else isoDate(request.expiresAt, `${what}.expiresAt`, problems, ctx.now);
  }
  checkText(request.title, `${what}.title`, problems, { max: CONTENT_LIMITS.title });
  checkText(request.description, `${what}.description`, problems, { max: CONTENT_LIMITS.description });
  checkOptionalObject(request.metadata, `${what}.metadata`, problems);
  const items = request.items;
  if (!Array.isArray(items)) {
    problems.push(`${what}.items must be a list of RequestItems`);
    return;
  }
  if (items.length === 0) problems.push(`${what}.items must not be empty`);
  items.forEach((item, i) => {
    const itemWhat = `${what}.items[${i}]`;
    if (typeOf(item) !== 'RequestItemGroup') return checkRequestItem(item, itemWhat, problems, ctx);
    const group = item as JsonObject;
    checkText(group.title, `${itemWhat}.title`, problems, { max: CONTENT_LIMITS.title });
    checkText(group.description, `${itemWhat}.description`, problems, { max: CONTENT_LIMITS.description });
    checkOptionalObject(group.metadata, `${itemWhat}.metadata`, problems);
    if (!Array.isArray(group.items)) {
      problems.push(`${itemWhat}.items must be a list of RequestItems`);
      return;
    }
    if (group.items.length === 0) problems.push(`${itemWhat}.items must not be empty`);
    group.items.forEach((inner, j) => checkRequestItem(inner, `${itemWhat}.items[${j}]`, problems, ctx));
  });
}

/**
 * The problems of a template content given as raw JSON (empty when it is fine), in words a user
 * can act on. Checks what @nmshd/content 7.0.0 needs to read it (known `@type`s, required fields,
 * lengths) and what the App additionally relies on: a non-empty Request, `mustBeAccepted` on every
 * item, no nested groups, a shared IdentityAttribute owned by us with characters the App accepts,
 * no fixed Request id, no past expiry.
 */
export function validateTemplateContent(json: unknown, options: TemplateValidationOptions = {}): string[] {
  const problems: string[] = [];
  const ctx: CheckContext = { ownTemplate: true, ownerAddress: options.ownerAddress, now: options.now ?? new Date() };
  try {
    if (!isObject(json)) return [`The template content must be a JSON object, but is ${describe(json)}`];
    const type = json['@type'];
    if (type === 'ArbitraryRelationshipTemplateContent') {
      if (json.value === undefined) problems.push('An ArbitraryRelationshipTemplateContent needs a "value"');
      if (options.forApp) problems.push('The enmeshed App only handles a RelationshipTemplateContent; it shows nothing for an ArbitraryRelationshipTemplateContent');
      return problems;
    }
    if (type !== 'RelationshipTemplateContent') {
      return [`The template content "@type" must be "RelationshipTemplateContent" or "ArbitraryRelationshipTemplateContent", but is ${describe(type)}`];
    }
    checkText(json.title, 'title', problems, { max: CONTENT_LIMITS.title });
    checkOptionalObject(json.metadata, 'metadata', problems);
    checkRequest(json.onNewRelationship, 'onNewRelationship', problems, ctx);
    if (json.onExistingRelationship !== undefined && json.onExistingRelationship !== null) {
      checkRequest(json.onExistingRelationship, 'onExistingRelationship', problems, ctx);
    }
  } catch (error) {
    problems.push(`The template content could not be checked: ${error instanceof Error ? error.message : String(error)}`);
  }
  return problems;
}
