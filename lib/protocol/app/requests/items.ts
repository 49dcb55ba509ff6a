import { isValidAddress } from '../../../crypto';
import { buildConsentItem } from '../build-template';
import { checkText, describe, includes, isObject } from '../checks';
import {
  AppContentError,
  CONTENT_LIMITS,
  IDENTITY_ATTRIBUTE_VALUE_TYPES,
  type AuthenticationRequestItemJson,
  type CreateAttributeRequestItemJson,
  type DeleteAttributeRequestItemJson,
  type FormFieldRequestItemJson,
  type FormFieldSettingsJson,
  type JsonObject,
  type ProposeAttributeRequestItemJson,
  type ReadAttributeRequestItemJson,
  type RelationshipAttributeJson,
  type RequestItemGroupJson,
  type RequestItemJson,
  type ShareAttributeRequestItemJson,
} from '../types';
import { buildAttributeValue, RELATIONSHIP_ATTRIBUTE_VALUE_TYPES } from '../value-types';
import type { OwnAttributeRecord } from './known-attributes';

/**
 * RequestItems from the few inputs a workflow fills in, one builder per item a person can answer
 * in @nmshd/content 7.0.0. Each throws AppContentError listing every problem of its input.
 */

/** What every item takes. */
export interface ItemCommon {
  /** Default true: without this item the person cannot accept the Request. */
  mustBeAccepted?: boolean;
  /** Shown with the item; at most 500 characters. */
  description?: string;
  /** Our own data; the person's answer carries it back. */
  metadata?: JsonObject;
}

export type Confidentiality = 'public' | 'protected' | 'private';

/** The item inputs, by kind. */
export type RequestItemInput = ItemCommon &
  (
    | { kind: 'readAttribute'; valueType: string; tags?: string[] }
    | { kind: 'readRelationshipAttribute'; key: string; valueType: string; title: string; attributeDescription?: string; confidentiality?: Confidentiality; ownedBy?: 'recipient' | 'sender' }
    | { kind: 'readThirdPartyAttribute'; key: string; thirdParty: string[]; ownedBy?: 'any' | 'recipient' | 'thirdParty' }
    | { kind: 'proposeAttribute'; valueType: string; value: unknown; tags?: string[] }
    | { kind: 'createAttribute'; valueType: string; value: unknown; tags?: string[] }
    | { kind: 'createRelationshipAttribute'; key: string; valueType: string; value: unknown; confidentiality?: Confidentiality; ownedBy?: 'recipient' | 'sender' }
    | { kind: 'shareAttribute'; attributeId?: string; valueType?: string }
    | { kind: 'consent'; consent: string; link?: string; linkDisplayText?: string; requiresInteraction?: boolean }
    | { kind: 'authentication'; title: string }
    | { kind: 'formField'; title: string; settings: FormFieldSettingsJson }
    | { kind: 'freeText'; title: string; multiline?: boolean; min?: number; max?: number }
    | { kind: 'deleteAttribute'; attributeId: string }
  );

export type RequestItemKind = RequestItemInput['kind'];

export const REQUEST_ITEM_KINDS: readonly RequestItemKind[] = [
  'readAttribute',
  'readRelationshipAttribute',
  'readThirdPartyAttribute',
  'proposeAttribute',
  'createAttribute',
  'createRelationshipAttribute',
  'shareAttribute',
  'consent',
  'authentication',
  'formField',
  'freeText',
  'deleteAttribute',
];

/** What the builders need besides the input. */
export interface ItemContext {
  /** Our address (owner of what we share or create as ours). */
  ownAddress: string;
  /** Our own identity attributes, to share one (shareAttribute). */
  own?: readonly OwnAttributeRecord[];
}

function common(input: ItemCommon, what: string, problems: string[]): { mustBeAccepted: boolean; description?: string; metadata?: JsonObject } {
  const out: { mustBeAccepted: boolean; description?: string; metadata?: JsonObject } = { mustBeAccepted: input.mustBeAccepted ?? true };
  if (input.mustBeAccepted !== undefined && typeof input.mustBeAccepted !== 'boolean') problems.push(`${what}: "must be accepted" must be true or false`);
  if (input.description !== undefined && input.description !== '') {
    if (checkText(input.description, `${what}: the description`, problems, { max: CONTENT_LIMITS.description })) out.description = input.description;
  }
  if (input.metadata !== undefined) {
    if (isObject(input.metadata)) out.metadata = input.metadata;
    else problems.push(`${what}: the metadata must be a JSON object`);
  }
  return out;
}

function tagsOf(tags: unknown, what: string, problems: string[]): string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.trim() === '')) {
    problems.push(`${what}: the tags must be a list of texts`);
    return undefined;
  }
  const clean = tags.map((t: string) => t.trim());
  return clean.length ? clean : undefined;
}

function identityType(valueType: unknown, what: string, problems: string[]): valueType is string {
  if (includes(IDENTITY_ATTRIBUTE_VALUE_TYPES, valueType)) return true;
  problems.push(`${what}: ${describe(valueType)} is not an identity attribute type (${IDENTITY_ATTRIBUTE_VALUE_TYPES.join(', ')})`);
  return false;
}

function relationshipType(valueType: unknown, what: string, problems: string[]): valueType is string {
  if (includes(RELATIONSHIP_ATTRIBUTE_VALUE_TYPES, valueType)) return true;
  problems.push(`${what}: ${describe(valueType)} is not a relationship attribute type (${RELATIONSHIP_ATTRIBUTE_VALUE_TYPES.join(', ')})`);
  return false;
}

function key(value: unknown, what: string, problems: string[]): string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${what}: the key must be a text naming the attribute, e.g. "customerNumber"`);
    return '';
  }
  if (value.length > CONTENT_LIMITS.attributeString) problems.push(`${what}: the key has ${value.length} characters; at most 100 are allowed`);
  return value.trim();
}

function confidentialityOf(value: unknown, what: string, problems: string[]): Confidentiality {
  if (value === undefined) return 'protected';
  if (value === 'public' || value === 'protected' || value === 'private') return value;
  problems.push(`${what}: the confidentiality must be "public", "protected" or "private"`);
  return 'protected';
}

function value(type: string, raw: unknown, what: string, problems: string[]): ReturnType<typeof buildAttributeValue> | undefined {
  try {
    return buildAttributeValue(type, raw, `${what}: the ${type}`);
  } catch (error) {
    if (error instanceof AppContentError) problems.push(...error.problems);
    else throw error;
    return undefined;
  }
}

export function formFieldSettings(settings: unknown, what: string, problems: string[]): FormFieldSettingsJson | undefined {
  if (!isObject(settings)) {
    problems.push(`${what}: the settings must be an object such as {"@type":"StringFormFieldSettings"}`);
    return undefined;
  }
  const type = settings['@type'];
  const range = (integer: boolean): void => {
    for (const bound of ['min', 'max'] as const) {
      const v = settings[bound];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))) problems.push(`${what}: ${bound} must be a ${integer ? 'whole ' : ''}number`);
    }
    if (typeof settings.min === 'number' && typeof settings.max === 'number' && settings.max < settings.min) problems.push(`${what}: max cannot be smaller than min`);
  };
  switch (type) {
    case 'StringFormFieldSettings':
      range(true);
      for (const bound of ['min', 'max'] as const) {
        const v = settings[bound];
        if (typeof v === 'number' && (v < 0 || v > 4096)) problems.push(`${what}: ${bound} must be from 0 to 4096`);
      }
      if (settings.allowNewlines !== undefined && settings.allowNewlines !== true) problems.push(`${what}: allowNewlines is either true or left out`);
      break;
    case 'IntegerFormFieldSettings':
      range(true);
      break;
    case 'DoubleFormFieldSettings':
      range(false);
      break;
    case 'BooleanFormFieldSettings':
    case 'DateFormFieldSettings':
      break;
    case 'SelectionFormFieldSettings': {
      const options = settings.options;
      if (!Array.isArray(options) || options.length === 0 || options.some((o) => typeof o !== 'string' || o === '')) problems.push(`${what}: a selection needs a list of options (texts)`);
      else if (new Set(options).size !== options.length) problems.push(`${what}: the options of a selection must be unique`);
      if (settings.allowMultipleSelection !== undefined && settings.allowMultipleSelection !== true) problems.push(`${what}: allowMultipleSelection is either true or left out`);
      break;
    }
    case 'RatingFormFieldSettings':
      if (![5, 6, 7, 8, 9, 10].includes(settings.maxRating as number)) problems.push(`${what}: maxRating must be a whole number from 5 to 10`);
      break;
    default:
      problems.push(
        `${what}: ${describe(type)} is not a form field type (StringFormFieldSettings, IntegerFormFieldSettings, DoubleFormFieldSettings, BooleanFormFieldSettings, DateFormFieldSettings, SelectionFormFieldSettings, RatingFormFieldSettings)`,
      );
  }
  return settings as FormFieldSettingsJson;
}

/** One RequestItem from its input. `what` names it in the problems (e.g. "Item 2"). */
export function buildRequestItem(input: RequestItemInput, ctx: ItemContext, what = 'The item'): RequestItemJson {
  const problems: string[] = [];
  if (!isObject(input)) throw new AppContentError([`${what} must be an object with a "kind"`]);
  const base = common(input, what, problems);
  let item: RequestItemJson | undefined;
  switch (input.kind) {
    case 'readAttribute': {
      const tags = tagsOf(input.tags, what, problems);
      if (identityType(input.valueType, what, problems)) {
        const query: ReadAttributeRequestItemJson['query'] = { '@type': 'IdentityAttributeQuery', valueType: input.valueType as never };
        if (tags) query.tags = tags;
        item = { '@type': 'ReadAttributeRequestItem', ...base, query };
      }
      break;
    }
    case 'readRelationshipAttribute': {
      const k = key(input.key, what, problems);
      checkText(input.title, `${what}: the title`, problems, { required: true, max: 100 });
      if (input.attributeDescription !== undefined) checkText(input.attributeDescription, `${what}: the attribute description`, problems, { max: 1000 });
      const confidentiality = confidentialityOf(input.confidentiality, what, problems);
      if (relationshipType(input.valueType, what, problems)) {
        const hints: Extract<ReadAttributeRequestItemJson['query'], { '@type': 'RelationshipAttributeQuery' }>['attributeCreationHints'] = {
          title: input.title,
          valueType: input.valueType,
          confidentiality,
        };
        if (input.attributeDescription) hints.description = input.attributeDescription;
        item = {
          '@type': 'ReadAttributeRequestItem',
          ...base,
          query: { '@type': 'RelationshipAttributeQuery', key: k, owner: input.ownedBy === 'sender' ? ctx.ownAddress : '', attributeCreationHints: hints },
        };
      }
      break;
    }
    case 'readThirdPartyAttribute': {
      const k = key(input.key, what, problems);
      const thirdParty = Array.isArray(input.thirdParty) ? input.thirdParty.map((a) => String(a).trim()).filter(Boolean) : [];
      if (thirdParty.length === 0) problems.push(`${what}: name at least one third party (an address)`);
      for (const a of thirdParty) if (!isValidAddress(a)) problems.push(`${what}: ${describe(a)} is not an enmeshed address`);
      const owner = input.ownedBy === undefined || input.ownedBy === 'any' ? '' : input.ownedBy;
      if (!['', 'recipient', 'thirdParty'].includes(owner)) problems.push(`${what}: ownedBy must be "any", "recipient" or "thirdParty"`);
      item = { '@type': 'ReadAttributeRequestItem', ...base, query: { '@type': 'ThirdPartyRelationshipAttributeQuery', key: k, owner: owner as '', thirdParty } };
      break;
    }
    case 'proposeAttribute': {
      const tags = tagsOf(input.tags, what, problems);
      if (identityType(input.valueType, what, problems)) {
        const v = value(input.valueType, input.value, what, problems);
        const query: ProposeAttributeRequestItemJson['query'] = { '@type': 'IdentityAttributeQuery', valueType: input.valueType as never };
        if (tags) query.tags = tags;
        // The proposed attribute is the recipient's: owner "" (the runtime fills in the recipient).
        if (v) item = { '@type': 'ProposeAttributeRequestItem', ...base, query, attribute: { '@type': 'IdentityAttribute', owner: '', value: v, ...(tags ? { tags } : {}) } };
      }
      break;
    }
    case 'createAttribute': {
      const tags = tagsOf(input.tags, what, problems);
      if (identityType(input.valueType, what, problems)) {
        const v = value(input.valueType, input.value, what, problems);
        if (v) item = { '@type': 'CreateAttributeRequestItem', ...base, attribute: { '@type': 'IdentityAttribute', owner: '', value: v, ...(tags ? { tags } : {}) } } as CreateAttributeRequestItemJson;
      }
      break;
    }
    case 'createRelationshipAttribute': {
      const k = key(input.key, what, problems);
      const confidentiality = confidentialityOf(input.confidentiality, what, problems);
      if (relationshipType(input.valueType, what, problems)) {
        const v = value(input.valueType, input.value, what, problems);
        // isTechnical as the classes write it, so what we keep equals what the peer keeps.
        const attribute: RelationshipAttributeJson = { '@type': 'RelationshipAttribute', owner: input.ownedBy === 'sender' ? ctx.ownAddress : '', key: k, isTechnical: false, confidentiality, value: v! };
        if (v) item = { '@type': 'CreateAttributeRequestItem', ...base, attribute };
      }
      break;
    }
    case 'shareAttribute': {
      const own = ctx.own ?? [];
      let record: OwnAttributeRecord | undefined;
      if (input.attributeId) {
        record = own.find((a) => a.id === input.attributeId);
        if (!record) problems.push(`${what}: we have no own attribute ${describe(input.attributeId)}; create it with Attribute → Create`);
        else if (record.succeededBy) problems.push(`${what}: attribute ${record.id} was replaced by ${record.succeededBy}; share the current version`);
      } else if (input.valueType) {
        record = own.filter((a) => !a.succeededBy && a.content.value['@type'] === input.valueType).pop();
        if (!record) problems.push(`${what}: we have no own ${input.valueType}; create one with Attribute → Create`);
      } else problems.push(`${what}: name the attribute to share (its id, or its value type for the newest of that type)`);
      if (record) item = { '@type': 'ShareAttributeRequestItem', ...base, attribute: record.content, attributeId: record.id } as ShareAttributeRequestItemJson;
      break;
    }
    case 'consent':
      try {
        const consent = buildConsentItem({
          text: input.consent,
          link: input.link || undefined,
          linkDisplayText: input.linkDisplayText || undefined,
          requiresInteraction: input.requiresInteraction,
          mustBeAccepted: base.mustBeAccepted,
        });
        item = { ...consent, ...base };
      } catch (error) {
        if (error instanceof AppContentError) problems.push(...error.problems.map((p) => `${what}: ${p}`));
        else throw error;
      }
      break;
    case 'authentication':
      if (checkText(input.title, `${what}: the title`, problems, { required: true, max: CONTENT_LIMITS.authenticationTitle })) {
        item = { '@type': 'AuthenticationRequestItem', ...base, title: input.title } as AuthenticationRequestItemJson;
      }
      break;
    case 'formField': {
      checkText(input.title, `${what}: the title`, problems, { required: true, max: CONTENT_LIMITS.title });
      const settings = formFieldSettings(input.settings, what, problems);
      if (settings) item = { '@type': 'FormFieldRequestItem', ...base, title: input.title, settings } as FormFieldRequestItemJson;
      break;
    }
    case 'freeText': {
      // @nmshd/content 7.0.0 has no FreeTextRequestItem (the App drops a message carrying one): a string form field.
      checkText(input.title, `${what}: the title`, problems, { required: true, max: CONTENT_LIMITS.title });
      const settings: FormFieldSettingsJson = { '@type': 'StringFormFieldSettings' };
      if (input.multiline) settings.allowNewlines = true;
      if (input.min !== undefined) settings.min = input.min;
      if (input.max !== undefined) settings.max = input.max;
      formFieldSettings(settings, what, problems);
      item = { '@type': 'FormFieldRequestItem', ...base, title: input.title, settings } as FormFieldRequestItemJson;
      break;
    }
    case 'deleteAttribute':
      if (typeof input.attributeId !== 'string' || !/^ATT[A-Za-z0-9]{17}$/.test(input.attributeId)) problems.push(`${what}: ${describe(input.attributeId)} is not an attribute id (ATT…)`);
      else item = { '@type': 'DeleteAttributeRequestItem', ...base, attributeId: input.attributeId } as DeleteAttributeRequestItemJson;
      break;
    default:
      problems.push(`${what}: the kind ${describe((input as { kind?: unknown }).kind)} is not one of ${REQUEST_ITEM_KINDS.join(', ')}`);
  }
  if (problems.length > 0 || !item) throw new AppContentError(problems.length ? problems : [`${what} could not be built`]);
  return item;
}

/** Input of a RequestItemGroup: items shown together under a title. */
export interface RequestItemGroupInput {
  title?: string;
  description?: string;
  metadata?: JsonObject;
  items: RequestItemInput[];
}

export function buildRequestItemGroup(input: RequestItemGroupInput, ctx: ItemContext, what = 'The group'): RequestItemGroupJson {
  const problems: string[] = [];
  const items: RequestItemJson[] = [];
  if (!Array.isArray(input.items) || input.items.length === 0) problems.push(`${what} needs at least one item`);
  (input.items ?? []).forEach((inner, j) => {
    try {
      items.push(buildRequestItem(inner, ctx, `${what}, item ${j + 1}`));
    } catch (error) {
      if (error instanceof AppContentError) problems.push(...error.problems);
      else throw error;
    }
  });
  if (input.title !== undefined && input.title !== '') checkText(input.title, `${what}: the title`, problems, { max: CONTENT_LIMITS.title });
  if (input.description !== undefined && input.description !== '') checkText(input.description, `${what}: the description`, problems, { max: CONTENT_LIMITS.description });
  if (problems.length > 0) throw new AppContentError(problems);
  const group: RequestItemGroupJson = { '@type': 'RequestItemGroup', items };
  if (input.title) group.title = input.title;
  if (input.description) group.description = input.description;
  if (input.metadata !== undefined) group.metadata = input.metadata;
  return group;
}
