import { isValidAddress } from '../../../crypto';
import { checkText, describe, isObject, typeOf } from '../checks';
import { randomCoreId } from '../ids';
import { AppContentError, CONTENT_LIMITS, type JsonObject, type RequestItemGroupJson, type RequestItemJson, type RequestJson } from '../types';
import { checkRequest } from '../validate-template';
import { attributeValueProblems, RELATIONSHIP_ATTRIBUTE_VALUE_TYPES } from '../value-types';
import { buildRequestItem, buildRequestItemGroup, formFieldSettings, type ItemContext, type RequestItemGroupInput, type RequestItemInput } from './items';
import { sameValue, versionChain, type KnownAttributes } from './known-attributes';

/**
 * Our Request to a peer, sent by message: built from item inputs or given as JSON, and checked so
 * that the peer's App (runtime 7.0.0) can read it and its checks (canCreate of each item processor)
 * pass. An App drops a whole message it cannot read, so nothing unknown goes out.
 */

export interface RequestInput {
  title?: string;
  description?: string;
  /** After this the App no longer lets the person answer, and an answer is not taken. */
  expiresAt?: string | Date;
  metadata?: JsonObject;
  items: (RequestItemInput | RequestItemGroupInput)[];
}

export interface OwnRequestContext extends ItemContext {
  /** The recipient: attributes and owners are checked against it. */
  peer: string;
  now?: Date;
  /** What we know about attributes with the recipient: checks ShareAttribute and DeleteAttribute items. */
  known?: KnownAttributes;
}

const isGroupInput = (input: RequestItemInput | RequestItemGroupInput): input is RequestItemGroupInput => Array.isArray((input as RequestItemGroupInput).items);

/** A Request with a fresh id from item inputs. Throws AppContentError listing every problem. */
export function buildRequest(input: RequestInput, ctx: OwnRequestContext): RequestJson {
  const problems: string[] = [];
  const items: (RequestItemJson | RequestItemGroupJson)[] = [];
  if (!Array.isArray(input.items) || input.items.length === 0) problems.push('The Request needs at least one item');
  (input.items ?? []).forEach((item, i) => {
    try {
      items.push(isGroupInput(item) ? buildRequestItemGroup(item, ctx, `Group ${i + 1}`) : buildRequestItem(item, ctx, `Item ${i + 1}`));
    } catch (error) {
      if (error instanceof AppContentError) problems.push(...error.problems);
      else throw error;
    }
  });
  if (problems.length > 0) throw new AppContentError(problems);
  return prepareRequest({ '@type': 'Request', items, title: input.title, description: input.description, expiresAt: input.expiresAt, metadata: input.metadata }, ctx);
}

/**
 * A Request given as JSON, made ready to send: a fresh id unless it has one, empty optional texts
 * dropped, the expiry as an ISO date; then checked (validateOwnRequest). Throws AppContentError.
 */
export function prepareRequest(json: unknown, ctx: OwnRequestContext): RequestJson {
  if (!isObject(json)) throw new AppContentError([`The Request must be a JSON object, but is ${describe(json)}`]);
  const request: JsonObject = { ...json, '@type': 'Request' };
  for (const field of ['title', 'description'] as const) if (request[field] === '' || request[field] === undefined) delete request[field];
  if (request.expiresAt === '' || request.expiresAt === undefined || request.expiresAt === null) delete request.expiresAt;
  else if (request.expiresAt instanceof Date) request.expiresAt = request.expiresAt.toISOString();
  if (request.metadata === undefined) delete request.metadata;
  request.id ??= randomCoreId('REQ');
  const problems = validateOwnRequest(request, ctx);
  if (problems.length > 0) throw new AppContentError(problems);
  return request as unknown as RequestJson;
}

function checkAttributeFor(attribute: unknown, what: string, problems: string[], allowedOwners: string[]): void {
  if (!isObject(attribute)) return; // reported by checkRequest
  const kind = attribute['@type'];
  if (kind !== 'IdentityAttribute' && kind !== 'RelationshipAttribute') return;
  problems.push(...attributeValueProblems(attribute.value, `${what}.value`, kind));
  if (typeof attribute.owner === 'string' && !allowedOwners.includes(attribute.owner)) {
    const names = allowedOwners.map((o) => (o === '' ? '"" (the recipient)' : o)).join(' or ');
    problems.push(`${what}.owner must be ${names}, but is ${describe(attribute.owner)}`);
  }
  if (kind === 'RelationshipAttribute') {
    if (typeof attribute.key === 'string' && attribute.key.length > CONTENT_LIMITS.attributeString) problems.push(`${what}.key has more than 100 characters`);
    if (attribute.isTechnical !== undefined && typeof attribute.isTechnical !== 'boolean') problems.push(`${what}.isTechnical must be true or false`);
  }
}

function checkQueryFor(query: unknown, what: string, problems: string[], ctx: OwnRequestContext): void {
  if (!isObject(query)) return;
  switch (query['@type']) {
    case 'IdentityAttributeQuery':
      if (query.tags !== undefined && (!Array.isArray(query.tags) || query.tags.some((t) => typeof t !== 'string'))) problems.push(`${what}.tags must be a list of texts`);
      break;
    case 'RelationshipAttributeQuery': {
      if (query.owner !== '' && query.owner !== ctx.ownAddress) problems.push(`${what}.owner must be "" (the recipient) or our address, but is ${describe(query.owner)}`);
      const hints = isObject(query.attributeCreationHints) ? query.attributeCreationHints : {};
      checkText(hints.title, `${what}.attributeCreationHints.title`, problems, { required: true, max: 100 });
      checkText(hints.description, `${what}.attributeCreationHints.description`, problems, { max: 1000 });
      if (!RELATIONSHIP_ATTRIBUTE_VALUE_TYPES.includes(hints.valueType as string)) problems.push(`${what}.attributeCreationHints.valueType must be a relationship attribute type such as ProprietaryString`);
      if (!['public', 'protected', 'private'].includes(hints.confidentiality as string)) problems.push(`${what}.attributeCreationHints.confidentiality must be "public", "protected" or "private"`);
      break;
    }
    case 'ThirdPartyRelationshipAttributeQuery':
      if (!['', 'recipient', 'thirdParty'].includes(query.owner as string)) problems.push(`${what}.owner must be "", "recipient" or "thirdParty"`);
      if (Array.isArray(query.thirdParty)) {
        if (query.thirdParty.length === 0) problems.push(`${what}.thirdParty must name at least one address`);
        for (const a of query.thirdParty) if (a !== '' && !isValidAddress(String(a))) problems.push(`${what}.thirdParty: ${describe(a)} is not an enmeshed address`);
      }
      break;
  }
}

function checkOwnItem(item: JsonObject, what: string, problems: string[], ctx: OwnRequestContext): void {
  const known = ctx.known;
  switch (item['@type']) {
    case 'ReadAttributeRequestItem':
      checkQueryFor(item.query, `${what}.query`, problems, ctx);
      break;
    case 'ProposeAttributeRequestItem': {
      checkQueryFor(item.query, `${what}.query`, problems, ctx);
      checkAttributeFor(item.attribute, `${what}.attribute`, problems, ['']);
      const query = isObject(item.query) ? item.query : {};
      const attribute = isObject(item.attribute) ? item.attribute : {};
      const valueType = isObject(attribute.value) ? attribute.value['@type'] : undefined;
      if (query['@type'] === 'ThirdPartyRelationshipAttributeQuery') problems.push(`${what}.query: a ProposeAttributeRequestItem cannot carry a ThirdPartyRelationshipAttributeQuery`);
      if (query['@type'] === 'IdentityAttributeQuery' && (attribute['@type'] !== 'IdentityAttribute' || valueType !== query.valueType)) {
        problems.push(`${what}.attribute must be an IdentityAttribute with a ${String(query.valueType)} value, as the query asks`);
      }
      if (query['@type'] === 'RelationshipAttributeQuery' && (attribute['@type'] !== 'RelationshipAttribute' || attribute.key !== query.key)) {
        problems.push(`${what}.attribute must be a RelationshipAttribute with the key of the query`);
      }
      break;
    }
    case 'CreateAttributeRequestItem': {
      const attribute = isObject(item.attribute) ? item.attribute : {};
      checkAttributeFor(item.attribute, `${what}.attribute`, problems, attribute['@type'] === 'IdentityAttribute' ? ['', ctx.peer] : ['', ctx.peer, ctx.ownAddress]);
      if (attribute['@type'] === 'RelationshipAttribute' && known) {
        const owner = attribute.owner === '' ? ctx.peer : attribute.owner;
        const type = isObject(attribute.value) ? attribute.value['@type'] : undefined;
        const clash = known.peer.relationship.find(
          (r) => !r.succeededBy && !r.deletedAt && r.content.key === attribute.key && r.content.owner === owner && r.content.value['@type'] === type,
        );
        if (clash) problems.push(`${what}.attribute: the relationship already has a ${String(type)} with the key "${String(attribute.key)}" (${clash.id})`);
      }
      break;
    }
    case 'ShareAttributeRequestItem': {
      const attribute = isObject(item.attribute) ? item.attribute : {};
      checkAttributeFor(item.attribute, `${what}.attribute`, problems, [ctx.ownAddress]);
      if (attribute['@type'] !== 'IdentityAttribute') {
        problems.push(`${what}: only own IdentityAttributes can be shared here (sharing a RelationshipAttribute of another relationship is not supported)`);
        break;
      }
      if (!known) break;
      const own = known.own.find((a) => a.id === item.attributeId);
      if (!own) problems.push(`${what}.attributeId ${describe(item.attributeId)} is not one of our own attributes`);
      else if (!sameValue(own.content, attribute)) problems.push(`${what}.attribute is not the content of our attribute ${own.id}`);
      else {
        const chain = versionChain(known.own, own.id);
        const shared = known.peer.shared.filter((s) => !s.deletionDate && chain.some((v) => v.id === s.attributeId));
        if (shared.some((s) => s.attributeId === own.id)) problems.push(`${what}: attribute ${own.id} is already shared with ${ctx.peer}`);
        else if (own.succeededBy) problems.push(`${what}: attribute ${own.id} was replaced by ${own.succeededBy}; share the current version`);
        else if (shared.length > 0) problems.push(`${what}: an older version (${shared[0].attributeId}) of attribute ${own.id} is shared with ${ctx.peer}`);
      }
      break;
    }
    case 'DeleteAttributeRequestItem': {
      if (!known) break;
      const id = item.attributeId;
      const sharedOwn = known.peer.shared.some((s) => s.attributeId === id && !s.deletionDate);
      const ownRelationship = known.peer.relationship.some((r) => r.id === id && r.content.owner === ctx.ownAddress && !r.deletedAt);
      if (!sharedOwn && !ownRelationship) problems.push(`${what}.attributeId ${describe(id)} is none of our attributes that ${ctx.peer} holds (shared with it and not deleted)`);
      break;
    }
    case 'FormFieldRequestItem':
      formFieldSettings(item.settings, `${what}.settings`, problems);
      break;
  }
}

/**
 * The problems of a Request we are about to send to `ctx.peer` (empty when it is fine): the
 * structure @nmshd/content 7.0.0 reads (known item types only, required fields, lengths), a request
 * id, an expiry in the future, attribute values of known types and patterns, the owners the runtime
 * allows per item, and — with `ctx.known` — that a shared attribute is ours and not shared yet and
 * that a deletion is asked only for one the peer holds.
 */
export function validateOwnRequest(request: unknown, ctx: OwnRequestContext): string[] {
  const problems: string[] = [];
  const now = ctx.now ?? new Date();
  checkRequest(request, 'request', problems, { ownTemplate: true, requestIdAllowed: true, ownerAddress: ctx.ownAddress, now });
  if (!isObject(request)) return problems;
  if (request.id === undefined) problems.push('request.id is missing (a Request sent by message carries its id)');
  if (!isValidAddress(ctx.peer)) problems.push(`The recipient ${describe(ctx.peer)} is not an enmeshed address`);
  if (ctx.peer === ctx.ownAddress) problems.push('A Request cannot be sent to ourselves');
  if (!Array.isArray(request.items)) return problems;
  request.items.forEach((item, i) => {
    if (typeOf(item) === 'RequestItemGroup') {
      const inner = (item as JsonObject).items;
      if (Array.isArray(inner)) inner.forEach((innerItem, j) => isObject(innerItem) && checkOwnItem(innerItem, `request.items[${i}].items[${j}]`, problems, ctx));
    } else if (isObject(item)) checkOwnItem(item, `request.items[${i}]`, problems, ctx);
  });
  return [...new Set(problems)];
}
