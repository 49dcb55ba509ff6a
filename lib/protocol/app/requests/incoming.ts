import { isValidAddress } from '../../../crypto';
import { describe, isObject, typeOf } from '../checks';
import { randomCoreId } from '../ids';
import { AppContentError, type AttributeJson, type IdentityAttributeJson, type JsonObject, type RelationshipAttributeJson, type ResponseItemGroupJson, type ResponseItemJson, type ResponseJson } from '../types';
import { checkRequest } from '../validate-template';
import { attributeValueProblems, buildAttributeValue } from '../value-types';
import { defaultOwnAttribute, sameValue, shareOwnAttribute, type AttributeSource, type KnownAttributes, type OwnAttributeRecord } from './known-attributes';

/**
 * Deciding a Request someone sent us (another organisation, or a person's App): whether it can be
 * accepted with given decisions, and the Response with the attributes it shares and receives —
 * following the rules of the item processors of @nmshd/consumption 7.0.0, so the sender's runtime
 * takes the Response. Pure: it works on a KnownAttributes view and returns the changed view, which
 * the caller stores.
 */

/** A decision for one item (the runtime's AcceptRequestItemParameters, plus `value` for convenience). */
export interface RequestItemDecision {
  accept: boolean;
  /** ReadAttribute: one of our attributes (own identity attribute, or a relationship attribute for a third-party query). */
  existingAttributeId?: string;
  /** ReadAttribute: a new attribute (IdentityAttribute of the queried type, or a RelationshipAttribute for a RelationshipAttributeQuery). */
  newAttribute?: unknown;
  /** ReadAttribute / ProposeAttribute: the new value only (text, or the fields), of the queried type. */
  value?: unknown;
  /** ProposeAttribute: one of our own attributes instead of the proposed one. */
  attributeId?: string;
  /** ProposeAttribute: another attribute than the proposed one. */
  attribute?: unknown;
  /** DeleteAttribute: when we delete our copy (ISO date in the future; default in one minute). */
  deletionDate?: string;
  /** FormField: the answer (text, number, true/false, date text, or a list of options). */
  response?: unknown;
  /** Rejecting: why (shown to the sender). */
  code?: string;
  message?: string;
}

/** RequestDecisions in the order of the Request's items; a group takes `{ items: [...] }`. */
export type RequestDecisions = (RequestItemDecision | { items: RequestItemDecision[] })[];

/** How one item is (or would be) answered. */
export interface ItemOutcome {
  /** [i] or [i, j] as in the Request. */
  path: number[];
  type: string;
  mustBeAccepted: boolean;
  accepted: boolean;
  /** False when the decision cannot be carried out; `problem` says why. */
  ok: boolean;
  problem?: string;
  /** What we share (ReadAttribute, ProposeAttribute, CreateAttribute) or receive (ShareAttribute). */
  attribute?: AttributeJson;
  attributeId?: string;
  /** "shared" (we send it), "alreadyShared" (the peer has it: only the id), "received" (the peer gives it to us), "deleted". */
  effect?: 'shared' | 'alreadyShared' | 'succession' | 'received' | 'created' | 'deleted';
}

export interface DecideOptions {
  /** The decisions; missing ones (or none at all) are taken automatically (see decideRequest). */
  decisions?: RequestDecisions;
  /** The id for the Response when the Request has none. */
  requestId: string;
  /** Where the Request came from, recorded with the attributes it brings. */
  source: AttributeSource;
  now?: Date;
  /** New ids for attributes we create (default: random ATT… ids). */
  newAttributeId?: () => string;
}

export interface Decided {
  /** Every item can be answered as decided. */
  ok: boolean;
  outcomes: ItemOutcome[];
  /** Why it cannot be answered so (one line per item, plus whole-Request problems). */
  problems: string[];
  /** The Response to send (when ok). */
  response?: ResponseJson;
  /** The view after answering (when ok). */
  known?: KnownAttributes;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const at = (path: number[]): string => `request.items[${path.join('].items[')}]`;

interface Work {
  known: KnownAttributes;
  options: DecideOptions;
  now: Date;
  newId: () => string;
}

class ItemRefusal extends Error {}

/** The attribute of `raw` as one of ours (owner "" → our address), of the expected kind and value type. */
function ownNewAttribute(raw: unknown, kind: 'IdentityAttribute' | 'RelationshipAttribute', valueType: string | undefined, w: Work): AttributeJson {
  if (!isObject(raw) || raw['@type'] !== kind) throw new ItemRefusal(`the new attribute must be an ${kind}`);
  const owner = raw.owner === '' || raw.owner === undefined ? w.known.ownAddress : raw.owner;
  if (kind === 'IdentityAttribute' && owner !== w.known.ownAddress) throw new ItemRefusal('an IdentityAttribute we share must be owned by us');
  const problems = attributeValueProblems(raw.value, 'the value', kind);
  if (problems.length) throw new ItemRefusal(problems.join('; '));
  const value = raw.value as JsonObject;
  if (valueType !== undefined && value['@type'] !== valueType) throw new ItemRefusal(`a ${valueType} is asked for, not a ${String(value['@type'])}`);
  return { ...(raw as unknown as AttributeJson), owner: owner as string };
}

/** An own identity attribute with this content: an existing one with the same value, or a new one. */
function ownAttributeFor(content: IdentityAttributeJson, w: Work): OwnAttributeRecord {
  const existing = w.known.own.find((a) => !a.succeededBy && sameValue(a.content.value, content.value) && sameValue(a.content.tags ?? [], content.tags ?? []));
  if (existing) return existing;
  const record: OwnAttributeRecord = { id: w.newId(), content: { ...content, owner: w.known.ownAddress }, createdAt: w.now.toISOString(), source: w.options.source };
  w.known.own.push(record);
  return record;
}

/** Shares own attribute `record` with the peer (recording it) and returns the accept item. */
function share(record: OwnAttributeRecord, kind: 'Read' | 'Propose' | 'Create', outcome: ItemOutcome, w: Work): ResponseItemJson {
  const { responseItem, sharedBefore } = shareOwnAttribute(w.known, record, kind);
  if (!sharedBefore) w.known.peer.shared.push({ attributeId: record.id, sharedAt: w.now.toISOString(), source: w.options.source });
  outcome.attribute = record.content;
  outcome.attributeId = record.id;
  outcome.effect = sharedBefore ? 'alreadyShared' : responseItem['@type'] === 'AttributeSuccessionAcceptResponseItem' ? 'succession' : 'shared';
  return responseItem;
}

/** A new RelationshipAttribute of our relationship with the peer; key, owner and value type must be unique there. */
function newRelationshipAttribute(content: RelationshipAttributeJson, outcome: ItemOutcome, w: Work): string {
  const clash = w.known.peer.relationship.find(
    (r) => !r.succeededBy && !r.deletedAt && r.content.key === content.key && r.content.owner === content.owner && r.content.value['@type'] === content.value['@type'],
  );
  if (clash) throw new ItemRefusal(`the relationship already has a ${String(content.value['@type'])} with the key "${content.key}" (${clash.id})`);
  const id = w.newId();
  w.known.peer.relationship.push({ id, content, createdAt: w.now.toISOString(), source: w.options.source });
  outcome.attribute = content;
  outcome.attributeId = id;
  outcome.effect = 'created';
  return id;
}

function acceptRead(item: JsonObject, d: RequestItemDecision, outcome: ItemOutcome, w: Work): ResponseItemJson {
  const query = isObject(item.query) ? item.query : {};
  const queryType = query['@type'];
  if (queryType === 'IdentityAttributeQuery' || queryType === 'IQLQuery') {
    const valueType = queryType === 'IdentityAttributeQuery' ? String(query.valueType) : isObject(query.attributeCreationHints) ? String(query.attributeCreationHints.valueType) : undefined;
    const tags = Array.isArray(query.tags) ? (query.tags as string[]) : undefined;
    let record: OwnAttributeRecord | undefined;
    if (d.existingAttributeId !== undefined) {
      record = w.known.own.find((a) => a.id === d.existingAttributeId);
      if (!record) throw new ItemRefusal(`we have no own attribute ${describe(d.existingAttributeId)}`);
      if (record.succeededBy) throw new ItemRefusal(`attribute ${record.id} was replaced by ${record.succeededBy}; answer with the current version`);
      if (valueType !== undefined && record.content.value['@type'] !== valueType) throw new ItemRefusal(`attribute ${record.id} is a ${record.content.value['@type']}, but a ${valueType} is asked for`);
    } else if (d.newAttribute !== undefined || d.value !== undefined) {
      if (valueType === undefined) throw new ItemRefusal('the query names no value type; give the new attribute as newAttribute');
      const raw = d.newAttribute ?? { '@type': 'IdentityAttribute', owner: w.known.ownAddress, value: buildValue(valueType, d.value), ...(tags?.length ? { tags: [tags[0]] } : {}) };
      record = ownAttributeFor(ownNewAttribute(raw, 'IdentityAttribute', valueType, w) as IdentityAttributeJson, w);
    } else {
      if (valueType === undefined) throw new ItemRefusal('an IQL query can only be answered with a decision (existingAttributeId or newAttribute)');
      record = defaultOwnAttribute(w.known.own, valueType, tags);
      if (!record) throw new ItemRefusal(`we have no own ${valueType}${tags?.length ? ` tagged ${tags.join(' or ')}` : ''}: create one (Attribute → Create) or decide with a value`);
    }
    if (tags?.length && !(record.content.tags ?? []).some((t) => tags.includes(t))) throw new ItemRefusal(`the attribute must carry one of the tags ${tags.join(', ')}`);
    return share(record, 'Read', outcome, w);
  }
  if (queryType === 'RelationshipAttributeQuery') {
    const hints = isObject(query.attributeCreationHints) ? query.attributeCreationHints : {};
    if (d.existingAttributeId !== undefined) throw new ItemRefusal('a RelationshipAttributeQuery is answered with a new attribute only');
    let raw = d.newAttribute;
    if (raw === undefined) {
      if (d.value === undefined) throw new ItemRefusal(`the peer asks for a new ${String(hints.valueType)} "${String(hints.title)}": decide with its value`);
      const fields = isObject(d.value) ? d.value : { value: d.value };
      const value = buildValue(String(hints.valueType), { title: hints.title, ...(hints.description ? { description: hints.description } : {}), ...fields });
      raw = { '@type': 'RelationshipAttribute', owner: '', key: query.key, isTechnical: false, confidentiality: hints.confidentiality, value };
    }
    const attribute = ownNewAttribute(raw, 'RelationshipAttribute', String(hints.valueType), w) as RelationshipAttributeJson;
    const expectedOwner = query.owner === '' ? w.known.ownAddress : query.owner;
    if (attribute.owner !== expectedOwner) throw new ItemRefusal(`the attribute must be owned by ${String(expectedOwner)}`);
    if (attribute.key !== query.key) throw new ItemRefusal(`the attribute must have the key "${String(query.key)}"`);
    if (attribute.confidentiality !== hints.confidentiality) throw new ItemRefusal(`the attribute must be ${String(hints.confidentiality)}`);
    const id = newRelationshipAttribute(attribute, outcome, w);
    return { '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted', attributeId: id, attribute };
  }
  if (queryType === 'ThirdPartyRelationshipAttributeQuery') {
    const thirdParties = (Array.isArray(query.thirdParty) ? query.thirdParty : []).map(String);
    const candidates = (w.known.thirdParties ?? [])
      .filter((p) => thirdParties.includes(p.peer) || thirdParties.includes(''))
      .flatMap((p) => p.relationship.map((r) => ({ peer: p.peer, r })))
      .filter(({ r }) => !r.succeededBy && !r.deletedAt && r.content.key === query.key && r.content.confidentiality !== 'private');
    const chosen = d.existingAttributeId !== undefined ? candidates.find(({ r }) => r.id === d.existingAttributeId) : candidates[0];
    if (!chosen) throw new ItemRefusal(`we have no shareable relationship attribute "${String(query.key)}" with ${thirdParties.join(' or ') || 'the third parties'}`);
    if (query.owner === 'recipient' && chosen.r.content.owner !== w.known.ownAddress) throw new ItemRefusal('the attribute must be owned by us');
    if (query.owner === 'thirdParty' && chosen.r.content.owner !== chosen.peer) throw new ItemRefusal('the attribute must be owned by the third party');
    if (!w.known.peer.shared.some((s) => s.attributeId === chosen.r.id)) w.known.peer.shared.push({ attributeId: chosen.r.id, sharedAt: w.now.toISOString(), source: w.options.source });
    outcome.attribute = chosen.r.content;
    outcome.attributeId = chosen.r.id;
    outcome.effect = 'shared';
    return { '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted', attributeId: chosen.r.id, attribute: chosen.r.content, thirdPartyAddress: chosen.peer };
  }
  throw new ItemRefusal(`the query ${describe(queryType)} is not one we can answer`);
}

function buildValue(valueType: string, raw: unknown): JsonObject {
  try {
    return buildAttributeValue(valueType, raw, `the ${valueType}`);
  } catch (error) {
    if (error instanceof AppContentError) throw new ItemRefusal(error.problems.join('; '));
    throw error;
  }
}

function acceptPropose(item: JsonObject, d: RequestItemDecision, outcome: ItemOutcome, w: Work): ResponseItemJson {
  const query = isObject(item.query) ? item.query : {};
  const proposed = isObject(item.attribute) ? item.attribute : {};
  const valueType = isObject(proposed.value) ? String(proposed.value['@type']) : undefined;
  if (proposed['@type'] === 'RelationshipAttribute') {
    const raw = d.attribute ?? (d.value !== undefined ? { ...proposed, value: buildValue(String(valueType), d.value) } : proposed);
    const attribute = ownNewAttribute(raw, 'RelationshipAttribute', valueType, w) as RelationshipAttributeJson;
    if (query['@type'] === 'RelationshipAttributeQuery' && attribute.key !== query.key) throw new ItemRefusal(`the attribute must have the key "${String(query.key)}"`);
    const id = newRelationshipAttribute(attribute, outcome, w);
    return { '@type': 'ProposeAttributeAcceptResponseItem', result: 'Accepted', attributeId: id, attribute };
  }
  let record: OwnAttributeRecord | undefined;
  if (d.attributeId !== undefined || d.existingAttributeId !== undefined) {
    const id = d.attributeId ?? d.existingAttributeId;
    record = w.known.own.find((a) => a.id === id);
    if (!record) throw new ItemRefusal(`we have no own attribute ${describe(id)}`);
    if (record.succeededBy) throw new ItemRefusal(`attribute ${record.id} was replaced by ${record.succeededBy}`);
    if (valueType !== undefined && record.content.value['@type'] !== valueType) throw new ItemRefusal(`attribute ${record.id} is a ${record.content.value['@type']}, but a ${valueType} is proposed`);
  } else {
    const raw = d.attribute ?? (d.value !== undefined ? { ...proposed, value: buildValue(String(valueType), d.value) } : proposed);
    record = ownAttributeFor(ownNewAttribute(raw, 'IdentityAttribute', valueType, w) as IdentityAttributeJson, w);
  }
  return share(record, 'Propose', outcome, w);
}

function acceptCreate(item: JsonObject, outcome: ItemOutcome, w: Work): ResponseItemJson {
  const given = isObject(item.attribute) ? item.attribute : {};
  if (given['@type'] === 'IdentityAttribute') {
    if (given.owner !== '' && given.owner !== w.known.ownAddress) throw new ItemRefusal('an IdentityAttribute created for us must be owned by us');
    const record = ownAttributeFor(ownNewAttribute(given, 'IdentityAttribute', undefined, w) as IdentityAttributeJson, w);
    return share(record, 'Create', outcome, w);
  }
  if (given['@type'] !== 'RelationshipAttribute') throw new ItemRefusal('the attribute is neither an IdentityAttribute nor a RelationshipAttribute');
  const owner = given.owner === '' ? w.known.ownAddress : given.owner;
  if (owner !== w.known.ownAddress && owner !== w.known.peer.peer) throw new ItemRefusal('a RelationshipAttribute must be owned by us or the peer');
  const problems = attributeValueProblems(given.value, 'the value', 'RelationshipAttribute');
  if (problems.length) throw new ItemRefusal(problems.join('; '));
  const attribute = { ...(given as unknown as RelationshipAttributeJson), owner: owner as string };
  const id = newRelationshipAttribute(attribute, outcome, w);
  return { '@type': 'CreateAttributeAcceptResponseItem', result: 'Accepted', attributeId: id };
}

function acceptShare(item: JsonObject, outcome: ItemOutcome, w: Work): ResponseItemJson {
  const attribute = isObject(item.attribute) ? (item.attribute as unknown as AttributeJson) : undefined;
  const thirdParty = item.thirdPartyAddress ?? item.initialAttributePeer;
  if (!attribute) throw new ItemRefusal('the item carries no attribute');
  if (typeof item.attributeId !== 'string') throw new ItemRefusal('the item carries no attribute id');
  if (attribute['@type'] === 'IdentityAttribute') {
    if (thirdParty !== undefined) throw new ItemRefusal('an IdentityAttribute is shared without a third party address');
    if (attribute.owner !== w.known.peer.peer) throw new ItemRefusal('a shared IdentityAttribute must be owned by the peer that shares it');
  } else if (attribute['@type'] === 'RelationshipAttribute') {
    if (typeof thirdParty !== 'string' || !isValidAddress(thirdParty)) throw new ItemRefusal('a shared RelationshipAttribute needs the address of its relationship (thirdPartyAddress)');
  } else throw new ItemRefusal('the attribute is neither an IdentityAttribute nor a RelationshipAttribute');
  outcome.attribute = attribute;
  const existing = w.known.peer.received.find(
    (r) => !r.deletedAt && !r.succeededBy && sameValue(r.content.value, attribute.value) && (r.thirdParty ?? undefined) === (thirdParty as string | undefined),
  );
  if (existing) {
    outcome.attributeId = existing.id;
    outcome.effect = 'alreadyShared';
    return { '@type': 'AttributeAlreadySharedAcceptResponseItem', result: 'Accepted', attributeId: existing.id };
  }
  w.known.peer.received.push({
    id: item.attributeId,
    content: attribute,
    receivedAt: w.now.toISOString(),
    source: w.options.source,
    ...(typeof thirdParty === 'string' ? { thirdParty } : {}),
  });
  outcome.attributeId = item.attributeId;
  outcome.effect = 'received';
  return { '@type': 'AcceptResponseItem', result: 'Accepted' };
}

function acceptDelete(item: JsonObject, d: RequestItemDecision, outcome: ItemOutcome, w: Work): ResponseItemJson {
  const id = item.attributeId;
  const received = w.known.peer.received.find((r) => r.id === id);
  const relationship = w.known.peer.relationship.find((r) => r.id === id && r.content.owner === w.known.peer.peer);
  const target = received ?? relationship;
  if (!target || target.deletedAt) return { '@type': 'AcceptResponseItem', result: 'Accepted' }; // nothing of it here: as the runtime answers
  const deletionDate = d.deletionDate ?? new Date(w.now.getTime() + 60_000).toISOString();
  const date = new Date(deletionDate);
  if (!Number.isFinite(date.getTime())) throw new ItemRefusal(`the deletion date ${describe(deletionDate)} is not a date`);
  if (date.getTime() <= w.now.getTime()) throw new ItemRefusal('the deletion date must be in the future');
  // We delete our copy at once; the date promised is when it is gone at the latest.
  target.deletedAt = w.now.toISOString();
  outcome.attribute = target.content;
  outcome.attributeId = target.id;
  outcome.effect = 'deleted';
  return { '@type': 'DeleteAttributeAcceptResponseItem', result: 'Accepted', deletionDate: date.toISOString() };
}

function acceptFormField(item: JsonObject, d: RequestItemDecision): ResponseItemJson {
  const settings = isObject(item.settings) ? item.settings : {};
  const response = d.response;
  if (response === undefined) throw new ItemRefusal(`the form field "${String(item.title)}" needs an answer (response)`);
  const problem = formFieldAnswerProblem(settings, response);
  if (problem) throw new ItemRefusal(problem);
  return { '@type': 'FormFieldAcceptResponseItem', result: 'Accepted', response: response as string };
}

/** Why an answer does not fit a form field's settings (the settings' canAccept of @nmshd/content 7.0.0). */
export function formFieldAnswerProblem(settings: JsonObject, response: unknown): string | undefined {
  const min = typeof settings.min === 'number' ? settings.min : undefined;
  const max = typeof settings.max === 'number' ? settings.max : undefined;
  switch (settings['@type']) {
    case 'StringFormFieldSettings':
      if (typeof response !== 'string') return 'the answer must be text';
      if (max !== undefined && response.length > max) return `the answer has more than ${max} characters`;
      if (min !== undefined && response.length < min) return `the answer has fewer than ${min} characters`;
      if (!settings.allowNewlines && /[\r\n]/.test(response)) return 'the answer must be one line';
      return undefined;
    case 'IntegerFormFieldSettings':
    case 'DoubleFormFieldSettings':
      if (typeof response !== 'number' || !Number.isFinite(response)) return 'the answer must be a number';
      if (settings['@type'] === 'IntegerFormFieldSettings' && !Number.isInteger(response)) return 'the answer must be a whole number';
      if (max !== undefined && response > max) return `the answer must be at most ${max}`;
      if (min !== undefined && response < min) return `the answer must be at least ${min}`;
      return undefined;
    case 'BooleanFormFieldSettings':
      return typeof response === 'boolean' ? undefined : 'the answer must be true or false';
    case 'DateFormFieldSettings':
      return typeof response === 'string' && Number.isFinite(Date.parse(response)) ? undefined : 'the answer must be a date such as 2030-01-31';
    case 'RatingFormFieldSettings':
      return Number.isInteger(response) && (response as number) >= 1 && (response as number) <= Number(settings.maxRating) ? undefined : `the answer must be a whole number from 1 to ${String(settings.maxRating)}`;
    case 'SelectionFormFieldSettings': {
      const options = Array.isArray(settings.options) ? (settings.options as string[]) : [];
      if (!settings.allowMultipleSelection) return typeof response === 'string' && options.includes(response) ? undefined : `the answer must be one of ${options.join(', ')}`;
      if (!Array.isArray(response) || response.length === 0 || response.some((o) => typeof o !== 'string' || !options.includes(o))) return `the answer must be a list of some of ${options.join(', ')}`;
      return new Set(response).size === response.length ? undefined : 'the options chosen must be unique';
    }
    default:
      return `the form field type ${describe(settings['@type'])} is not known`;
  }
}

function rejectItem(d: RequestItemDecision | undefined, why?: string): ResponseItemJson {
  const item: ResponseItemJson = { '@type': 'RejectResponseItem', result: 'Rejected' };
  const code = d?.code;
  const message = d?.message ?? why;
  if (code) item.code = code.slice(0, 200);
  if (message) item.message = message.slice(0, 1000);
  return item;
}

/** One item: its decision (given, or automatic), carried out against the view. */
function decideItem(item: JsonObject, path: number[], given: RequestItemDecision | undefined, rejectAll: boolean, w: Work): { responseItem?: ResponseItemJson; outcome: ItemOutcome } {
  const type = typeof item['@type'] === 'string' ? item['@type'] : 'unknown';
  const mustBeAccepted = item.mustBeAccepted === true;
  const outcome: ItemOutcome = { path, type, mustBeAccepted, accepted: false, ok: true };
  if (given !== undefined && (!isObject(given) || typeof given.accept !== 'boolean')) {
    return { outcome: { ...outcome, ok: false, problem: 'the decision must be an object with "accept": true or false' } };
  }
  if (rejectAll || given?.accept === false) return { responseItem: rejectItem(given), outcome };
  const decision: RequestItemDecision = given ?? { accept: true };
  const snapshot = clone(w.known);
  try {
    let responseItem: ResponseItemJson;
    switch (type) {
      case 'ConsentRequestItem':
      case 'AuthenticationRequestItem':
        responseItem = { '@type': 'AcceptResponseItem', result: 'Accepted' };
        break;
      case 'ReadAttributeRequestItem':
        responseItem = acceptRead(item, decision, outcome, w);
        break;
      case 'ProposeAttributeRequestItem':
        responseItem = acceptPropose(item, decision, outcome, w);
        break;
      case 'CreateAttributeRequestItem':
        responseItem = acceptCreate(item, outcome, w);
        break;
      case 'ShareAttributeRequestItem':
        responseItem = acceptShare(item, outcome, w);
        break;
      case 'DeleteAttributeRequestItem':
        responseItem = acceptDelete(item, decision, outcome, w);
        break;
      case 'FormFieldRequestItem':
        responseItem = acceptFormField(item, decision);
        break;
      case 'TransferFileOwnershipRequestItem':
        throw new ItemRefusal('taking over the ownership of a file is not supported');
      default:
        throw new ItemRefusal(`a ${type} is not known to this version (it needs a newer enmeshed runtime)`);
    }
    return { responseItem, outcome: { ...outcome, accepted: true } };
  } catch (error) {
    if (!(error instanceof ItemRefusal)) throw error;
    w.known = snapshot;
    // Automatic decisions reject an optional item they cannot answer; a given decision is never changed.
    if (given === undefined && !mustBeAccepted) return { responseItem: rejectItem(undefined, `Not answered: ${error.message}`), outcome: { ...outcome, problem: error.message } };
    return { outcome: { ...outcome, ok: false, problem: error.message } };
  }
}

/**
 * Answers a Request as `mode` says: "accept" carries out each item's decision (given, or automatic:
 * consent and authentication agreed, a queried identity attribute answered with our newest own one
 * of that type, a proposed value taken, a shared or created attribute kept, a deletion agreed;
 * an optional item that cannot be answered so is rejected, a mandatory one makes the Request
 * unacceptable), "reject" rejects every item. Never throws for bad input: `ok: false` with the
 * problems, one per item, in words a user can act on.
 */
export function decideRequest(request: unknown, known: KnownAttributes, mode: 'accept' | 'reject', options: DecideOptions): Decided {
  const outcomes: ItemOutcome[] = [];
  const problems: string[] = [];
  const now = options.now ?? new Date();
  try {
    checkRequest(request, 'request', problems, { ownTemplate: false, now: new Date(0) });
    if (problems.length > 0) return { ok: false, outcomes, problems: problems.map((p) => `The Request is malformed: ${p}`) };
    const req = request as JsonObject;
    if (typeof req.expiresAt === 'string' && Date.parse(req.expiresAt) <= now.getTime()) return { ok: false, outcomes, problems: [`The Request expired at ${req.expiresAt}`] };
    const items = req.items as unknown[];
    const decisions = options.decisions;
    if (decisions !== undefined && (!Array.isArray(decisions) || decisions.length !== items.length)) {
      return { ok: false, outcomes, problems: [`Give one decision per item of the Request (${items.length}, a group as {"items":[…]}), not ${Array.isArray(decisions) ? decisions.length : describe(decisions)}`] };
    }
    const w: Work = { known: clone(known), options, now, newId: options.newAttributeId ?? (() => randomCoreId('ATT')) };
    const responseItems: (ResponseItemJson | ResponseItemGroupJson)[] = [];
    items.forEach((item, i) => {
      const given = decisions?.[i];
      if (typeOf(item) === 'RequestItemGroup') {
        const inner = (item as JsonObject).items as JsonObject[];
        const innerDecisions = given === undefined ? undefined : isObject(given) && Array.isArray((given as { items?: unknown }).items) ? (given as { items: RequestItemDecision[] }).items : null;
        if (innerDecisions === null || (innerDecisions && innerDecisions.length !== inner.length)) {
          problems.push(`${at([i])} is a group of ${inner.length} items: decide it as {"items":[…${inner.length} decisions]}`);
          return;
        }
        const group: ResponseItemJson[] = [];
        inner.forEach((innerItem, j) => {
          const { responseItem, outcome } = decideItem(innerItem, [i, j], innerDecisions?.[j], mode === 'reject', w);
          outcomes.push(outcome);
          if (responseItem) group.push(responseItem);
        });
        responseItems.push({ '@type': 'ResponseItemGroup', items: group });
      } else {
        const { responseItem, outcome } = decideItem(item as JsonObject, [i], given as RequestItemDecision | undefined, mode === 'reject', w);
        outcomes.push(outcome);
        if (responseItem) responseItems.push(responseItem);
      }
    });
    for (const outcome of outcomes) {
      if (!outcome.ok) problems.push(`${at(outcome.path)} (${outcome.type}): ${outcome.problem}`);
      else if (mode === 'accept' && outcome.mustBeAccepted && !outcome.accepted) problems.push(`${at(outcome.path)} (${outcome.type}) must be accepted to accept the Request; reject the whole Request instead`);
    }
    if (mode === 'accept' && problems.length === 0 && !outcomes.some((o) => o.accepted)) problems.push('Accepting a Request needs at least one accepted item; reject it instead');
    if (problems.length > 0) return { ok: false, outcomes, problems };
    const requestId = typeof req.id === 'string' ? req.id : options.requestId;
    const response: ResponseJson = { '@type': 'Response', result: mode === 'accept' ? 'Accepted' : 'Rejected', requestId, items: responseItems };
    return { ok: true, outcomes, problems, response, known: w.known };
  } catch (error) {
    return { ok: false, outcomes, problems: [`The Request could not be answered: ${error instanceof Error ? error.message : String(error)}`] };
  }
}

