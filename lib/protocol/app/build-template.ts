import { isValidAddress } from '../../crypto';
import { attributeTextProblem, cleanAttributeText } from './attribute-values';
import { checkOptionalObject, checkText, describe, includes, isoDate, LINK } from './checks';
import { ATTRIBUTE_ID, derivedCoreId } from './ids';
import {
  AppContentError,
  CONTENT_LIMITS,
  IDENTITY_ATTRIBUTE_VALUE_TYPES,
  type ConsentRequestItemJson,
  type IdentityAttributeValueType,
  type JsonObject,
  type ReadAttributeRequestItemJson,
  type RelationshipTemplateContentJson,
  type RequestItemGroupJson,
  type RequestItemJson,
  type RequestJson,
  type ShareAttributeRequestItemJson,
} from './types';
import { validateTemplateContent } from './validate-template';

/** Building our template content for the App from the few inputs an n8n user fills in. */

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
