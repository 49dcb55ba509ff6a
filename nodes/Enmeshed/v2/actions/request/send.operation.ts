import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { sendRequest, type FormFieldSettingsJson, type Participant, type RequestItemInput } from '../../../../../lib/protocol';
import { outgoingRequestToJson } from '../../../../shared/request-output';
import { peerLocator } from '../../../v1/helpers/fields';
import { item, locatorValue, requireAddress } from '../../../v1/helpers/utils';
import { identityValueTypeOptions, jsonInput, valueInput, VALUE_HINT } from './shared';

/**
 * Request → Send: ask a peer (a person's App, or another organisation) for data, consent or an
 * answer, by message. The items come from the builder (the common ones) or as JSON (every item of
 * @nmshd/content 7.0.0, and groups). The answer arrives later: the trigger's "Request Answered", or
 * Request → Get.
 */

const ITEM_TYPES = [
  { name: 'Ask for an Attribute', value: 'readAttribute', description: 'The person shares one of their attributes, e.g. their e-mail address' },
  { name: 'Propose an Attribute', value: 'proposeAttribute', description: 'Suggest a value the person confirms or corrects' },
  { name: 'Give an Attribute', value: 'createAttribute', description: 'The person keeps an attribute you set, e.g. a phone number' },
  { name: 'Share One of Ours', value: 'shareAttribute', description: 'Share one of your own attributes, e.g. your display name' },
  { name: 'Consent', value: 'consent', description: 'A text the person agrees to' },
  { name: 'Authentication', value: 'authentication', description: 'The person confirms a login or action' },
  { name: 'Free Text', value: 'freeText', description: 'A question answered in the person\'s own words' },
  { name: 'Form Field', value: 'formField', description: 'A number, yes/no, date, choice or rating' },
  { name: 'Delete a Shared Attribute', value: 'deleteAttribute', description: 'Ask the person to delete their copy of an attribute you shared' },
];

const show = (...types: string[]) => ({ show: { itemType: types } });

const itemValues: INodeProperties[] = [
  { displayName: 'Item Type', name: 'itemType', type: 'options', default: 'readAttribute', options: ITEM_TYPES },
  {
    displayName: 'Attribute Type',
    name: 'valueType',
    type: 'options',
    default: 'EMailAddress',
    options: identityValueTypeOptions,
    displayOptions: show('readAttribute', 'proposeAttribute', 'createAttribute', 'shareAttribute'),
  },
  { displayName: 'Value', name: 'value', type: 'string', default: '', description: VALUE_HINT, displayOptions: show('proposeAttribute', 'createAttribute') },
  {
    displayName: 'Attribute ID',
    name: 'attributeId',
    type: 'string',
    default: '',
    placeholder: 'ATTxxxxxxxxxxxxxxxxx',
    description: 'Which of your attributes; for Share One of Ours, empty means the newest of the attribute type',
    displayOptions: show('shareAttribute', 'deleteAttribute'),
  },
  { displayName: 'Consent Text', name: 'consent', type: 'string', typeOptions: { rows: 3 }, default: '', displayOptions: show('consent') },
  { displayName: 'Link', name: 'link', type: 'string', default: '', placeholder: 'https://example.com/privacy', displayOptions: show('consent') },
  { displayName: 'Link Text', name: 'linkDisplayText', type: 'string', default: '', description: '3 to 30 characters', displayOptions: show('consent') },
  { displayName: 'Ask for an Explicit Tick', name: 'requiresInteraction', type: 'boolean', default: false, displayOptions: show('consent') },
  { displayName: 'Title', name: 'title', type: 'string', default: '', placeholder: 'Your question', displayOptions: show('authentication', 'freeText', 'formField') },
  { displayName: 'Several Lines', name: 'multiline', type: 'boolean', default: false, displayOptions: show('freeText') },
  {
    displayName: 'Answer Type',
    name: 'formType',
    type: 'options',
    default: 'selection',
    options: [
      { name: 'Choice', value: 'selection' },
      { name: 'Date', value: 'date' },
      { name: 'Decimal Number', value: 'double' },
      { name: 'Multiple Choice', value: 'multiSelection' },
      { name: 'Rating', value: 'rating' },
      { name: 'Whole Number', value: 'integer' },
      { name: 'Yes/No', value: 'boolean' },
    ],
    displayOptions: show('formField'),
  },
  {
    displayName: 'Choices',
    name: 'choices',
    type: 'string',
    default: '',
    placeholder: 'Morning, Afternoon, Evening',
    description: 'Comma-separated',
    displayOptions: { show: { itemType: ['formField'], formType: ['selection', 'multiSelection'] } },
  },
  { displayName: 'Highest Rating', name: 'maxRating', type: 'number', default: 5, typeOptions: { minValue: 5, maxValue: 10 }, displayOptions: { show: { itemType: ['formField'], formType: ['rating'] } } },
  { displayName: 'Must Be Accepted', name: 'mustBeAccepted', type: 'boolean', default: true, description: 'Whether the person can only accept the Request together with this item' },
  { displayName: 'Description', name: 'description', type: 'string', default: '', description: 'Shown with the item (at most 500 characters)' },
];

const properties: INodeProperties[] = [
  peerLocator('to', 'To', 'The peer to ask: one you have an active relationship with'),
  {
    displayName: 'Define Items',
    name: 'itemsMode',
    type: 'options',
    noDataExpression: true,
    default: 'builder',
    options: [
      { name: 'With the Builder', value: 'builder', description: 'The common items, one by one' },
      { name: 'As JSON', value: 'json', description: 'A Request or a list of items of @nmshd/content 7.0.0, with groups' },
    ],
  },
  {
    displayName: 'Items',
    name: 'itemsUi',
    type: 'fixedCollection',
    placeholder: 'Add Item',
    typeOptions: { multipleValues: true, sortable: true },
    default: {},
    options: [{ displayName: 'Item', name: 'item', values: itemValues }],
    displayOptions: { show: { itemsMode: ['builder'] } },
  },
  {
    displayName: 'Request (JSON)',
    name: 'requestJson',
    type: 'json',
    default:
      '{\n  "items": [\n    { "@type": "ReadAttributeRequestItem", "mustBeAccepted": true, "query": { "@type": "IdentityAttributeQuery", "valueType": "EMailAddress" } }\n  ]\n}',
    description: 'A Request ({"items":[…]}, optionally with title, expiresAt, metadata) or just the list of items',
    displayOptions: { show: { itemsMode: ['json'] } },
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      { displayName: 'Description', name: 'description', type: 'string', default: '', description: 'Shown with the Request (at most 500 characters)' },
      { displayName: 'Expires After (Hours)', name: 'expiresInHours', type: 'number', typeOptions: { minValue: 0 }, default: 168, description: 'After this the person can no longer answer (0: never)' },
      { displayName: 'Metadata (JSON)', name: 'metadata', type: 'json', default: '{}', description: 'Your own data about the Request; the answer carries it back' },
      { displayName: 'Title', name: 'title', type: 'string', default: '', description: 'Shown above the items (at most 200 characters)' },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['request'], operation: ['send'] } }, properties);

function formSettings(entry: IDataObject): FormFieldSettingsJson {
  const choices = String(entry.choices ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  switch (entry.formType) {
    case 'selection':
      return { '@type': 'SelectionFormFieldSettings', options: choices };
    case 'multiSelection':
      return { '@type': 'SelectionFormFieldSettings', options: choices, allowMultipleSelection: true };
    case 'rating':
      return { '@type': 'RatingFormFieldSettings', maxRating: Number(entry.maxRating ?? 5) as 5 };
    case 'integer':
      return { '@type': 'IntegerFormFieldSettings' };
    case 'double':
      return { '@type': 'DoubleFormFieldSettings' };
    case 'date':
      return { '@type': 'DateFormFieldSettings' };
    default:
      return { '@type': 'BooleanFormFieldSettings' };
  }
}

/** One builder entry as the lib's item input. */
export function builderItem(entry: IDataObject): RequestItemInput {
  const common = { mustBeAccepted: entry.mustBeAccepted !== false, ...(entry.description ? { description: String(entry.description) } : {}) };
  const valueType = String(entry.valueType ?? '');
  switch (entry.itemType) {
    case 'proposeAttribute':
    case 'createAttribute':
      return { ...common, kind: entry.itemType, valueType, value: valueInput(entry.value, valueType) };
    case 'shareAttribute':
      return { ...common, kind: 'shareAttribute', ...(entry.attributeId ? { attributeId: String(entry.attributeId).trim() } : { valueType }) };
    case 'deleteAttribute':
      return { ...common, kind: 'deleteAttribute', attributeId: String(entry.attributeId ?? '').trim() };
    case 'consent':
      return {
        ...common,
        kind: 'consent',
        consent: String(entry.consent ?? ''),
        ...(entry.link ? { link: String(entry.link) } : {}),
        ...(entry.linkDisplayText ? { linkDisplayText: String(entry.linkDisplayText) } : {}),
        ...(entry.requiresInteraction ? { requiresInteraction: true } : {}),
      };
    case 'authentication':
      return { ...common, kind: 'authentication', title: String(entry.title ?? '') };
    case 'freeText':
      return { ...common, kind: 'freeText', title: String(entry.title ?? ''), multiline: entry.multiline === true };
    case 'formField':
      return { ...common, kind: 'formField', title: String(entry.title ?? ''), settings: formSettings(entry) };
    default:
      return { ...common, kind: 'readAttribute', valueType };
  }
}

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const peer = requireAddress(this, locatorValue(this, 'to', i), i, 'To');
  const options = this.getNodeParameter('options', i, {}) as IDataObject;
  const hours = Number(options.expiresInHours ?? 168);
  const expiresAt = hours > 0 ? new Date(participant.now().getTime() + hours * 3_600_000).toISOString() : undefined;
  const metadata = options.metadata === undefined ? undefined : (jsonInput(this, 'options.metadata', i, 'Metadata (JSON)', '{"case":"4711"}') as IDataObject | undefined);
  const top = {
    ...(options.title ? { title: String(options.title) } : {}),
    ...(options.description ? { description: String(options.description) } : {}),
    ...(metadata && Object.keys(metadata).length ? { metadata } : {}),
  };
  if (this.getNodeParameter('itemsMode', i) === 'json') {
    const given = jsonInput(this, 'requestJson', i, 'Request (JSON)', '{"items":[{"@type":"ConsentRequestItem","mustBeAccepted":true,"consent":"…"}]}');
    const request = Array.isArray(given) ? { items: given } : given;
    if (!request || typeof request !== 'object') throw new NodeOperationError(this.getNode(), 'Request (JSON) must be a Request object or a list of items', { itemIndex: i });
    const json = { ...top, ...(expiresAt ? { expiresAt } : {}), ...(request as IDataObject) };
    return [item(outgoingRequestToJson(await sendRequest(participant, { peer, json })), i)];
  }
  const entries = ((this.getNodeParameter('itemsUi', i, {}) as IDataObject).item ?? []) as IDataObject[];
  if (entries.length === 0) {
    throw new NodeOperationError(this.getNode(), 'The Request has no items', { itemIndex: i, description: 'Add at least one item with "Add Item", e.g. Ask for an Attribute: E-Mail Address.' });
  }
  const sent = await sendRequest(participant, { peer, request: { ...top, ...(expiresAt ? { expiresAt } : {}), items: entries.map(builderItem) } });
  return [item(outgoingRequestToJson(sent), i)];
}
