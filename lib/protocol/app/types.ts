/**
 * The plain-JSON shapes of the App contents (@nmshd/content 7.0.0), the names and limits its classes
 * know, and the error the builders throw.
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
