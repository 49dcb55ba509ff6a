/**
 * The Request logic of lib/protocol/app/requests against the real @nmshd/content 7.0.0 classes:
 * every value we build is one the classes read (and what they refuse we refuse), every Request we
 * build and every Response we decide is read by the classes unchanged.
 */
import { Serializable } from '@js-soft/ts-serval';
import { Request, Response, FormFieldRequestItem } from '@nmshd/content';
import { deriveAddress } from '../../../lib/crypto';
import {
  AppContentError,
  IDENTITY_ATTRIBUTE_VALUE_TYPES,
  RELATIONSHIP_ATTRIBUTE_VALUE_TYPES,
  VALUE_TYPES,
  attributeValueProblems,
  buildAttributeValue,
  buildRequest,
  decideRequest,
  emptyPeerAttributes,
  formFieldAnswerProblem,
  parseResponse,
  prepareRequest,
  validateOwnRequest,
  type KnownAttributes,
  type OwnAttributeRecord,
  type RequestItemInput,
} from '../../../lib/protocol';

const ORG = deriveAddress(Buffer.alloc(32, 1), 'localhost');
const PERSON = deriveAddress(Buffer.alloc(32, 2), 'localhost');
const NOW = new Date('2026-01-01T00:00:00.000Z');

/** A valid value of every type, as a user would give it. */
const SAMPLES: Record<string, unknown> = {
  Affiliation: { organization: 'Stadtwerke', role: 'Leitung' },
  BirthDate: { day: '29', month: '2', year: '2000' },
  BirthName: 'Müller',
  BirthPlace: { city: 'Köln', country: 'de' },
  Citizenship: 'DE',
  CommunicationLanguage: 'DE',
  DeliveryBoxAddress: { recipient: 'Jane', userId: 'u1', deliveryBoxId: 'b1', zipCode: '10115', city: 'Berlin', country: 'DE', phoneNumber: '+49 30 1' },
  DisplayName: '  Stadtwerke Musterstadt ',
  EMailAddress: 'info@stadtwerke.example',
  FaxNumber: '+49 30 1234',
  GivenName: 'Zoë',
  HonorificPrefix: 'Dr.',
  HonorificSuffix: 'MdB',
  IdentityFileReference: 'RklMdGVzdEZJTHRlc3RGSUx0ZXN0RklMdGVzdA',
  JobTitle: 'Ingenieurin',
  Nationality: 'FR',
  MiddleName: 'Maria',
  PhoneNumber: '+49 (30) 123-456',
  PostOfficeBoxAddress: { recipient: 'Jane', boxId: '12', zipCode: '10115', city: 'Berlin', country: 'DE' },
  Pseudonym: 'jd',
  Sex: 'female',
  StreetAddress: { recipient: 'Jane Doe', street: 'Hauptstr.', houseNo: '1a', zipCode: '10115', city: 'Berlin', country: 'DE', state: '' },
  Surname: 'Doe',
  Website: 'https://stadtwerke.example/kontakt',
  SchematizedXML: { value: '<a/>', schemaURL: 'https://schema.example/a.xsd' },
  ProprietaryBoolean: { title: 'Newsletter', value: 'true' },
  ProprietaryCountry: { title: 'Land', value: 'AT' },
  ProprietaryEMailAddress: { title: 'Rechnung', value: 'rechnung@example.org' },
  ProprietaryFileReference: { title: 'Vertrag', value: 'RklMdGVzdEZJTHRlc3RGSUx0ZXN0RklMdGVzdA' },
  ProprietaryFloat: { title: 'Tarif', value: 0.31 },
  ProprietaryHEXColor: { title: 'Farbe', value: '#1A2B3C' },
  ProprietaryInteger: { title: 'Zählerstand', value: '1234', description: 'in kWh' },
  ProprietaryLanguage: { title: 'Sprache', value: 'en' },
  ProprietaryPhoneNumber: { title: 'Hotline', value: '0800 123' },
  ProprietaryString: { title: 'Kundennummer', value: 'K-4711' },
  ProprietaryURL: { title: 'Portal', value: 'https://portal.example' },
  ProprietaryJSON: { title: 'Daten', value: { a: [1, 2] } },
  ProprietaryXML: { title: 'XML', value: '<x/>' },
  Consent: { consent: 'Ja', link: 'https://example.org/agb', linkDisplayText: 'AGB' },
};

/** Invalid values: [type, value, what our message says]. The classes refuse each as well. */
const INVALID: [string, unknown, RegExp][] = [
  ['EMailAddress', 'not-an-address', /not an e-mail address/],
  ['EMailAddress', 'a@b', /not an e-mail address/],
  ['Website', 'http://', /not a web address/],
  ['PhoneNumber', 'call me', /not a phone number/],
  ['Nationality', 'XX', /country code/],
  ['CommunicationLanguage', 'xx', /language code/],
  ['Sex', 'other', /"female", "male" or "intersex"/],
  ['BirthDate', { day: 31, month: 2, year: 2001 }, /not a date/],
  ['BirthDate', { day: 1, month: 13, year: 2001 }, /month must be a whole number from 1 to 12/],
  ['DisplayName', 'x'.repeat(101), /at most 100/],
  ['StreetAddress', { recipient: 'Jane', street: 'Hauptstr.', zipCode: '1', city: 'B', country: 'DE' }, /houseNo is missing/],
  ['ProprietaryHEXColor', { title: 'Farbe', value: 'red' }, /colour/],
  ['ProprietaryInteger', { title: 'Zahl', value: 1.5 }, /whole number/],
  ['ProprietaryString', { value: 'no title' }, /title is missing/],
  ['ProprietaryJSON', { title: 'big', value: { s: 'x'.repeat(5000) } }, /at most 4096/],
];

const classesRead = (json: unknown): boolean => {
  try {
    Serializable.fromUnknown(json);
    return true;
  } catch {
    return false;
  }
};

describe('attribute values', () => {
  test('the table knows every value type of @nmshd/content 7.0.0', () => {
    expect(Object.keys(VALUE_TYPES).filter((t) => VALUE_TYPES[t].attribute === 'IdentityAttribute').sort()).toEqual([...IDENTITY_ATTRIBUTE_VALUE_TYPES].sort());
    expect(RELATIONSHIP_ATTRIBUTE_VALUE_TYPES.length).toBe(14);
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(VALUE_TYPES).sort());
  });

  test.each(Object.keys(SAMPLES))('%s: what we build the classes read and write back unchanged', (type) => {
    const value = buildAttributeValue(type, SAMPLES[type]);
    const instance = Serializable.fromUnknown(value);
    expect(instance.toJSON()).toEqual(value);
    expect(attributeValueProblems(value, 'v')).toEqual([]);
  });

  test.each(INVALID)('%s %j is refused, as by the classes', (type, raw, message) => {
    expect(() => buildAttributeValue(type, raw)).toThrow(message);
    const asJson = typeof raw === 'object' ? { '@type': type, ...(raw as object) } : { '@type': type, value: raw };
    expect(classesRead(asJson)).toBe(false);
  });

  test('a field the type does not have is refused (the classes would drop it silently)', () => {
    const withFloor = { '@type': 'StreetAddress', recipient: 'Jane', street: 'H', houseNo: '1', zipCode: '1', city: 'B', country: 'DE', floor: '3' };
    expect(() => buildAttributeValue('StreetAddress', withFloor)).toThrow(/floor is not a field of StreetAddress/);
    expect(Serializable.fromUnknown(withFloor).toJSON()).not.toHaveProperty('floor');
  });

  test('texts are normalised; the App\'s character rules apply', () => {
    expect(buildAttributeValue('GivenName', 'Zoe\u0308 ')).toEqual({ '@type': 'GivenName', value: 'Zoë' });
    expect(() => buildAttributeValue('DisplayName', 'Robot 🤖')).toThrow(/U\+1F916/);
    expect(() => buildAttributeValue('Unknown', 'x')).toThrow(AppContentError);
  });
});

const own = (id: string, valueType: string, value: unknown, extra: Partial<OwnAttributeRecord> = {}): OwnAttributeRecord => ({
  id,
  content: { '@type': 'IdentityAttribute', owner: ORG, value: buildAttributeValue(valueType, value) },
  createdAt: NOW.toISOString(),
  source: { via: 'created' },
  ...extra,
});

const known = (ownRecords: OwnAttributeRecord[] = []): KnownAttributes => ({ ownAddress: ORG, own: ownRecords, peer: emptyPeerAttributes(PERSON) });

const EVERY_KIND: RequestItemInput[] = [
  { kind: 'readAttribute', valueType: 'EMailAddress', tags: ['private'] },
  { kind: 'readRelationshipAttribute', key: 'meter', valueType: 'ProprietaryInteger', title: 'Zählerstand', confidentiality: 'private' },
  { kind: 'readThirdPartyAttribute', key: 'customerNo', thirdParty: [deriveAddress(Buffer.alloc(32, 3), 'localhost')] },
  { kind: 'proposeAttribute', valueType: 'GivenName', value: 'Jane' },
  { kind: 'createAttribute', valueType: 'PhoneNumber', value: '+49 30 1', mustBeAccepted: false },
  { kind: 'createRelationshipAttribute', key: 'contract', valueType: 'ProprietaryString', value: { title: 'Vertrag', value: 'V-1' }, ownedBy: 'sender' },
  { kind: 'shareAttribute', valueType: 'DisplayName' },
  { kind: 'consent', consent: 'Ja', link: 'https://example.org', linkDisplayText: 'Mehr' },
  { kind: 'authentication', title: 'Anmelden im Portal' },
  { kind: 'formField', title: 'Zufriedenheit', settings: { '@type': 'RatingFormFieldSettings', maxRating: 5 } },
  { kind: 'freeText', title: 'Anmerkungen', multiline: true, max: 500, description: 'optional' },
  { kind: 'deleteAttribute', attributeId: 'ATTdisplay0000000000' },
];

describe('our Request', () => {
  const ctx = { ownAddress: ORG, peer: PERSON, now: NOW, own: [own('ATTdisplay0000000000', 'DisplayName', 'Stadtwerke')] };

  test('every item kind: the classes read it and write back exactly what we send', () => {
    const request = buildRequest({ title: 'Alles', expiresAt: '2030-01-01T00:00:00.000Z', items: [...EVERY_KIND, { title: 'Gruppe', items: EVERY_KIND.slice(0, 2) }] }, ctx);
    expect(request.id).toMatch(/^REQ[A-Za-z0-9]{17}$/);
    expect(Request.from(request as never).toJSON()).toEqual(request);
    const types = (request.items as { '@type': string }[]).map((i) => i['@type']);
    expect(types).toEqual([
      'ReadAttributeRequestItem',
      'ReadAttributeRequestItem',
      'ReadAttributeRequestItem',
      'ProposeAttributeRequestItem',
      'CreateAttributeRequestItem',
      'CreateAttributeRequestItem',
      'ShareAttributeRequestItem',
      'ConsentRequestItem',
      'AuthenticationRequestItem',
      'FormFieldRequestItem',
      'FormFieldRequestItem',
      'DeleteAttributeRequestItem',
      'RequestItemGroup',
    ]);
    // free text: a string form field (7.0.0 has no FreeTextRequestItem)
    expect(request.items[10]).toMatchObject({ title: 'Anmerkungen', settings: { '@type': 'StringFormFieldSettings', allowNewlines: true, max: 500 }, mustBeAccepted: true });
    expect(request.items[3]).toMatchObject({ attribute: { owner: '' } });
  });

  test.each<[string, unknown, RegExp]>([
    ['an unknown item type', { items: [{ '@type': 'FreeTextRequestItem', mustBeAccepted: true, title: 'x' }] }, /must be a known RequestItem type/],
    ['a newer App\'s item type', { items: [{ '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: true }] }, /needs a newer App/],
    ['no items', { items: [] }, /must not be empty/],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00.000Z', items: [{ '@type': 'AuthenticationRequestItem', mustBeAccepted: true, title: 't' }] }, /in the past/],
    [
      'a proposed attribute with an owner',
      { items: [{ '@type': 'ProposeAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'GivenName' }, attribute: { '@type': 'IdentityAttribute', owner: PERSON, value: { '@type': 'GivenName', value: 'J' } } }] },
      /owner must be "" \(the recipient\)/,
    ],
    [
      'a proposal that does not fit its query',
      { items: [{ '@type': 'ProposeAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'Surname' }, attribute: { '@type': 'IdentityAttribute', owner: '', value: { '@type': 'GivenName', value: 'J' } } }] },
      /with a Surname value, as the query asks/,
    ],
    [
      'an own IdentityAttribute created with CreateAttribute',
      { items: [{ '@type': 'CreateAttributeRequestItem', mustBeAccepted: true, attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'GivenName', value: 'J' } } }] },
      /owner must be "" \(the recipient\) or/,
    ],
    ['a bad value', { items: [{ '@type': 'CreateAttributeRequestItem', mustBeAccepted: true, attribute: { '@type': 'IdentityAttribute', owner: '', value: { '@type': 'EMailAddress', value: 'nobody' } } }] }, /not an e-mail address/],
    ['bad form field settings', { items: [{ '@type': 'FormFieldRequestItem', mustBeAccepted: true, title: 'T', settings: { '@type': 'SelectionFormFieldSettings', options: [] } }] }, /needs a list of options/],
    [
      'a share of an attribute that is not ours',
      { items: [{ '@type': 'ShareAttributeRequestItem', mustBeAccepted: true, attributeId: 'ATTnotOurs0000000000', attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'DisplayName', value: 'X' } } }] },
      /is not one of our own attributes/,
    ],
    ['a deletion of nothing the peer holds', { items: [{ '@type': 'DeleteAttributeRequestItem', mustBeAccepted: true, attributeId: 'ATTdisplay0000000000' }] }, /none of our attributes that/],
  ])('JSON with %s is refused before sending', (_name, json, problem) => {
    expect(() => prepareRequest(json, { ...ctx, known: known(ctx.own) })).toThrow(problem);
  });

  test('every problem at once, naming the item', () => {
    try {
      buildRequest({ items: [{ kind: 'readAttribute', valueType: 'Shoe' }, { kind: 'consent', consent: '' }, { kind: 'freeText', title: 'x', min: 10, max: 5 }] }, ctx);
      throw new Error('not refused');
    } catch (error) {
      expect((error as AppContentError).problems).toEqual([
        expect.stringMatching(/^Item 1: "Shoe" is not an identity attribute type/),
        expect.stringMatching(/^Item 2: The consent text must not be empty/),
        expect.stringMatching(/^Item 3: max cannot be smaller than min/),
      ]);
    }
    expect(validateOwnRequest({ '@type': 'Request', items: [{ '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'x' }] }, ctx)).toEqual([expect.stringMatching(/id is missing/)]);
  });
});

describe('deciding a Request we received', () => {
  const request = {
    '@type': 'Request',
    id: 'REQfromPeer000000000',
    items: [
      { '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } },
      { '@type': 'ProposeAttributeRequestItem', mustBeAccepted: false, query: { '@type': 'IdentityAttributeQuery', valueType: 'Website' }, attribute: { '@type': 'IdentityAttribute', owner: '', value: { '@type': 'Website', value: 'https://a.example' } } },
      { '@type': 'RequestItemGroup', items: [{ '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'ok' }, { '@type': 'FormFieldRequestItem', mustBeAccepted: false, title: 'Größe', settings: { '@type': 'IntegerFormFieldSettings', min: 30 } }] },
    ],
  };
  const options = { requestId: 'REQunused00000000000', source: { via: 'request' as const }, now: NOW, newAttributeId: () => 'ATTnew00000000000000' };

  test('automatic decisions: our DisplayName, the proposed Website, the consent; the optional form field rejected', () => {
    const decided = decideRequest(request, known([own('ATTdisplay0000000000', 'DisplayName', 'Stadtwerke')]), 'accept', options);
    expect(decided.problems).toEqual([]);
    expect(Response.from(decided.response as never).toJSON()).toEqual(decided.response);
    expect(decided.response).toEqual({
      '@type': 'Response',
      result: 'Accepted',
      requestId: 'REQfromPeer000000000',
      items: [
        { '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted', attributeId: 'ATTdisplay0000000000', attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'DisplayName', value: 'Stadtwerke' } } },
        { '@type': 'ProposeAttributeAcceptResponseItem', result: 'Accepted', attributeId: 'ATTnew00000000000000', attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'Website', value: 'https://a.example' } } },
        {
          '@type': 'ResponseItemGroup',
          items: [
            { '@type': 'AcceptResponseItem', result: 'Accepted' },
            { '@type': 'RejectResponseItem', result: 'Rejected', message: 'Not answered: the form field "Größe" needs an answer (response)' },
          ],
        },
      ],
    });
    expect(decided.known?.own.map((a) => a.id)).toEqual(['ATTdisplay0000000000', 'ATTnew00000000000000']);
    expect(decided.known?.peer.shared.map((s) => s.attributeId)).toEqual(['ATTdisplay0000000000', 'ATTnew00000000000000']);
  });

  test('given decisions are carried out or refused, never changed', () => {
    const ownRecords = [own('ATTdisplay0000000000', 'DisplayName', 'Stadtwerke')];
    const refused = decideRequest(request, known(ownRecords), 'accept', { ...options, decisions: [{ accept: true }, { accept: false }, { items: [{ accept: true }, { accept: true, response: 12 }] }] });
    expect(refused.problems).toEqual([expect.stringMatching(/items\[2\]\.items\[1\] \(FormFieldRequestItem\): the answer must be at least 30/)]);
    const mandatoryRejected = decideRequest(request, known(ownRecords), 'accept', { ...options, decisions: [{ accept: false }, { accept: false }, { items: [{ accept: true }, { accept: false }] }] });
    expect(mandatoryRejected.problems).toEqual([expect.stringMatching(/items\[0\] \(ReadAttributeRequestItem\) must be accepted to accept the Request/)]);
    const wrongShape = decideRequest(request, known(ownRecords), 'accept', { ...options, decisions: [{ accept: true }] });
    expect(wrongShape.problems).toEqual([expect.stringMatching(/one decision per item of the Request \(3/)]);
    const noName = decideRequest(request, known(), 'accept', options);
    expect(noName.problems).toEqual([expect.stringMatching(/we have no own DisplayName/)]);
    const typedIn = decideRequest(request, known(), 'accept', { ...options, decisions: [{ accept: true, value: 'Neu GmbH' }, { accept: true, value: 'https://b.example' }, { items: [{ accept: true }, { accept: true, response: 42 }] }] });
    expect(typedIn.problems).toEqual([]);
    expect(typedIn.known?.own.map((a) => a.content.value)).toEqual([
      { '@type': 'DisplayName', value: 'Neu GmbH' },
      { '@type': 'Website', value: 'https://b.example' },
    ]);
  });

  test('shared before: only the id; an older version shared: a succession', () => {
    const current = own('ATTdisplay0000000001', 'DisplayName', 'Neu', { succeeds: 'ATTdisplay0000000000' });
    const old = own('ATTdisplay0000000000', 'DisplayName', 'Alt', { succeededBy: current.id });
    const view = known([old, current]);
    view.peer.shared.push({ attributeId: old.id, sharedAt: NOW.toISOString(), source: { via: 'request' } });
    const single = { '@type': 'Request', id: 'REQfromPeer000000001', items: [request.items[0]] };
    const succession = decideRequest(single, view, 'accept', options);
    expect(succession.response?.items[0]).toEqual({ '@type': 'AttributeSuccessionAcceptResponseItem', result: 'Accepted', predecessorId: old.id, successorId: current.id, successorContent: current.content });
    const again = decideRequest(single, succession.known!, 'accept', options);
    expect(again.response?.items[0]).toEqual({ '@type': 'AttributeAlreadySharedAcceptResponseItem', result: 'Accepted', attributeId: current.id });
    expect(Response.from(again.response as never).toJSON()).toEqual(again.response);
  });

  test('rejecting answers every item with a RejectResponseItem the classes read', () => {
    const decided = decideRequest(request, known(), 'reject', { ...options, decisions: [{ accept: false, code: 'x.y', message: 'Nein' }, { accept: false }, { items: [{ accept: false }, { accept: false }] }] });
    expect(decided.response?.result).toBe('Rejected');
    expect(Response.from(decided.response as never).toJSON()).toEqual(decided.response);
    expect(decided.response?.items[0]).toEqual({ '@type': 'RejectResponseItem', result: 'Rejected', code: 'x.y', message: 'Nein' });
  });

  test('never throws on malformed or hostile input', () => {
    for (const input of [undefined, null, 1, {}, { items: 'x' }, { items: [null] }, { items: [{ '@type': 'RequestItemGroup', items: [{ '@type': 'RequestItemGroup', items: [] }] }] }]) {
      const decided = decideRequest(input, known(), 'accept', options);
      expect(decided.ok).toBe(false);
      expect(decided.problems.length).toBeGreaterThan(0);
    }
    const hostile = { get items(): unknown[] { throw new Error('boom'); } };
    expect(decideRequest(hostile, known(), 'accept', options).problems).toEqual([expect.stringMatching(/boom/)]);
    expect(parseResponse(hostile).problems).toEqual(expect.arrayContaining([expect.stringMatching(/could not be read: boom/)]));
  });
});

describe('form field answers', () => {
  test.each<[object, unknown, boolean]>([
    [{ '@type': 'StringFormFieldSettings', max: 3 }, 'abc', true],
    [{ '@type': 'StringFormFieldSettings', max: 3 }, 'abcd', false],
    [{ '@type': 'IntegerFormFieldSettings', min: 1 }, 1.5, false],
    [{ '@type': 'DoubleFormFieldSettings', max: 2 }, 1.5, true],
    [{ '@type': 'BooleanFormFieldSettings' }, 'yes', false],
    [{ '@type': 'DateFormFieldSettings' }, '2030-01-31', true],
    [{ '@type': 'RatingFormFieldSettings', maxRating: 5 }, 6, false],
    [{ '@type': 'SelectionFormFieldSettings', options: ['a', 'b'] }, 'b', true],
    [{ '@type': 'SelectionFormFieldSettings', options: ['a', 'b'], allowMultipleSelection: true }, ['a', 'c'], false],
    [{ '@type': 'SelectionFormFieldSettings', options: ['a', 'b'], allowMultipleSelection: true }, ['a', 'b'], true],
  ])('%j with %j: %s, as the classes decide', (settings, answer, ok) => {
    expect(formFieldAnswerProblem(settings as never, answer) === undefined).toBe(ok);
    const item = FormFieldRequestItem.from({ mustBeAccepted: true, title: 't', settings: settings as never });
    expect(item.settings.canAccept(answer as never) === undefined).toBe(ok);
  });
});
