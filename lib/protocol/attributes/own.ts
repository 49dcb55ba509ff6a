import { AppContentError, buildAttributeValue, IDENTITY_ATTRIBUTE_VALUE_TYPES, randomCoreId, sameValue, type IdentityAttributeJson, type OwnAttributeRecord } from '../app';
import { ProtocolError } from '../errors';
import type { Participant } from '../participant';
import { ATTRIBUTES, MAX_RECORDS, ownAttributes } from './store';

/**
 * Our own identity attributes: the values we share when a peer asks (ReadAttributeRequestItem) or
 * when we offer them (ShareAttributeRequestItem). A changed value is a new version with a new id
 * that succeeds the old one, as in the runtime: peers that hold the old one keep it until they ask
 * again (then they receive the succession).
 */

export interface OwnAttributeInput {
  /** An identity attribute value type, e.g. "EMailAddress". */
  valueType: string;
  /** A text for one-field types, or the fields (e.g. of a StreetAddress). */
  value: unknown;
  tags?: string[];
}

function content(ctx: Participant, input: Omit<OwnAttributeInput, 'valueType'>, valueType: string): IdentityAttributeJson {
  if (!(IDENTITY_ATTRIBUTE_VALUE_TYPES as readonly string[]).includes(valueType)) {
    throw new AppContentError([`${JSON.stringify(valueType)} is not an identity attribute type (${IDENTITY_ATTRIBUTE_VALUE_TYPES.join(', ')})`]);
  }
  const value = buildAttributeValue(valueType, input.value);
  const tags = input.tags?.map((t) => t.trim()).filter(Boolean);
  if (input.tags !== undefined && (!Array.isArray(input.tags) || input.tags.some((t) => typeof t !== 'string'))) throw new AppContentError(['The tags must be a list of texts']);
  return { '@type': 'IdentityAttribute', owner: ctx.address, value, ...(tags?.length ? { tags } : {}) };
}

/**
 * A new own identity attribute. When a current one has exactly this value and tags, that one is
 * returned (`created: false`), so a retried workflow makes no duplicates.
 */
export async function createOwnAttribute(ctx: Participant, input: OwnAttributeInput): Promise<{ attribute: OwnAttributeRecord; created: boolean }> {
  const attributeContent = content(ctx, input, input.valueType);
  return ctx.store.update<{ attribute: OwnAttributeRecord; created: boolean }>(() => {
    const own = ownAttributes(ctx);
    const existing = own.find((a) => !a.succeededBy && sameValue(a.content.value, attributeContent.value) && sameValue(a.content.tags ?? [], attributeContent.tags ?? []));
    if (existing) return { changes: [], result: { attribute: existing, created: false } };
    if (own.filter((a) => !a.succeededBy).length >= MAX_RECORDS) {
      throw new ProtocolError('protocol.input.invalid', `This identity has ${MAX_RECORDS} own attributes already; replace (succeed) one instead of creating more`);
    }
    const attribute: OwnAttributeRecord = { id: randomCoreId('ATT'), content: attributeContent, createdAt: ctx.now().toISOString(), source: { via: 'created' } };
    return { changes: [{ collection: ATTRIBUTES, id: 'own', value: { v: 1, own: [...own, attribute] } }], result: { attribute, created: true } };
  });
}

/** Replaces own attribute `id` by a new version with the new value (and tags, default: the old ones). */
export async function succeedOwnAttribute(ctx: Participant, id: string, input: Omit<OwnAttributeInput, 'valueType'>): Promise<{ predecessor: OwnAttributeRecord; successor: OwnAttributeRecord }> {
  await ctx.store.refresh();
  const current = ownAttributes(ctx).find((a) => a.id === id);
  if (!current) throw new ProtocolError('protocol.input.invalid', `There is no own attribute ${id}`, id);
  const valueType = current.content.value['@type'];
  const successorContent = content(ctx, { value: input.value, tags: input.tags ?? current.content.tags }, valueType);
  return ctx.store.update(() => {
    const own = ownAttributes(ctx);
    const predecessor = own.find((a) => a.id === id);
    if (!predecessor) throw new ProtocolError('protocol.input.invalid', `There is no own attribute ${id}`, id);
    if (predecessor.succeededBy) throw new ProtocolError('protocol.input.invalid', `Attribute ${id} was already replaced by ${predecessor.succeededBy}; replace that one`, id);
    if (sameValue(predecessor.content, successorContent)) throw new ProtocolError('protocol.input.invalid', `Attribute ${id} already has this value`, id);
    const successor: OwnAttributeRecord = { id: randomCoreId('ATT'), content: successorContent, createdAt: ctx.now().toISOString(), source: { via: 'created' }, succeeds: id };
    predecessor.succeededBy = successor.id;
    return { changes: [{ collection: ATTRIBUTES, id: 'own', value: { v: 1, own: [...own, successor] } }], result: { predecessor, successor } };
  });
}

export async function getOwnAttribute(ctx: Participant, id: string): Promise<OwnAttributeRecord> {
  await ctx.store.refresh();
  const found = ownAttributes(ctx).find((a) => a.id === id);
  if (!found) throw new ProtocolError('protocol.input.invalid', `There is no own attribute ${id}`, id);
  return found;
}

/** Own attributes, oldest first: the current ones, or every version with `versions`. */
export async function listOwnAttributes(ctx: Participant, options: { valueType?: string; versions?: boolean } = {}): Promise<OwnAttributeRecord[]> {
  await ctx.store.refresh();
  return ownAttributes(ctx).filter((a) => (options.versions || !a.succeededBy) && (!options.valueType || a.content.value['@type'] === options.valueType));
}
