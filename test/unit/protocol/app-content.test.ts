import { Serializable } from '@js-soft/ts-serval';
import {
  AttributesController,
  DecideRequestParametersValidator,
  GenericRequestItemProcessor,
  LocalRequest,
  LocalRequestStatus,
  ReadAttributeRequestItemProcessor,
  ShareAttributeRequestItemProcessor,
  ValidationResult,
} from '@nmshd/consumption';
import validateAttributeMatchesWithQuery from '@nmshd/consumption/dist/modules/requests/itemProcessors/utility/validateAttributeMatchesWithQuery';
import {
  AcceptResponseItem,
  ArbitraryRelationshipCreationContent,
  ArbitraryRelationshipTemplateContent,
  AttributeAlreadySharedAcceptResponseItem,
  AttributeSuccessionAcceptResponseItem,
  AttributeValues,
  AuthenticationRequestItem,
  ConsentRequestItem,
  DisplayName,
  ErrorResponseItem,
  FormFieldRequestItem,
  GivenName,
  IdentityAttribute,
  IdentityAttributeQuery,
  ReadAttributeAcceptResponseItem,
  ReadAttributeRequestItem,
  RejectResponseItem,
  RelationshipAttributeConfidentiality,
  RelationshipAttributeQuery,
  RelationshipCreationContent,
  RelationshipTemplateContent,
  Request,
  RequestItemGroup,
  Response,
  ResponseItemGroup,
  ResponseItemResult,
  ResponseResult,
  ShareAttributeRequestItem,
} from '@nmshd/content';
import { CoreAddress, CoreDate, CoreId } from '@nmshd/core-types';
import { deriveAddress } from '../../../lib/crypto';
import {
  AppContentError,
  CONTENT_LIMITS,
  IDENTITY_ATTRIBUTE_VALUE_TYPES,
  REQUEST_ITEM_TYPES,
  attributeTextProblem,
  buildAcceptResponse,
  buildArbitraryRelationshipCreationContent,
  buildConsentItem,
  buildRelationshipCreationContent,
  buildRelationshipTemplateContent,
  parseRelationshipCreationContent,
  randomCoreId,
  validateTemplateContent,
  type RelationshipTemplateContentJson,
  type ResponseJson,
} from '../../../lib/protocol';

const ORG = deriveAddress(Buffer.alloc(32, 1), 'localhost');
const APP = deriveAddress(Buffer.alloc(32, 2), 'localhost');
const OTHER = deriveAddress(Buffer.alloc(32, 3), 'localhost');
const NOW = new Date('2026-01-01T00:00:00.000Z');
const FUTURE = '2030-06-30T12:00:00.000Z';

/** JSON through the real classes: deserialize with Serializable.fromUnknown and serialize again. */
function viaClasses(json: unknown): { instance: Serializable; json: any } {
  const instance = Serializable.fromUnknown(json);
  return { instance, json: instance.toJSON() };
}

/**
 * The classes' toJSON() leaves "@type" out of a nested object whose class is fixed by the property
 * (Request in a template content, Response in a creation content); everything else must survive.
 */
function withoutFixedNestedTypes(json: any): any {
  const copy = structuredClone(json);
  for (const key of ['onNewRelationship', 'onExistingRelationship', 'response']) {
    if (copy[key] && typeof copy[key] === 'object') delete copy[key]['@type'];
  }
  return copy;
}

function sorted(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(sorted);
  if (json && typeof json === 'object') {
    return Object.fromEntries(Object.keys(json as object).sort().map((k) => [k, sorted((json as Record<string, unknown>)[k])]));
  }
  return json;
}

/** A stand-in for the ConsumptionController the item processors read their identity and attribute checks from. */
function consumptionStub(address: string): any {
  return {
    accountController: { identity: { address: CoreAddress.from(address) } },
    attributes: {
      validateTagsOfAttribute: async () => ValidationResult.success(),
      validateAttributeQueryTags: async () => ValidationResult.success(),
    },
  };
}

const validateCharacters = (attribute: IdentityAttribute): boolean => (AttributesController.prototype as any).validateAttributeCharacters.call({}, attribute);

function fullTemplate(): RelationshipTemplateContentJson {
  return buildRelationshipTemplateContent({
    title: '  Welcome to ACME  ',
    description: 'Connect with ACME to receive your documents.',
    metadata: { campaign: 'spring', n: 3 },
    ownerAddress: ORG,
    shareDisplayName: 'ACME Müller GmbH',
    requestDisplayName: true,
    requestAttributes: ['GivenName', { valueType: 'EMailAddress', mustBeAccepted: false, description: 'For receipts' }],
    consent: { text: 'I agree to the terms of use.', link: 'https://acme.example/terms', linkDisplayText: 'Terms', requiresInteraction: true },
    expiresAt: new Date(FUTURE),
    now: NOW,
  });
}

describe('constants match @nmshd/content 7.0.0', () => {
  test('identity attribute value types are exactly AttributeValues.Identity.TYPE_NAMES', () => {
    expect([...IDENTITY_ATTRIBUTE_VALUE_TYPES].sort()).toEqual([...(AttributeValues.Identity.TYPE_NAMES as readonly string[])].sort());
  });

  test('every known RequestItem type deserializes; an unknown one does not', () => {
    for (const type of REQUEST_ITEM_TYPES) {
      expect(() => Serializable.getModule(type, 1)).not.toThrow();
    }
    expect(() => Serializable.fromUnknown({ '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: false })).toThrow();
  });

  test('random ids look like the runtime ids', () => {
    for (let i = 0; i < 50; i++) {
      expect(randomCoreId('REQ')).toMatch(/^REQ[A-Za-z0-9]{17}$/);
      expect(randomCoreId('ATT')).toMatch(/^ATT[A-Za-z0-9]{17}$/);
    }
    expect(randomCoreId('REQ')).not.toBe(randomCoreId('REQ'));
  });
});

describe('buildRelationshipTemplateContent', () => {
  test('produces the exact App-style shape', () => {
    const content = fullTemplate();
    const share = content.onNewRelationship.items[0] as any;
    expect(share.attributeId).toMatch(/^ATT[A-Za-z0-9]{17}$/);
    expect(content).toEqual({
      '@type': 'RelationshipTemplateContent',
      title: 'Welcome to ACME',
      metadata: { campaign: 'spring', n: 3 },
      onNewRelationship: {
        '@type': 'Request',
        expiresAt: FUTURE,
        description: 'Connect with ACME to receive your documents.',
        items: [
          {
            '@type': 'ShareAttributeRequestItem',
            mustBeAccepted: true,
            attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'DisplayName', value: 'ACME Müller GmbH' } },
            attributeId: share.attributeId,
          },
          { '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } },
          { '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'GivenName' } },
          {
            '@type': 'ReadAttributeRequestItem',
            mustBeAccepted: false,
            description: 'For receipts',
            query: { '@type': 'IdentityAttributeQuery', valueType: 'EMailAddress' },
          },
          {
            '@type': 'ConsentRequestItem',
            mustBeAccepted: true,
            consent: 'I agree to the terms of use.',
            link: 'https://acme.example/terms',
            linkDisplayText: 'Terms',
            requiresInteraction: true,
          },
        ],
      },
    });
    expect(validateTemplateContent(content, { ownerAddress: ORG, forApp: true, now: NOW })).toEqual([]);
  });

  test('the real classes accept it and round-trip it without losing a field', () => {
    const content = fullTemplate();
    const { instance, json } = viaClasses(content);
    expect(instance).toBeInstanceOf(RelationshipTemplateContent);
    expect(RelationshipTemplateContent.from(content as any)).toBeInstanceOf(RelationshipTemplateContent);
    expect(sorted(json)).toEqual(sorted(withoutFixedNestedTypes(content)));
    // and what the classes give back is still valid for us
    expect(validateTemplateContent(json, { ownerAddress: ORG, now: NOW })).toEqual([]);
    const template = instance as RelationshipTemplateContent;
    expect(template.onNewRelationship.items[0]).toBeInstanceOf(ShareAttributeRequestItem);
    expect(template.onNewRelationship.items[1]).toBeInstanceOf(ReadAttributeRequestItem);
    expect(template.onNewRelationship.items[4]).toBeInstanceOf(ConsentRequestItem);
    expect(template.onNewRelationship.expiresAt!.toJSON()).toBe(FUTURE);
  });

  test("the App's item processors accept the shared DisplayName and the query", async () => {
    const content = RelationshipTemplateContent.from(fullTemplate() as any);
    const [share, read] = content.onNewRelationship.items as [ShareAttributeRequestItem, ReadAttributeRequestItem];
    // The App (recipient) checks a ShareAttributeRequestItem before accepting it.
    const appProcessor = new ShareAttributeRequestItemProcessor(consumptionStub(APP));
    expect((await appProcessor.canAccept(share, {} as any, { peer: CoreAddress.from(ORG) } as any)).isSuccess()).toBe(true);
    // It stores the attribute as ours only when we own it, and only with allowed characters.
    expect(share.attribute.owner.toString()).toBe(ORG);
    expect(validateCharacters(share.attribute as IdentityAttribute)).toBe(true);
    // The creator's runtime (Connector) checks outgoing ReadAttributeRequestItems like this.
    const orgProcessor = new ReadAttributeRequestItemProcessor(consumptionStub(ORG));
    expect((await orgProcessor.canCreateOutgoingRequestItem(read, content.onNewRelationship)).isSuccess()).toBe(true);
  });

  test('the same display name gives the same attribute id, another name or owner another one', () => {
    const id = (name: string, owner = ORG) =>
      (buildRelationshipTemplateContent({ title: 't', ownerAddress: owner, shareDisplayName: name }).onNewRelationship.items[0] as any).attributeId;
    expect(id('ACME')).toBe(id('ACME'));
    expect(id('ACME')).toBe(id('  ACME '));
    expect(id('ACME')).not.toBe(id('ACME 2'));
    expect(id('ACME')).not.toBe(id('ACME', OTHER));
    const fixed = buildRelationshipTemplateContent({ title: 't', ownerAddress: ORG, shareDisplayName: { value: 'ACME', attributeId: 'ATTaaaaaaaaaaaaaaaaa' } });
    expect((fixed.onNewRelationship.items[0] as any).attributeId).toBe('ATTaaaaaaaaaaaaaaaaa');
  });

  test('a display name is trimmed and normalized to NFC (decomposed umlauts pass the App)', () => {
    const content = buildRelationshipTemplateContent({ title: 't', ownerAddress: ORG, shareDisplayName: ' Mu\u0308ller ' });
    const value = (content.onNewRelationship.items[0] as any).attribute.value.value;
    expect(value).toBe('Müller');
    expect(validateCharacters(IdentityAttribute.from({ owner: CoreAddress.from(ORG), value: DisplayName.from(value) }))).toBe(true);
  });

  test('minimal template: consent only', () => {
    const content = buildRelationshipTemplateContent({ title: 'Hi', consent: 'OK?' });
    expect(content).toEqual({
      '@type': 'RelationshipTemplateContent',
      title: 'Hi',
      onNewRelationship: { '@type': 'Request', items: [{ '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'OK?' }] },
    });
    expect(viaClasses(content).instance).toBeInstanceOf(RelationshipTemplateContent);
  });

  test('extra items are passed through and validated', () => {
    const content = buildRelationshipTemplateContent({
      title: 'Login',
      extraItems: [
        { '@type': 'AuthenticationRequestItem', mustBeAccepted: true, title: 'Log in to ACME' },
        { '@type': 'RequestItemGroup', title: 'Optional', items: [{ '@type': 'ConsentRequestItem', mustBeAccepted: false, consent: 'Newsletter' }] },
      ],
    });
    const { instance, json } = viaClasses(content);
    expect((instance as RelationshipTemplateContent).onNewRelationship.items[0]).toBeInstanceOf(AuthenticationRequestItem);
    expect((instance as RelationshipTemplateContent).onNewRelationship.items[1]).toBeInstanceOf(RequestItemGroup);
    expect(sorted(json)).toEqual(sorted(withoutFixedNestedTypes(content)));
    expect(() => buildRelationshipTemplateContent({ title: 'x', extraItems: [{ '@type': 'FooRequestItem', mustBeAccepted: true }] })).toThrow(
      /known RequestItem type/,
    );
  });

  test.each<[string, Parameters<typeof buildRelationshipTemplateContent>[0], RegExp]>([
    ['no title', { title: '  ', consent: 'x' }, /needs a title/],
    ['title too long', { title: 'x'.repeat(201), consent: 'x' }, /at most 200/],
    ['nothing asked', { title: 't' }, /asks nothing/],
    ['share without address', { title: 't', shareDisplayName: 'ACME' }, /needs our address/],
    ['share with a bad address', { title: 't', ownerAddress: 'did:e:localhost:dids:0000', shareDisplayName: 'ACME' }, /not an enmeshed address/],
    ['emoji in the display name', { title: 't', ownerAddress: ORG, shareDisplayName: 'ACME 🚀' }, /U\+1F680/],
    ['display name too long', { title: 't', ownerAddress: ORG, shareDisplayName: 'x'.repeat(101) }, /at most 100/],
    ['empty display name', { title: 't', ownerAddress: ORG, shareDisplayName: ' ' }, /must not be empty/],
    ['bad attribute id', { title: 't', ownerAddress: ORG, shareDisplayName: { value: 'A', attributeId: 'ATT1' } }, /17 letters or digits/],
    ['unknown attribute type', { title: 't', requestAttributes: ['Nickname' as any] }, /not an identity attribute type/],
    ['expiry in the past', { title: 't', consent: 'x', expiresAt: '2020-01-01T00:00:00Z', now: NOW }, /in the past/],
    ['expiry not a date', { title: 't', consent: 'x', expiresAt: 'tomorrow' }, /ISO date/],
    ['empty consent', { title: 't', consent: '' }, /consent text must not be empty/],
    ['consent too long', { title: 't', consent: 'x'.repeat(CONTENT_LIMITS.consent + 1) }, /at most 10000/],
    ['link text without link', { title: 't', consent: { text: 'x', linkDisplayText: 'Terms' } }, /needs a link/],
    ['bad link', { title: 't', consent: { text: 'x', link: 'not a link' } }, /not a link/],
    ['description too long', { title: 't', consent: 'x', description: 'd'.repeat(501) }, /at most 500/],
  ])('rejects: %s', (_name, params, message) => {
    let error: unknown;
    try {
      buildRelationshipTemplateContent(params);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppContentError);
    expect((error as AppContentError).code).toBe('protocol.input.invalid');
    expect((error as AppContentError).message).toMatch(message);
  });

  test('reports all problems at once', () => {
    try {
      buildRelationshipTemplateContent({ title: '', shareDisplayName: 'x', consent: '' });
      throw new Error('no error');
    } catch (error) {
      expect((error as AppContentError).problems.length).toBeGreaterThanOrEqual(3);
    }
  });

  test('consent links: our check agrees with ConsentRequestItem of @nmshd/content', () => {
    const links = [
      'https://acme.example/terms',
      'http://localhost:8080/a/b.html?x=1&y=2#top',
      'www.example.com',
      'mailto:someone@example.com',
      'ftp://files.example.org/pub/',
      'https://example.com/path with space',
      'example.com',
      'https://',
      'javascript:alert(1)',
      'https://ex.com/ä',
      'tel:+49123456',
      'ab',
      'https://a.b/c?d=e;f=g%20h',
      'HTTPS://EXAMPLE.COM/X',
    ];
    for (const link of links) {
      let classAccepts = true;
      try {
        ConsentRequestItem.from({ consent: 'x', mustBeAccepted: true, link });
      } catch {
        classAccepts = false;
      }
      let oursAccepts = true;
      try {
        buildConsentItem({ text: 'x', link });
      } catch {
        oursAccepts = false;
      }
      expect({ link, accepted: oursAccepts }).toEqual({ link, accepted: classAccepts });
    }
  });
});

describe('attributeTextProblem agrees with the runtime (AttributesController.validateAttributeCharacters)', () => {
  test('for every single character of the Basic Multilingual Plane and some beyond', () => {
    const attribute = IdentityAttribute.from({ owner: CoreAddress.from(ORG), value: DisplayName.from('x') });
    const disagreements: string[] = [];
    const codePoints: number[] = [];
    for (let cp = 0; cp <= 0xffff; cp++) if (cp < 0xd800 || cp > 0xdfff) codePoints.push(cp);
    codePoints.push(0x1f680, 0x1d400, 0x20000, 0x10ffff);
    for (const cp of codePoints) {
      const ch = String.fromCodePoint(cp);
      (attribute.value as DisplayName).value = ch;
      if (validateCharacters(attribute) !== (attributeTextProblem(ch) === undefined)) disagreements.push(cp.toString(16));
    }
    expect(disagreements).toEqual([]);
  });

  test('typical names', () => {
    for (const name of ['ACME GmbH', 'Ørsted A/S', 'Łódź Café', 'Ștefan Țepeș', "O'Brien & Co.", 'Nguyễn Văn An', 'Straße 1', 'Tab\there']) {
      expect(attributeTextProblem(name)).toBeUndefined();
      expect(validateCharacters(IdentityAttribute.from({ owner: CoreAddress.from(ORG), value: DisplayName.from(name) }))).toBe(true);
    }
    for (const name of ['李小龍', 'Ελλάδα', 'Москва', 'a\u0000b', 'zero\u200bwidth']) {
      expect(attributeTextProblem(name)).toBeDefined();
      expect(validateCharacters(IdentityAttribute.from({ owner: CoreAddress.from(ORG), value: DisplayName.from(name) }))).toBe(false);
    }
  });
});

describe('validateTemplateContent', () => {
  test('accepts a content built with the real classes (nested Request without "@type")', () => {
    const json = RelationshipTemplateContent.from({
      title: 'Connector style',
      onNewRelationship: Request.from({
        expiresAt: CoreDate.from(FUTURE),
        items: [
          ShareAttributeRequestItem.from({
            mustBeAccepted: true,
            attributeId: CoreId.from('ATTxxxxxxxxxxxxxxxxx'),
            attribute: IdentityAttribute.from({ owner: CoreAddress.from(ORG), value: DisplayName.from('ACME') }),
          }),
          RequestItemGroup.from({
            title: 'About you',
            items: [
              ReadAttributeRequestItem.from({ mustBeAccepted: true, query: IdentityAttributeQuery.from({ valueType: 'GivenName' }) }),
              ReadAttributeRequestItem.from({ mustBeAccepted: false, query: IdentityAttributeQuery.from({ valueType: 'Surname' }) }),
            ],
          }),
          ConsentRequestItem.from({ mustBeAccepted: true, consent: 'Yes' }),
        ],
      }),
      onExistingRelationship: Request.from({ items: [ConsentRequestItem.from({ mustBeAccepted: true, consent: 'Again' })] }),
    }).toJSON();
    expect(json.onNewRelationship['@type']).toBeUndefined();
    expect(validateTemplateContent(json, { ownerAddress: ORG, now: NOW })).toEqual([]);
  });

  test('accepts an ArbitraryRelationshipTemplateContent, unless it is meant for the App', () => {
    const json = ArbitraryRelationshipTemplateContent.from({ value: { any: 'thing' } }).toJSON();
    expect(validateTemplateContent(json)).toEqual([]);
    expect(validateTemplateContent(json, { forApp: true })).toEqual([expect.stringMatching(/only handles a RelationshipTemplateContent/)]);
    expect(validateTemplateContent({ '@type': 'ArbitraryRelationshipTemplateContent' })).toEqual([expect.stringMatching(/needs a "value"/)]);
  });

  const consent = { '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'x' };
  const template = (items: unknown[], extra: Record<string, unknown> = {}) => ({
    '@type': 'RelationshipTemplateContent',
    title: 't',
    onNewRelationship: { '@type': 'Request', items, ...extra },
  });
  const share = (owner: string, value = 'ACME', more: Record<string, unknown> = {}) => ({
    '@type': 'ShareAttributeRequestItem',
    mustBeAccepted: true,
    attributeId: 'ATTxxxxxxxxxxxxxxxxx',
    attribute: { '@type': 'IdentityAttribute', owner, value: { '@type': 'DisplayName', value } },
    ...more,
  });

  /** What the runtime's CreateOwnRelationshipTemplate checks first: the classes read it (and can write it back) as a template content. */
  const classesAccept = (json: unknown): boolean => {
    try {
      const content = Serializable.fromUnknown(json);
      content.toJSON(); // an invalid date only fails here
      return content instanceof RelationshipTemplateContent || content instanceof ArbitraryRelationshipTemplateContent;
    } catch {
      return false;
    }
  };

  // [name, json, expected problem, do the @nmshd/content classes reject it too?]
  test.each<[string, unknown, RegExp, boolean]>([
    ['null', null, /must be a JSON object/, true],
    ['a list', [consent], /must be a JSON object/, true],
    ['text', 'RelationshipTemplateContent', /must be a JSON object/, true],
    ['no @type', { onNewRelationship: { items: [consent] } }, /"@type" must be/, true],
    ['unknown @type', { '@type': 'Template', onNewRelationship: { items: [consent] } }, /"@type" must be/, true],
    ['no onNewRelationship', { '@type': 'RelationshipTemplateContent', title: 't' }, /onNewRelationship must be a Request/, true],
    ['empty items', template([]), /items must not be empty/, true],
    ['items not a list', template(undefined as any), /items must be a list/, true],
    ['item without @type (the classes keep it as plain JSON; no item processor handles it)', template([{ mustBeAccepted: true, consent: 'x' }]), /known RequestItem type/, false],
    ['unknown item type', template([{ '@type': 'FooRequestItem', mustBeAccepted: true }]), /known RequestItem type/, true],
    ['item type of a later runtime', template([{ '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: true }]), /newer App/, true],
    ['mustBeAccepted missing', template([{ '@type': 'ConsentRequestItem', consent: 'x' }]), /mustBeAccepted must be true or false/, true],
    ['mustBeAccepted as text', template([{ ...consent, mustBeAccepted: 'yes' }]), /mustBeAccepted must be true or false/, true],
    ['consent missing', template([{ '@type': 'ConsentRequestItem', mustBeAccepted: true }]), /consent must be text/, true],
    ['link text without link', template([{ ...consent, linkDisplayText: 'Terms' }]), /only allowed together with a link/, true],
    ['title too long', { ...template([consent]), title: 'x'.repeat(201) }, /title has 201 characters/, true],
    ['item description too long', template([{ ...consent, description: 'd'.repeat(501) }]), /description has 501/, true],
    ['expiry not a date', template([consent], { expiresAt: 'garbage' }), /ISO date/, true],
    ['query value type unknown', template([{ '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'Nick' } }]), /valueType must be/, true],
    ['query missing', template([{ '@type': 'ReadAttributeRequestItem', mustBeAccepted: true }]), /query must be an attribute query/, true],
    ['share without attributeId', template([{ ...share(ORG), attributeId: undefined }]), /attributeId must be/, true],
    ['authentication without title', template([{ '@type': 'AuthenticationRequestItem', mustBeAccepted: true }]), /title must be text/, true],
    // Rules of the App and the runtime's request processing, beyond what the classes check:
    ['group inside a group', template([{ '@type': 'RequestItemGroup', items: [{ '@type': 'RequestItemGroup', items: [consent] }] }]), /groups may only contain/, false],
    ['request with a fixed id', template([consent], { id: 'REQxxxxxxxxxxxxxxxxx' }), /should not be set in a template/, false],
    ['expiry in the past', template([consent], { expiresAt: '2020-01-01T00:00:00.000Z' }), /in the past/, false],
    ['shared attribute without owner', template([share('')]), /must be our address/, false],
    ['shared attribute owned by someone else', template([share(OTHER)]), /not our address/, false],
    ['shared display name with an emoji', template([share(ORG, 'ACME 🚀')]), /U\+1F680/, false],
    ['shared identity attribute with a third party', template([share(ORG, 'ACME', { thirdPartyAddress: OTHER })]), /without a third party/, false],
    ['bad attribute id', template([{ ...share(ORG), attributeId: 'ID1' }]), /not an attribute id/, false],
    ['bad request @type', { ...template([consent]), onNewRelationship: { '@type': 'Requests', items: [consent] } }, /must be "Request"/, true],
  ])('%s', (_name, json, problem, classesReject) => {
    const problems = validateTemplateContent(json, { ownerAddress: ORG, now: NOW });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    // Where the classes accept it, only our check (the App's and the runtime's further rules) stops it.
    expect(classesAccept(json)).toBe(!classesReject);
  });

  test('never throws, whatever the input', () => {
    const hostile = { '@type': 'RelationshipTemplateContent', get onNewRelationship() { throw new Error('boom'); } };
    expect(validateTemplateContent(hostile)).toEqual([expect.stringMatching(/could not be checked: boom/)]);
    for (const input of [undefined, 0, true, {}, { '@type': 5 }, template([null, 1, 'x', [], {}])]) {
      expect(() => validateTemplateContent(input)).not.toThrow();
    }
    expect(validateTemplateContent(template([null, 1])).length).toBe(2);
  });
});

describe('parseRelationshipCreationContent', () => {
  const requestId = 'REQabcdefghijklmnopq';

  /** The Response an App gives to fullTemplate(), built with the real classes. */
  function appResponseJson(owner = APP): any {
    return RelationshipCreationContent.from({
      response: Response.from({
        result: ResponseResult.Accepted,
        requestId: CoreId.from(requestId),
        items: [
          AttributeAlreadySharedAcceptResponseItem.from({ result: ResponseItemResult.Accepted, attributeId: CoreId.from('ATTshared00000000000') }),
          ReadAttributeAcceptResponseItem.from({
            result: ResponseItemResult.Accepted,
            attributeId: CoreId.from('ATTjane0000000000000'),
            attribute: IdentityAttribute.from({ owner: CoreAddress.from(owner), value: DisplayName.from('Jane Doe') }),
          }),
          AttributeSuccessionAcceptResponseItem.from({
            result: ResponseItemResult.Accepted,
            predecessorId: CoreId.from('ATTold00000000000000'),
            successorId: CoreId.from('ATTnew00000000000000'),
            successorContent: IdentityAttribute.from({ owner: CoreAddress.from(owner), value: GivenName.from('Jane') }),
          }),
          RejectResponseItem.from({ result: ResponseItemResult.Rejected, code: 'user.declined', message: 'No e-mail' }),
          AcceptResponseItem.from({ result: ResponseItemResult.Accepted }),
        ],
      }),
    }).toJSON();
  }

  test('reads a Response produced by the real classes', () => {
    const json = appResponseJson();
    expect(json.response['@type']).toBeUndefined(); // what the App really sends
    const summary = parseRelationshipCreationContent(json, { request: fullTemplate().onNewRelationship, peerAddress: APP });
    expect(summary.problems).toEqual([]);
    expect(summary.raw).toBe(json);
    expect(summary).toMatchObject({
      type: 'RelationshipCreationContent',
      accepted: true,
      requestId,
      displayName: 'Jane Doe',
      attributes: { DisplayName: 'Jane Doe', GivenName: 'Jane' },
    });
    expect(summary.items.map((item) => ({ ...item, raw: undefined }))).toEqual([
      { type: 'AttributeAlreadySharedAcceptResponseItem', result: 'Accepted', path: [0], requestItemType: 'ShareAttributeRequestItem', attributeId: 'ATTshared00000000000' },
      {
        type: 'ReadAttributeAcceptResponseItem',
        result: 'Accepted',
        path: [1],
        requestItemType: 'ReadAttributeRequestItem',
        attributeId: 'ATTjane0000000000000',
        attribute: { kind: 'IdentityAttribute', type: 'DisplayName', value: 'Jane Doe', owner: APP },
      },
      {
        type: 'AttributeSuccessionAcceptResponseItem',
        result: 'Accepted',
        path: [2],
        requestItemType: 'ReadAttributeRequestItem',
        attributeId: 'ATTnew00000000000000',
        predecessorId: 'ATTold00000000000000',
        attribute: { kind: 'IdentityAttribute', type: 'GivenName', value: 'Jane', owner: APP },
      },
      { type: 'RejectResponseItem', result: 'Rejected', path: [3], requestItemType: 'ReadAttributeRequestItem', code: 'user.declined', message: 'No e-mail' },
      { type: 'AcceptResponseItem', result: 'Accepted', path: [4], requestItemType: 'ConsentRequestItem' },
    ]);
  });

  test('reads groups and errors, and complex attribute values', () => {
    const json = RelationshipCreationContent.from({
      response: Response.from({
        result: ResponseResult.Accepted,
        requestId: CoreId.from(requestId),
        items: [
          ResponseItemGroup.from({
            items: [
              ErrorResponseItem.from({ result: ResponseItemResult.Failed, code: 'error.consumption.x', message: 'went wrong' }),
              ReadAttributeAcceptResponseItem.from({
                result: ResponseItemResult.Accepted,
                attributeId: CoreId.from('ATTaddr0000000000000'),
                attribute: IdentityAttribute.from({
                  owner: CoreAddress.from(APP),
                  value: { '@type': 'StreetAddress', recipient: 'Jane', street: 'Main St', houseNo: '1', zipCode: '12345', city: 'Town', country: 'DE' } as any,
                }),
              }),
            ],
          }),
        ],
      }),
    }).toJSON();
    const summary = parseRelationshipCreationContent(json);
    expect(summary.problems).toEqual([]);
    expect(summary.items[0]).toMatchObject({ type: 'ErrorResponseItem', result: 'Error', path: [0, 0], code: 'error.consumption.x', message: 'went wrong' });
    expect(summary.items[1].attribute).toEqual({
      kind: 'IdentityAttribute',
      type: 'StreetAddress',
      owner: APP,
      value: { recipient: 'Jane', street: 'Main St', houseNo: '1', zipCode: '12345', city: 'Town', country: 'DE' },
    });
    expect(summary.displayName).toBeUndefined();
  });

  test('a rejected response and an arbitrary creation content', () => {
    const rejected = { '@type': 'RelationshipCreationContent', response: { result: 'Rejected', requestId, items: [{ '@type': 'RejectResponseItem', result: 'Rejected' }] } };
    expect(parseRelationshipCreationContent(rejected)).toMatchObject({ accepted: false, problems: [] });
    const arbitrary = ArbitraryRelationshipCreationContent.from({ value: { hello: 'world' } }).toJSON();
    expect(parseRelationshipCreationContent(arbitrary)).toMatchObject({
      type: 'ArbitraryRelationshipCreationContent',
      accepted: undefined,
      value: { hello: 'world' },
      items: [],
      problems: [],
    });
  });

  test('flags attributes not owned by the peer and answers that do not fit the request', () => {
    const summary = parseRelationshipCreationContent(appResponseJson(OTHER), { peerAddress: APP, request: { items: [consent()] } });
    expect(summary.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/not by the peer/), expect.stringMatching(/answers 5 items, but the request has 1/)]),
    );
    expect(summary.displayName).toBeUndefined();
    function consent() {
      return { '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'x' };
    }
  });

  test.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['a number', 42, /not a JSON object/],
    ['a list', [], /not a JSON object/],
    ['no @type', {}, /Unknown creation content type/],
    ['another @type', { '@type': 'Mail' }, /Unknown creation content type/],
    ['no response', { '@type': 'RelationshipCreationContent' }, /has no Response/],
    ['response not an object', { '@type': 'RelationshipCreationContent', response: 'yes' }, /has no Response/],
    ['bad result', { '@type': 'RelationshipCreationContent', response: { result: 'Maybe', requestId, items: [] } }, /neither "Accepted" nor "Rejected"/],
    ['no requestId', { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', items: [] } }, /no requestId/],
    ['items not a list', { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: {} } }, /no list of items/],
    ['accepted without items', { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [] } }, /at least one item/],
    ['arbitrary without value', { '@type': 'ArbitraryRelationshipCreationContent' }, /has no value/],
    [
      'odd items',
      { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [null, 'x', {}, { '@type': 'AcceptResponseItem', result: 'Bogus' }] } },
      /not an object/,
    ],
    [
      'read answer without attribute',
      { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [{ '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted' }] } },
      /has no attribute/,
    ],
    [
      'unreadable attribute',
      { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [{ '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted', attributeId: 'A', attribute: 'Jane' }] } },
      /could not be read/,
    ],
    [
      'group without items',
      { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [{ '@type': 'ResponseItemGroup' }] } },
      /group without items/,
    ],
  ])('does not throw on %s', (_name, json, problem) => {
    const summary = parseRelationshipCreationContent(json);
    expect(summary.raw).toBe(json);
    expect(summary.problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  test('keeps what it can read among odd items', () => {
    const json = { '@type': 'RelationshipCreationContent', response: { result: 'Accepted', requestId, items: [null, { '@type': 'AcceptResponseItem', result: 'Failed' }, { result: 'Accepted' }] } };
    const summary = parseRelationshipCreationContent(json);
    expect(summary.items.map((i) => [i.type, i.result])).toEqual([
      ['unknown', 'Unknown'],
      ['AcceptResponseItem', 'Error'],
      ['unknown', 'Accepted'],
    ]);
    expect(summary.items[0].raw).toBeNull();
  });

  test('survives hostile and random input', () => {
    const hostile = { '@type': 'RelationshipCreationContent', get response() { throw new Error('boom'); } };
    expect(parseRelationshipCreationContent(hostile).problems).toEqual([expect.stringMatching(/could not be read: boom/)]);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.2) return [null, 1, 'Accepted', true, undefined, 'ResponseItemGroup', 'Response'][Math.floor(rnd() * 7)];
      if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 4) }, () => values(depth + 1));
      const keys = ['@type', 'response', 'result', 'requestId', 'items', 'attribute', 'value', 'owner', 'attributeId'];
      return Object.fromEntries(keys.filter(() => rnd() < 0.5).map((k) => [k, values(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const input = { '@type': rnd() < 0.8 ? 'RelationshipCreationContent' : 'ArbitraryRelationshipCreationContent', response: values(0) };
      expect(() => parseRelationshipCreationContent(input, { request: values(0), peerAddress: APP })).not.toThrow();
    }
  });
});

describe('buildAcceptResponse (we answer someone else’s App-style template)', () => {
  /** A template as an organisation's Connector would have created it, via the real classes. */
  function peerTemplateJson(): any {
    return RelationshipTemplateContent.from({
      title: 'Onboarding at Peer Corp',
      onNewRelationship: Request.from({
        expiresAt: CoreDate.from(FUTURE),
        items: [
          ShareAttributeRequestItem.from({
            mustBeAccepted: true,
            attributeId: CoreId.from('ATTpeer0000000000000'),
            attribute: IdentityAttribute.from({ owner: CoreAddress.from(OTHER), value: DisplayName.from('Peer Corp') }),
          }),
          ReadAttributeRequestItem.from({ mustBeAccepted: true, query: IdentityAttributeQuery.from({ valueType: 'DisplayName' }) }),
          ConsentRequestItem.from({ mustBeAccepted: true, consent: 'We process your data.' }),
          FormFieldRequestItem.from({ mustBeAccepted: false, title: 'Your shoe size', settings: { '@type': 'IntegerFormFieldSettings' } as any }),
          RequestItemGroup.from({
            title: 'Extras',
            items: [
              AuthenticationRequestItem.from({ mustBeAccepted: true, title: 'Log in' }),
              ReadAttributeRequestItem.from({
                mustBeAccepted: false,
                query: RelationshipAttributeQuery.from({
                  key: 'customerNo',
                  owner: CoreAddress.from(''),
                  attributeCreationHints: { title: 'Customer number', valueType: 'ProprietaryString', confidentiality: RelationshipAttributeConfidentiality.Protected },
                }),
              }),
            ],
          }),
        ],
      }),
      onExistingRelationship: Request.from({ items: [ConsentRequestItem.from({ mustBeAccepted: true, consent: 'Again' })] }),
    }).toJSON();
  }

  const options = { ownAddress: ORG, attributes: { DisplayName: 'ACME Automation' }, now: NOW };

  test('answers every item, in order, and the real classes accept the answer', () => {
    const result = buildAcceptResponse(peerTemplateJson(), options);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const response = result.response!;
    expect(response.requestId).toMatch(/^REQ[A-Za-z0-9]{17}$/);
    const readItem = response.items[1] as any;
    expect(readItem.attributeId).toMatch(/^ATT[A-Za-z0-9]{17}$/);
    expect(result.content).toEqual({
      '@type': 'RelationshipCreationContent',
      response: {
        '@type': 'Response',
        result: 'Accepted',
        requestId: response.requestId,
        items: [
          { '@type': 'AcceptResponseItem', result: 'Accepted' },
          {
            '@type': 'ReadAttributeAcceptResponseItem',
            result: 'Accepted',
            attributeId: readItem.attributeId,
            attribute: { '@type': 'IdentityAttribute', owner: ORG, value: { '@type': 'DisplayName', value: 'ACME Automation' } },
          },
          { '@type': 'AcceptResponseItem', result: 'Accepted' },
          { '@type': 'RejectResponseItem', result: 'Rejected', message: expect.stringMatching(/automated/) },
          {
            '@type': 'ResponseItemGroup',
            items: [
              { '@type': 'AcceptResponseItem', result: 'Accepted' },
              { '@type': 'RejectResponseItem', result: 'Rejected', message: expect.stringMatching(/automated/) },
            ],
          },
        ],
      },
    });
    expect(result.decisions.map((d) => [d.path, d.type, d.decision])).toEqual([
      [[0], 'ShareAttributeRequestItem', 'accept'],
      [[1], 'ReadAttributeRequestItem', 'accept'],
      [[2], 'ConsentRequestItem', 'accept'],
      [[3], 'FormFieldRequestItem', 'reject'],
      [[4, 0], 'AuthenticationRequestItem', 'accept'],
      [[4, 1], 'ReadAttributeRequestItem', 'reject'],
    ]);
    expect(result.decisions[0].received?.attribute).toMatchObject({ owner: OTHER, value: { value: 'Peer Corp' } });
    expect(result.decisions[2].consent).toBe('We process your data.');

    const { instance, json } = viaClasses(result.content);
    expect(instance).toBeInstanceOf(RelationshipCreationContent);
    expect(RelationshipCreationContent.from(result.content as any).response).toBeInstanceOf(Response);
    expect((instance as RelationshipCreationContent).response.items[1]).toBeInstanceOf(ReadAttributeAcceptResponseItem);
    expect((instance as RelationshipCreationContent).response.items[4]).toBeInstanceOf(ResponseItemGroup);
    expect(sorted(json)).toEqual(sorted(withoutFixedNestedTypes(result.content)));
  });

  test("the runtime's decide rules hold (mustBeAccepted items accepted, structure mirrors the Request)", () => {
    const template = peerTemplateJson();
    const result = buildAcceptResponse(template, options);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const response = result.response!;
    const toDecision = (item: any): any =>
      item['@type'] === 'ResponseItemGroup' ? { items: item.items.map(toDecision) } : { accept: item.result === 'Accepted' };
    const params = { requestId: response.requestId, accept: true, items: response.items.map(toDecision) };
    const localRequest = LocalRequest.from({
      id: CoreId.from(response.requestId),
      isOwn: false,
      peer: CoreAddress.from(OTHER),
      createdAt: CoreDate.utc(),
      content: Request.from(template.onNewRelationship),
      status: LocalRequestStatus.DecisionRequired,
      statusLog: [],
    });
    const validator = new DecideRequestParametersValidator();
    expect(validator.validateRequest(params as any, localRequest).isSuccess()).toBe(true);
    expect(validator.validateItems(params as any, localRequest).isSuccess()).toBe(true);
  });

  test('the answers are what the runtime itself would produce / accept', async () => {
    const template = peerTemplateJson();
    const result = buildAcceptResponse(template, options);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const request = Request.from(template.onNewRelationship);
    // Consent: the runtime's processor answers with a plain AcceptResponseItem, as we do.
    const generic = new GenericRequestItemProcessor(consumptionStub(ORG));
    const consentAnswer = await generic.accept(request.items[2] as ConsentRequestItem, { accept: true }, {} as any);
    expect(consentAnswer.toJSON()).toEqual(result.response!.items[2]);
    // Our attribute matches the query the way the runtime checks it (owner = us, value type as queried).
    const readAnswer = ReadAttributeAcceptResponseItem.from(result.response!.items[1] as any);
    const query = (request.items[1] as ReadAttributeRequestItem).query;
    expect(validateAttributeMatchesWithQuery(query, readAnswer.attribute, CoreAddress.from(ORG), CoreAddress.from(OTHER)).isSuccess()).toBe(true);
    expect(validateCharacters(readAnswer.attribute as IdentityAttribute)).toBe(true);
    // The peer accepts our answer to the share: it is a plain accept.
    expect(Serializable.fromUnknown(result.response!.items[0])).toBeInstanceOf(AcceptResponseItem);
  });

  test('our parser reads our own answer', () => {
    const template = peerTemplateJson();
    const result = buildAcceptResponse(template, options);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const summary = parseRelationshipCreationContent(result.content, { request: template.onNewRelationship, peerAddress: ORG });
    expect(summary.problems).toEqual([]);
    expect(summary).toMatchObject({ type: 'RelationshipCreationContent', accepted: true, displayName: 'ACME Automation' });
    expect(summary.items.map((i) => i.result)).toEqual(['Accepted', 'Accepted', 'Accepted', 'Rejected', 'Accepted', 'Rejected']);
  });

  test('cannot accept when a required item cannot be answered', () => {
    const result = buildAcceptResponse(peerTemplateJson(), { ownAddress: ORG, now: NOW });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.stringMatching(/items\[1\] \(ReadAttributeRequestItem\) must be accepted, but no DisplayName was given/)]);
    expect(result.decisions.find((d) => d.decision === 'impossible')?.path).toEqual([1]);
    // a forbidden character in our own attribute is caught before the peer's runtime refuses it
    const emoji = buildAcceptResponse(peerTemplateJson(), { ...options, attributes: { DisplayName: 'ACME 🤖' } });
    expect(emoji.ok).toBe(false);
    expect(!emoji.ok && emoji.problems[0]).toMatch(/U\+1F916/);
    // without our address we cannot own the attribute we send
    const noAddress = buildAcceptResponse(peerTemplateJson(), { attributes: { DisplayName: 'ACME' }, now: NOW });
    expect(!noAddress.ok && noAddress.problems[0]).toMatch(/ownAddress/);
  });

  test('request id: the Request’s own, else the given one; expiry is respected', () => {
    const request = { '@type': 'Request', id: 'REQfixed000000000000', items: [{ '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'x' }] };
    const own = buildAcceptResponse(request, { requestId: 'REQother000000000000' });
    expect(own.ok && own.response!.requestId).toBe('REQfixed000000000000');
    const given = buildAcceptResponse({ ...request, id: undefined }, { requestId: 'REQother000000000000' });
    expect(given.ok && given.response!.requestId).toBe('REQother000000000000');
    const bad = buildAcceptResponse({ ...request, id: undefined }, { requestId: 'nope' });
    expect(!bad.ok && bad.problems[0]).toMatch(/not a request id/);
    const expired = buildAcceptResponse({ ...request, expiresAt: '2025-01-01T00:00:00.000Z' }, { now: NOW });
    expect(!expired.ok && expired.problems[0]).toMatch(/expired/);
  });

  test('onExistingRelationship, arbitrary templates, newer item types', () => {
    const existing = buildAcceptResponse(peerTemplateJson(), { existingRelationship: true });
    expect(existing.ok && existing.response!.items).toEqual([{ '@type': 'AcceptResponseItem', result: 'Accepted' }]);
    const noExisting = buildAcceptResponse(buildRelationshipTemplateContent({ title: 't', consent: 'x' }), { existingRelationship: true });
    expect(!noExisting.ok && noExisting.problems[0]).toMatch(/no Request for an existing relationship/);

    const arbitrary = buildAcceptResponse(ArbitraryRelationshipTemplateContent.from({ value: 1 }).toJSON());
    expect(arbitrary.ok && arbitrary.content).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: {} });
    expect(viaClasses(arbitrary.ok && arbitrary.content).instance).toBeInstanceOf(ArbitraryRelationshipCreationContent);

    const newer = { '@type': 'Request', items: [{ '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: false, credentialOfferUrl: 'x' }, { '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'x' }] };
    const answered = buildAcceptResponse(newer);
    expect(answered.ok && answered.response!.items.map((i) => i['@type'])).toEqual(['RejectResponseItem', 'AcceptResponseItem']);
    const mandatory = buildAcceptResponse({ ...newer, items: [{ ...newer.items[0], mustBeAccepted: true }] });
    expect(!mandatory.ok && mandatory.problems[0]).toMatch(/ShareCredentialOfferRequestItem cannot be answered automatically/);
  });

  test('never throws on malformed input', () => {
    for (const input of [undefined, null, 1, 'x', [], {}, { '@type': 'RelationshipTemplateContent' }, { '@type': 'Request', items: [] }, { items: [{ '@type': 'ConsentRequestItem' }] }]) {
      const result = buildAcceptResponse(input);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems.length).toBeGreaterThan(0);
    }
  });
});

describe('buildRelationshipCreationContent / buildArbitraryRelationshipCreationContent', () => {
  test('wrap a Response the classes accept', () => {
    const response: ResponseJson = { '@type': 'Response', result: 'Accepted', requestId: 'REQabcdefghijklmnopq', items: [{ '@type': 'AcceptResponseItem', result: 'Accepted' }] };
    const content = buildRelationshipCreationContent(response);
    expect(content).toEqual({ '@type': 'RelationshipCreationContent', response });
    expect(viaClasses(content).instance).toBeInstanceOf(RelationshipCreationContent);
    expect(viaClasses(buildArbitraryRelationshipCreationContent({ a: 1 })).json).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: { a: 1 } });
    expect(buildArbitraryRelationshipCreationContent()).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: {} });
  });

  test('refuse what the classes refuse', () => {
    const bad: any[] = [
      { '@type': 'Response', result: 'Accepted', requestId: 'REQabcdefghijklmnopq', items: [] },
      { '@type': 'Response', result: 'Accepted', items: [{ '@type': 'AcceptResponseItem', result: 'Accepted' }] },
      { '@type': 'Response', result: 'Fine', requestId: 'REQabcdefghijklmnopq', items: [{ '@type': 'AcceptResponseItem', result: 'Accepted' }] },
    ];
    for (const response of bad) {
      expect(() => buildRelationshipCreationContent(response)).toThrow(AppContentError);
    }
    expect(() => Serializable.fromUnknown({ '@type': 'RelationshipCreationContent', response: bad[0] })).toThrow();
    expect(() => Serializable.fromUnknown({ '@type': 'RelationshipCreationContent', response: bad[1] })).toThrow();
  });
});
