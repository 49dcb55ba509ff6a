import { isValidAddress, randomBytes, sha256 } from '../../crypto';

/**
 * Plain-JSON contents for talking to the enmeshed App: the RelationshipTemplateContent an
 * organisation shows a person (title + a Request with consent / attribute items), the
 * RelationshipCreationContent the App answers with (a Response to that Request), and the answer we
 * give when we ourselves accept someone else's App-style template.
 *
 * The shapes follow @nmshd/content 7.0.0 (packages/content/src in nmshd/runtime): every object is
 * what `Serializable.fromUnknown(json)` of that package accepts and what `.toJSON()` of its classes
 * produces. The rules the App applies beyond the classes come from @nmshd/consumption 7.0.0 (the
 * request item processors) and @nmshd/runtime 7.0.0 (RequestModule, CreateOwnRelationshipTemplate).
 * This module imports none of them: it builds and reads plain JSON.
 */

// ------------------------------------------------------------------------------------------------
// Known names and limits (@nmshd/content 7.0.0)
// ------------------------------------------------------------------------------------------------

/** The RequestItem `@type`s @nmshd/content 7.0.0 can deserialize (requests/RequestItem.js, isRequestItemDerivation). */
export const REQUEST_ITEM_TYPES = [
  'ConsentRequestItem',
  'AuthenticationRequestItem',
  'ShareAttributeRequestItem',
  'ReadAttributeRequestItem',
  'ProposeAttributeRequestItem',
  'CreateAttributeRequestItem',
  'DeleteAttributeRequestItem',
  'FormFieldRequestItem',
  'TransferFileOwnershipRequestItem',
] as const;
export type RequestItemType = (typeof REQUEST_ITEM_TYPES)[number];

/** RequestItem `@type`s added by runtime versions after 7.0.0: an App on 7.0.0 cannot read them. */
export const LATER_REQUEST_ITEM_TYPES = ['ShareCredentialOfferRequestItem', 'ShareAuthorizationRequestRequestItem'] as const;

/** The IdentityAttribute value types of @nmshd/content 7.0.0 (AttributeValues.Identity.TYPE_NAMES). */
export const IDENTITY_ATTRIBUTE_VALUE_TYPES = [
  'Affiliation',
  'BirthDate',
  'BirthName',
  'BirthPlace',
  'Citizenship',
  'CommunicationLanguage',
  'DeliveryBoxAddress',
  'DisplayName',
  'EMailAddress',
  'FaxNumber',
  'GivenName',
  'HonorificPrefix',
  'HonorificSuffix',
  'IdentityFileReference',
  'JobTitle',
  'Nationality',
  'MiddleName',
  'PhoneNumber',
  'PostOfficeBoxAddress',
  'Pseudonym',
  'Sex',
  'StreetAddress',
  'Surname',
  'Website',
  'SchematizedXML',
] as const;
export type IdentityAttributeValueType = (typeof IDENTITY_ATTRIBUTE_VALUE_TYPES)[number];

/** The attribute query `@type`s a ReadAttributeRequestItem may carry. */
export const ATTRIBUTE_QUERY_TYPES = ['IdentityAttributeQuery', 'RelationshipAttributeQuery', 'ThirdPartyRelationshipAttributeQuery', 'IQLQuery'] as const;

/** Maximum lengths the @nmshd/content 7.0.0 classes validate (`@validate({ max })`). */
export const CONTENT_LIMITS = {
  /** RelationshipTemplateContent.title, Request.title, RequestItemGroup.title. */
  title: 200,
  /** Request.description, RequestItem.description, RequestItemGroup.description. */
  description: 500,
  /** ConsentRequestItem.consent. */
  consent: 10000,
  /** ConsentRequestItem.link: 3 to 1024 characters. */
  linkMin: 3,
  linkMax: 1024,
  /** ConsentRequestItem.linkDisplayText: 3 to 30 characters, and only together with a link. */
  linkDisplayTextMin: 3,
  linkDisplayTextMax: 30,
  /** AuthenticationRequestItem.title. */
  authenticationTitle: 200,
  /** The `value` of string attribute values such as DisplayName (AbstractString). */
  attributeString: 100,
  /** RejectResponseItem / ErrorResponseItem code and message. */
  responseCode: 200,
  responseMessage: 1000,
} as const;

/** Ids are a 3-letter prefix and 17 characters of [A-Za-z0-9] (core-types CoreIdHelper). */
const REQUEST_ID = /^REQ[A-Za-z0-9]{17}$/;
const ATTRIBUTE_ID = /^ATT[A-Za-z0-9]{17}$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// ------------------------------------------------------------------------------------------------
// JSON shapes
// ------------------------------------------------------------------------------------------------

export type JsonObject = Record<string, unknown>;

/** An attribute value: `{ '@type': 'DisplayName', value: 'ACME' }`, or a complex one such as StreetAddress. */
export interface AttributeValueJson {
  '@type': string;
  [field: string]: unknown;
}

export interface DisplayNameJson extends AttributeValueJson {
  '@type': 'DisplayName';
  value: string;
}

/** An attribute about an identity, owned by that identity (its address in `owner`). */
export interface IdentityAttributeJson<V extends AttributeValueJson = AttributeValueJson> {
  '@type': 'IdentityAttribute';
  owner: string;
  value: V;
  tags?: string[];
}

/** Asks for an IdentityAttribute of one value type (e.g. DisplayName) the recipient owns. */
export interface IdentityAttributeQueryJson {
  '@type': 'IdentityAttributeQuery';
  valueType: IdentityAttributeValueType;
  tags?: string[];
}

/** What every RequestItem has (requests/RequestItem.d.ts). */
export interface RequestItemBaseJson {
  /** Must the recipient accept this item to accept the Request? Required by the classes. */
  mustBeAccepted: boolean;
  /** Shown to the recipient; at most 500 characters. */
  description?: string;
  /** Free data for the sender (the recipient's software ignores it). */
  metadata?: JsonObject;
}

/** A text the recipient agrees to (requests/items/consent/ConsentRequestItem.d.ts). */
export interface ConsentRequestItemJson extends RequestItemBaseJson {
  '@type': 'ConsentRequestItem';
  /** At most 10000 characters. */
  consent: string;
  /** A URL, 3 to 1024 characters. */
  link?: string;
  /** The link's label, 3 to 30 characters; only allowed with a link. */
  linkDisplayText?: string;
  /** The App makes the user tick the consent explicitly. */
  requiresInteraction?: boolean;
}

/** "Log in to …" (requests/items/authentication/AuthenticationRequestItem.d.ts). */
export interface AuthenticationRequestItemJson extends RequestItemBaseJson {
  '@type': 'AuthenticationRequestItem';
  /** At most 200 characters. */
  title: string;
}

/**
 * The sender shares one of its own attributes (requests/items/shareAttribute/ShareAttributeRequestItem.d.ts).
 * For an IdentityAttribute the owner must be the sender's address: the App stores it as the
 * sender's (PeerIdentityAttribute) and refuses another owner. `attributeId` becomes the id of the
 * App's copy.
 */
export interface ShareAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'ShareAttributeRequestItem';
  attribute: IdentityAttributeJson;
  attributeId: string;
}

/** The sender asks for one of the recipient's attributes (requests/items/readAttribute/ReadAttributeRequestItem.d.ts). */
export interface ReadAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'ReadAttributeRequestItem';
  query: IdentityAttributeQueryJson;
}

/** Any other RequestItem, kept as given (see REQUEST_ITEM_TYPES). */
export interface OtherRequestItemJson extends RequestItemBaseJson {
  '@type': string;
  [field: string]: unknown;
}

export type RequestItemJson =
  | ConsentRequestItemJson
  | AuthenticationRequestItemJson
  | ShareAttributeRequestItemJson
  | ReadAttributeRequestItemJson
  | OtherRequestItemJson;

/** Groups items on screen (requests/RequestItemGroup.d.ts). Its items are RequestItems, not groups. */
export interface RequestItemGroupJson {
  '@type': 'RequestItemGroup';
  title?: string;
  description?: string;
  metadata?: JsonObject;
  items: RequestItemJson[];
}

/** A Request (requests/Request.d.ts). `items` must not be empty. */
export interface RequestJson {
  '@type': 'Request';
  /** Normally absent in a template: the recipient then gives its copy of the Request a fresh id. */
  id?: string;
  /** ISO date; once past, the App no longer offers the Request. */
  expiresAt?: string;
  title?: string;
  description?: string;
  metadata?: JsonObject;
  items: (RequestItemJson | RequestItemGroupJson)[];
}

/** relationships/RelationshipTemplateContent.d.ts */
export interface RelationshipTemplateContentJson {
  '@type': 'RelationshipTemplateContent';
  /** At most 200 characters. Optional for the classes; the App shows it, so we always set it. */
  title?: string;
  metadata?: JsonObject;
  /** The Request the App shows when there is no relationship yet. */
  onNewRelationship: RequestJson;
  /** The Request the App shows when the person already has an active relationship with us. */
  onExistingRelationship?: RequestJson;
}

/** relationships/ArbitraryRelationshipTemplateContent.d.ts: any value, for non-App peers (the App shows no Request). */
export interface ArbitraryRelationshipTemplateContentJson {
  '@type': 'ArbitraryRelationshipTemplateContent';
  value: unknown;
}

/** ResponseItem.result (requests/response/ResponseItemResult.js: Accepted, Rejected, and Failed = "Error"). */
export type ResponseItemResultValue = 'Accepted' | 'Rejected' | 'Error';

export interface AcceptResponseItemJson {
  '@type': 'AcceptResponseItem';
  result: 'Accepted';
}

/** Answer to a ReadAttributeRequestItem: the attribute and the id the responder gave it. */
export interface ReadAttributeAcceptResponseItemJson {
  '@type': 'ReadAttributeAcceptResponseItem';
  result: 'Accepted';
  attributeId: string;
  attribute: IdentityAttributeJson;
}

/** Answer to a ProposeAttributeRequestItem: the confirmed attribute and its id. */
export interface ProposeAttributeAcceptResponseItemJson {
  '@type': 'ProposeAttributeAcceptResponseItem';
  result: 'Accepted';
  attributeId: string;
  attribute: IdentityAttributeJson;
}

/** Answer to a CreateAttributeRequestItem: the id the responder gave the created attribute. */
export interface CreateAttributeAcceptResponseItemJson {
  '@type': 'CreateAttributeAcceptResponseItem';
  result: 'Accepted';
  attributeId: string;
}

export interface RejectResponseItemJson {
  '@type': 'RejectResponseItem';
  result: 'Rejected';
  code?: string;
  message?: string;
}

export interface ErrorResponseItemJson {
  '@type': 'ErrorResponseItem';
  result: 'Error';
  code: string;
  message: string;
}

export type ResponseItemJson =
  | AcceptResponseItemJson
  | ReadAttributeAcceptResponseItemJson
  | ProposeAttributeAcceptResponseItemJson
  | CreateAttributeAcceptResponseItemJson
  | RejectResponseItemJson
  | ErrorResponseItemJson;

/** Answers a RequestItemGroup, item by item (requests/response/ResponseItemGroup.d.ts). */
export interface ResponseItemGroupJson {
  '@type': 'ResponseItemGroup';
  items: ResponseItemJson[];
}

/** requests/response/Response.d.ts: one item (or group) per item of the Request, in the same order. */
export interface ResponseJson {
  '@type': 'Response';
  result: 'Accepted' | 'Rejected';
  requestId: string;
  items: (ResponseItemJson | ResponseItemGroupJson)[];
}

/** relationships/RelationshipCreationContent.d.ts: the answer to a RelationshipTemplateContent. */
export interface RelationshipCreationContentJson {
  '@type': 'RelationshipCreationContent';
  response: ResponseJson;
}

/** relationships/ArbitraryRelationshipCreationContent.d.ts: the answer to an ArbitraryRelationshipTemplateContent. */
export interface ArbitraryRelationshipCreationContentJson {
  '@type': 'ArbitraryRelationshipCreationContent';
  value: unknown;
}

/** Bad input to a builder. `problems` lists every problem found, `message` joins them. */
export class AppContentError extends Error {
  /** Same code as ProtocolError's bad-input code, so callers can treat both alike. */
  readonly code = 'protocol.input.invalid' as const;
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'AppContentError';
    this.problems = problems;
  }
}

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typeOf(value: unknown): string | undefined {
  return isObject(value) && typeof value['@type'] === 'string' ? value['@type'] : undefined;
}

function includes<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Base62 characters from random bytes, without modulo bias. */
function alnum(length: number, nextBytes: () => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const b of nextBytes()) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** A fresh id such as REQ… or ATT… (20 characters, as the runtime generates them). */
export function randomCoreId(prefix: 'REQ' | 'ATT'): string {
  return prefix + alnum(17, () => randomBytes(24));
}

/** A stable id derived from a seed: the same seed always gives the same id. */
function derivedCoreId(prefix: 'REQ' | 'ATT', seed: string): string {
  let round = 0;
  return prefix + alnum(17, () => sha256(`${seed}\u0000${round++}`));
}

/**
 * Characters the runtime accepts in attribute values (consumption AttributesController
 * validateAttributeCharacters, which follows the Latin character set of DIN SPEC 91379): single
 * code points. A value with any other character makes the App fail when it stores the attribute.
 */
const ATTRIBUTE_CHAR_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0a],
  [0x0d, 0x0d],
  [0x20, 0x7e],
  [0xa0, 0xac],
  [0xae, 0x17e],
  [0x187, 0x188],
  [0x18f, 0x18f],
  [0x197, 0x197],
  [0x1a0, 0x1a1],
  [0x1af, 0x1b0],
  [0x1b7, 0x1b7],
  [0x1cd, 0x1dc],
  [0x1de, 0x1df],
  [0x1e2, 0x1f0],
  [0x1f4, 0x1f5],
  [0x1f8, 0x1ff],
  [0x212, 0x213],
  [0x218, 0x21b],
  [0x21e, 0x21f],
  [0x227, 0x233],
  [0x259, 0x259],
  [0x268, 0x268],
  [0x292, 0x292],
  [0x2b9, 0x2ba],
  [0x2be, 0x2bf],
  [0x2c8, 0x2c8],
  [0x2cc, 0x2cc],
  [0x1e02, 0x1e03],
  [0x1e06, 0x1e07],
  [0x1e0a, 0x1e11],
  [0x1e17, 0x1e17],
  [0x1e1c, 0x1e2b],
  [0x1e2f, 0x1e37],
  [0x1e3a, 0x1e3b],
  [0x1e40, 0x1e49],
  [0x1e52, 0x1e5b],
  [0x1e5e, 0x1e63],
  [0x1e6a, 0x1e6f],
  [0x1e80, 0x1e87],
  [0x1e8c, 0x1e97],
  [0x1e9e, 0x1e9e],
  [0x1ea0, 0x1ef9],
  [0x2019, 0x2019],
  [0x2021, 0x2021],
  [0x20ac, 0x20ac],
];

function isAllowedChar(cp: number): boolean {
  return ATTRIBUTE_CHAR_RANGES.some(([from, to]) => cp >= from && cp <= to);
}

/**
 * Why the runtime would refuse this text inside an attribute value, or undefined when it accepts it.
 * Exact for precomposed characters. A combining mark (U+0300–U+036F) is allowed after a letter;
 * the runtime allows only some such pairs (e.g. "C̀"), so a rare combination may pass here and still
 * be refused. Normalize to NFC first (the builders do) so that "é" written as e + ◌́ passes.
 */
export function attributeTextProblem(text: string): string | undefined {
  let previousIsLetter = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (isAllowedChar(cp)) {
      previousIsLetter = /\p{L}/u.test(ch);
      continue;
    }
    if (cp >= 0x300 && cp <= 0x36f && previousIsLetter) continue;
    const hex = cp.toString(16).toUpperCase().padStart(4, '0');
    return `contains "${ch}" (U+${hex}), which enmeshed does not allow in attribute values (only Latin letters, digits and common punctuation)`;
  }
  return undefined;
}

function cleanAttributeText(text: string): string {
  return text.normalize('NFC').trim();
}

function isoDate(value: string | Date, what: string, problems: string[], now: Date): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || !Number.isFinite(date.getTime()) || (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(value))) {
    problems.push(`${what} must be an ISO date such as 2030-01-31T12:00:00.000Z`);
    return undefined;
  }
  if (date.getTime() <= now.getTime()) problems.push(`${what} (${date.toISOString()}) is in the past`);
  return date.toISOString();
}

function checkText(value: unknown, what: string, problems: string[], opts: { required?: boolean; min?: number; max: number }): value is string {
  if (value === undefined && !opts.required) return false;
  if (typeof value !== 'string') {
    problems.push(`${what} must be text, but is ${describe(value)}`);
    return false;
  }
  if (opts.required && value.trim() === '') {
    problems.push(`${what} must not be empty`);
    return false;
  }
  if (opts.min !== undefined && value.length < opts.min) problems.push(`${what} must have at least ${opts.min} characters`);
  if (value.length > opts.max) problems.push(`${what} has ${value.length} characters; at most ${opts.max} are allowed`);
  return true;
}

function checkOptionalObject(value: unknown, what: string, problems: string[]): void {
  if (value !== undefined && !isObject(value)) problems.push(`${what} must be a JSON object, but is ${describe(value)}`);
}

/** The ConsentRequestItem.link pattern of @nmshd/content 7.0.0, in substance: scheme://host… or www.host… */
const LINK = /^(?:[A-Za-z]{3,9}:(?:\/\/)?(?:[-;:&=+$,\w]+@)?[A-Za-z0-9.-]+|(?:www\.|[-;:&=+$,\w]+@)[A-Za-z0-9.-]+)(?:\/[+~%/.\w-]*)?\??[-+=&;%@.\w]*#?[.!/\\\w]*$/;

// ------------------------------------------------------------------------------------------------
// Validation of template contents (and of the Requests inside)
// ------------------------------------------------------------------------------------------------

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

interface CheckContext {
  /** Checking our own template (stricter: request ids, characters of shared attributes). */
  ownTemplate: boolean;
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

function checkRequest(request: unknown, what: string, problems: string[], ctx: CheckContext): void {
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
    else if (ctx.ownTemplate) {
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

// ------------------------------------------------------------------------------------------------
// Building our template content
// ------------------------------------------------------------------------------------------------

/** A consent the person must (or may) agree to: a ConsentRequestItem. */
export interface ConsentParams {
  /** The consent text, at most 10000 characters. */
  text: string;
  /** A link to the full terms, e.g. https://example.com/privacy. */
  link?: string;
  /** The link's label (3 to 30 characters); only with a link. */
  linkDisplayText?: string;
  /** Make the App ask for an explicit tick. */
  requiresInteraction?: boolean;
  /** Default true: without agreeing, the person cannot accept the template. */
  mustBeAccepted?: boolean;
  description?: string;
}

/** Ask the person to share one of their identity attributes: a ReadAttributeRequestItem with an IdentityAttributeQuery. */
export interface RequestAttributeParams {
  valueType: IdentityAttributeValueType;
  /** Default true. The App lets the person pick an existing attribute or enter a new one. */
  mustBeAccepted?: boolean;
  description?: string;
}

/** Our organisation's display name, shared with the person: a ShareAttributeRequestItem. */
export interface ShareDisplayNameParams {
  /** The name the App shows for us; at most 100 characters of Latin script. */
  value: string;
  /**
   * The id the person's App gives its copy of our attribute. Default: derived from our address and
   * the name, so the same name always has the same id and a changed name a new one.
   */
  attributeId?: string;
  /** Default true. */
  mustBeAccepted?: boolean;
  description?: string;
}

/** The inputs an n8n user fills in for an onboarding template. */
export interface TemplateContentParams {
  /** The template's title, shown by the App; at most 200 characters. */
  title: string;
  /** Text shown with the Request (Request.description); at most 500 characters. */
  description?: string;
  /** Our own data about the template (RelationshipTemplateContent.metadata). The person can see it. */
  metadata?: JsonObject;
  /** Our address (did:e:…). Required with shareDisplayName: the shared attribute is owned by it. */
  ownerAddress?: string;
  /** A consent text (→ ConsentRequestItem, mustBeAccepted true), or its details. */
  consent?: string | ConsentParams;
  /** Ask for the person's DisplayName (→ ReadAttributeRequestItem, IdentityAttributeQuery DisplayName). */
  requestDisplayName?: boolean | Omit<RequestAttributeParams, 'valueType'>;
  /** Ask for further identity attributes, e.g. ['GivenName', 'Surname', 'EMailAddress']. */
  requestAttributes?: (IdentityAttributeValueType | RequestAttributeParams)[];
  /** Our display name, shared with the person (→ ShareAttributeRequestItem); needs ownerAddress. */
  shareDisplayName?: string | ShareDisplayNameParams;
  /**
   * When the Request stops being valid (Request.expiresAt). Set it to the template's expiry: the
   * Connector does the same when the Request has none.
   */
  expiresAt?: string | Date;
  /** Further RequestItems or RequestItemGroups, as raw JSON; they are validated like the rest. */
  extraItems?: (RequestItemJson | RequestItemGroupJson)[];
  /** The current time, for the expiry check (default: now). */
  now?: Date;
}

/**
 * The DisplayName attribute we share: an IdentityAttribute owned by `ownerAddress`, value
 * `{ '@type': 'DisplayName', value }`. Throws AppContentError for a bad address or name.
 */
export function buildShareDisplayNameItem(ownerAddress: string, params: string | ShareDisplayNameParams): ShareAttributeRequestItemJson {
  const p: ShareDisplayNameParams = typeof params === 'string' ? { value: params } : params;
  const problems: string[] = [];
  if (!isValidAddress(ownerAddress)) problems.push(`The owner address ${describe(ownerAddress)} is not an enmeshed address (did:e:…)`);
  const name = typeof p.value === 'string' ? cleanAttributeText(p.value) : '';
  if (name === '') problems.push('The display name must not be empty');
  else if (name.length > CONTENT_LIMITS.attributeString) problems.push(`The display name has ${name.length} characters; at most ${CONTENT_LIMITS.attributeString} are allowed`);
  const charProblem = attributeTextProblem(name);
  if (charProblem) problems.push(`The display name ${charProblem}`);
  if (p.attributeId !== undefined && !ATTRIBUTE_ID.test(p.attributeId)) problems.push(`The attribute id "${p.attributeId}" must be ATT followed by 17 letters or digits`);
  if (p.description !== undefined) checkText(p.description, 'The display name description', problems, { max: CONTENT_LIMITS.description });
  if (problems.length > 0) throw new AppContentError(problems);
  const item: ShareAttributeRequestItemJson = {
    '@type': 'ShareAttributeRequestItem',
    mustBeAccepted: p.mustBeAccepted ?? true,
    attribute: { '@type': 'IdentityAttribute', owner: ownerAddress, value: { '@type': 'DisplayName', value: name } },
    attributeId: p.attributeId ?? derivedCoreId('ATT', `DisplayName\u0000${ownerAddress}\u0000${name}`),
  };
  if (p.description !== undefined) item.description = p.description;
  return item;
}

/** A ReadAttributeRequestItem asking for one identity attribute of the person (e.g. DisplayName). */
export function buildReadAttributeItem(params: IdentityAttributeValueType | RequestAttributeParams): ReadAttributeRequestItemJson {
  const p: RequestAttributeParams = typeof params === 'string' ? { valueType: params } : params;
  const problems: string[] = [];
  if (!includes(IDENTITY_ATTRIBUTE_VALUE_TYPES, p.valueType)) {
    problems.push(`${describe(p.valueType)} is not an identity attribute type (${IDENTITY_ATTRIBUTE_VALUE_TYPES.join(', ')})`);
  }
  if (p.description !== undefined) checkText(p.description, `The ${p.valueType} request description`, problems, { max: CONTENT_LIMITS.description });
  if (problems.length > 0) throw new AppContentError(problems);
  const item: ReadAttributeRequestItemJson = {
    '@type': 'ReadAttributeRequestItem',
    mustBeAccepted: p.mustBeAccepted ?? true,
    query: { '@type': 'IdentityAttributeQuery', valueType: p.valueType },
  };
  if (p.description !== undefined) item.description = p.description;
  return item;
}

/** A ConsentRequestItem (mustBeAccepted true unless said otherwise). Throws AppContentError for bad inputs. */
export function buildConsentItem(params: string | ConsentParams): ConsentRequestItemJson {
  const p: ConsentParams = typeof params === 'string' ? { text: params } : params;
  const problems: string[] = [];
  checkText(p.text, 'The consent text', problems, { required: true, max: CONTENT_LIMITS.consent });
  const link = typeof p.link === 'string' ? p.link.trim() : p.link;
  if (checkText(link, 'The consent link', problems, { min: CONTENT_LIMITS.linkMin, max: CONTENT_LIMITS.linkMax }) && !LINK.test(link)) {
    problems.push(`The consent link ${describe(link)} is not a link such as https://example.com/terms`);
  }
  checkText(p.linkDisplayText, 'The consent link text', problems, { min: CONTENT_LIMITS.linkDisplayTextMin, max: CONTENT_LIMITS.linkDisplayTextMax });
  if (p.linkDisplayText !== undefined && link === undefined) problems.push('The consent link text needs a link');
  if (p.description !== undefined) checkText(p.description, 'The consent description', problems, { max: CONTENT_LIMITS.description });
  if (problems.length > 0) throw new AppContentError(problems);
  const item: ConsentRequestItemJson = { '@type': 'ConsentRequestItem', mustBeAccepted: p.mustBeAccepted ?? true, consent: p.text };
  if (link !== undefined) item.link = link;
  if (p.linkDisplayText !== undefined) item.linkDisplayText = p.linkDisplayText;
  if (p.requiresInteraction !== undefined) item.requiresInteraction = p.requiresInteraction;
  if (p.description !== undefined) item.description = p.description;
  return item;
}

/**
 * A RelationshipTemplateContent for the enmeshed App, from simple inputs:
 *
 * ```json
 * { "@type": "RelationshipTemplateContent", "title": "…",
 *   "onNewRelationship": { "@type": "Request", "expiresAt": "…", "description": "…",
 *     "items": [ ShareAttributeRequestItem (our DisplayName), ReadAttributeRequestItem (their DisplayName),
 *                ReadAttributeRequestItem (further attributes), ConsentRequestItem, …extraItems ] } }
 * ```
 *
 * At least one item is needed (a Request may not be empty). Throws AppContentError listing every
 * problem of the inputs; the result passes validateTemplateContent.
 */
export function buildRelationshipTemplateContent(params: TemplateContentParams): RelationshipTemplateContentJson {
  const problems: string[] = [];
  const now = params.now ?? new Date();
  const items: (RequestItemJson | RequestItemGroupJson)[] = [];
  const collect = (build: () => RequestItemJson): void => {
    try {
      items.push(build());
    } catch (error) {
      if (error instanceof AppContentError) problems.push(...error.problems);
      else throw error;
    }
  };

  if (typeof params.title !== 'string' || params.title.trim() === '') problems.push('The template needs a title');
  else checkText(params.title.trim(), 'The title', problems, { max: CONTENT_LIMITS.title });
  if (params.description !== undefined) checkText(params.description, 'The description', problems, { max: CONTENT_LIMITS.description });
  checkOptionalObject(params.metadata, 'The metadata', problems);

  if (params.shareDisplayName !== undefined) {
    if (params.ownerAddress === undefined) problems.push('Sharing our display name needs our address (ownerAddress)');
    else {
      const ownerAddress = params.ownerAddress;
      const share = params.shareDisplayName;
      collect(() => buildShareDisplayNameItem(ownerAddress, share));
    }
  }
  if (params.requestDisplayName) {
    const options = params.requestDisplayName === true ? {} : params.requestDisplayName;
    collect(() => buildReadAttributeItem({ ...options, valueType: 'DisplayName' }));
  }
  for (const attribute of params.requestAttributes ?? []) collect(() => buildReadAttributeItem(attribute));
  if (params.consent !== undefined) {
    const consent = params.consent;
    collect(() => buildConsentItem(consent));
  }
  if (params.extraItems !== undefined) {
    if (Array.isArray(params.extraItems)) items.push(...params.extraItems);
    else problems.push('The extra items must be a list of RequestItems');
  }
  if (items.length === 0 && problems.length === 0) {
    problems.push('The template asks nothing: give a consent text, ask for the display name, share our display name or add items');
  }

  let expiresAt: string | undefined;
  if (params.expiresAt !== undefined) expiresAt = isoDate(params.expiresAt, 'The request expiry', problems, now);
  if (problems.length > 0) throw new AppContentError(problems);

  const request: RequestJson = { '@type': 'Request', items };
  if (expiresAt !== undefined) request.expiresAt = expiresAt;
  if (params.description !== undefined) request.description = params.description;
  const content: RelationshipTemplateContentJson = { '@type': 'RelationshipTemplateContent', title: params.title.trim(), onNewRelationship: request };
  if (params.metadata !== undefined) content.metadata = params.metadata;

  const remaining = validateTemplateContent(content, { ownerAddress: params.ownerAddress, now });
  if (remaining.length > 0) throw new AppContentError(remaining);
  return content;
}

// ------------------------------------------------------------------------------------------------
// Reading the App's answer: RelationshipCreationContent
// ------------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------------
// Our own answer to someone else's template
// ------------------------------------------------------------------------------------------------

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
