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

/** An attribute that exists only within one relationship, owned by one of its two sides (attributes/RelationshipAttribute.d.ts). */
export interface RelationshipAttributeJson<V extends AttributeValueJson = AttributeValueJson> {
  '@type': 'RelationshipAttribute';
  owner: string;
  value: V;
  /** Names the attribute within the relationship; key, owner and value type are unique there. */
  key: string;
  /** Whether the peer may pass it on to third parties ("public", "protected") or not ("private"). */
  confidentiality: 'public' | 'protected' | 'private';
  isTechnical?: boolean;
}

export type AttributeJson = IdentityAttributeJson | RelationshipAttributeJson;

/** Asks for an IdentityAttribute of one value type (e.g. DisplayName) the recipient owns. */
export interface IdentityAttributeQueryJson {
  '@type': 'IdentityAttributeQuery';
  valueType: IdentityAttributeValueType;
  tags?: string[];
}

/** How the recipient's App offers to create a queried RelationshipAttribute (attributes/RelationshipAttributeQuery.d.ts). */
export interface RelationshipAttributeCreationHintsJson {
  title: string;
  valueType: string;
  description?: string;
  valueHints?: JsonObject;
  confidentiality: 'public' | 'protected' | 'private';
}

/** Asks for a RelationshipAttribute of this relationship; owner "" means the recipient. */
export interface RelationshipAttributeQueryJson {
  '@type': 'RelationshipAttributeQuery';
  key: string;
  owner: string;
  attributeCreationHints: RelationshipAttributeCreationHintsJson;
}

/** Asks for a RelationshipAttribute the recipient has in a relationship with one of `thirdParty`. */
export interface ThirdPartyRelationshipAttributeQueryJson {
  '@type': 'ThirdPartyRelationshipAttributeQuery';
  key: string;
  owner: '' | 'recipient' | 'thirdParty';
  thirdParty: string[];
}

export interface IQLQueryJson {
  '@type': 'IQLQuery';
  queryString: string;
  attributeCreationHints?: { valueType: string; tags?: string[] };
}

export type AttributeQueryJson = IdentityAttributeQueryJson | RelationshipAttributeQueryJson | ThirdPartyRelationshipAttributeQueryJson | IQLQueryJson;

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
  attribute: AttributeJson;
  attributeId: string;
  /** A RelationshipAttribute only: the peer of the relationship it belongs to. */
  thirdPartyAddress?: string;
}

/** The sender asks for one of the recipient's attributes (requests/items/readAttribute/ReadAttributeRequestItem.d.ts). */
export interface ReadAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'ReadAttributeRequestItem';
  query: AttributeQueryJson;
}

/** The sender proposes a value the recipient may confirm or replace (owner "": the recipient). */
export interface ProposeAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'ProposeAttributeRequestItem';
  query: IdentityAttributeQueryJson | RelationshipAttributeQueryJson | IQLQueryJson;
  attribute: AttributeJson;
}

/** The sender gives the recipient an attribute to keep (an IdentityAttribute owned by the recipient, or a RelationshipAttribute). */
export interface CreateAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'CreateAttributeRequestItem';
  attribute: AttributeJson;
}

/** The sender asks the recipient to delete its copy of an attribute the sender shared. */
export interface DeleteAttributeRequestItemJson extends RequestItemBaseJson {
  '@type': 'DeleteAttributeRequestItem';
  attributeId: string;
}

/** The settings of a form field (requests/items/formField/settings). */
export type FormFieldSettingsJson =
  | { '@type': 'StringFormFieldSettings'; allowNewlines?: true; min?: number; max?: number }
  | { '@type': 'IntegerFormFieldSettings' | 'DoubleFormFieldSettings'; unit?: string; min?: number; max?: number }
  | { '@type': 'BooleanFormFieldSettings' }
  | { '@type': 'DateFormFieldSettings' }
  | { '@type': 'SelectionFormFieldSettings'; options: string[]; allowMultipleSelection?: true }
  | { '@type': 'RatingFormFieldSettings'; maxRating: 5 | 6 | 7 | 8 | 9 | 10 };

/** A question the person answers in a form field: text, number, yes/no, date, choice or rating. */
export interface FormFieldRequestItemJson extends RequestItemBaseJson {
  '@type': 'FormFieldRequestItem';
  title: string;
  settings: FormFieldSettingsJson;
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
  | ProposeAttributeRequestItemJson
  | CreateAttributeRequestItemJson
  | DeleteAttributeRequestItemJson
  | FormFieldRequestItemJson
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
  attribute: AttributeJson;
  /** A RelationshipAttribute from a relationship with a third party: that party (7.5 calls it initialAttributePeer). */
  thirdPartyAddress?: string;
}

/** Answer to a ProposeAttributeRequestItem: the confirmed attribute and its id. */
export interface ProposeAttributeAcceptResponseItemJson {
  '@type': 'ProposeAttributeAcceptResponseItem';
  result: 'Accepted';
  attributeId: string;
  attribute: AttributeJson;
}

/** The asked attribute was shared with the asker before under this id: the asker has its value. */
export interface AttributeAlreadySharedAcceptResponseItemJson {
  '@type': 'AttributeAlreadySharedAcceptResponseItem';
  result: 'Accepted';
  attributeId: string;
}

/** A newer version of an attribute shared before: it replaces `predecessorId`. */
export interface AttributeSuccessionAcceptResponseItemJson {
  '@type': 'AttributeSuccessionAcceptResponseItem';
  result: 'Accepted';
  predecessorId: string;
  successorId: string;
  successorContent: AttributeJson;
}

export interface FormFieldAcceptResponseItemJson {
  '@type': 'FormFieldAcceptResponseItem';
  result: 'Accepted';
  response: string | number | boolean | string[];
}

/** The responder deletes its copy of the attribute by `deletionDate`. */
export interface DeleteAttributeAcceptResponseItemJson {
  '@type': 'DeleteAttributeAcceptResponseItem';
  result: 'Accepted';
  deletionDate: string;
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
  | AttributeAlreadySharedAcceptResponseItemJson
  | AttributeSuccessionAcceptResponseItemJson
  | FormFieldAcceptResponseItemJson
  | DeleteAttributeAcceptResponseItemJson
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

/**
 * How a Response travels in a message (requests/ResponseWrapper.d.ts): with the id of the Request
 * and where the Request came from — the message that carried it, or the template.
 */
export interface ResponseWrapperJson {
  '@type': 'ResponseWrapper';
  requestId: string;
  requestSourceReference: string;
  requestSourceType: 'Message' | 'RelationshipTemplate';
  response: ResponseJson;
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
