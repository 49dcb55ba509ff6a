/** Enmeshed node, resource Relationship Template: create (App content or JSON) / get / load. */
import { RelationshipTemplateContent } from '@nmshd/content';
import { NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import qrcode from 'qrcode-generator';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { deriveAddress, generateSignatureKeypair } from '../../lib/crypto';
import { loadTemplate, type Participant } from '../../lib/protocol';
import { validateTemplateContent } from '../../lib/protocol';
import { newParticipant } from '../helpers/participants';
import { binaryBuffer } from './context';
import { decodeGrayPng, nodeIdentity, runNode, runNodeError, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let visitor: NodeIdentity;
let peer: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, visitor, peer] = await Promise.all([nodeIdentity(platform.baseUrl), nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
});
afterAll(() => platform?.close());

const create = (parameters: INodeParameters, identity = org) =>
  runNode({ credentials: identity.credential, parameters: { resource: 'relationshipTemplate', operation: 'create', ...parameters } });
const createError = (parameters: INodeParameters) =>
  runNodeError({ credentials: org.credential, parameters: { resource: 'relationshipTemplate', operation: 'create', ...parameters } });
const appTemplate = { title: 'Patientenportal der Beispielklinik', shareDisplayName: 'Beispielklinik', consent: 'Ich bin einverstanden, dass …', requestDisplayName: true };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'no error',
    (error: { code?: string }) => error.code ?? String(error),
  );
}

test('create for the App: title, our display name, consent, their display name; reference, link, token and a PNG QR code of the token link', async () => {
  const [out] = await create(appTemplate);
  expect(out.pairedItem).toEqual({ item: 0 });
  const json = out.json;
  expect(json).toMatchObject({
    id: expect.stringMatching(/^RLT[A-Za-z0-9]{17}$/),
    maxNumberOfAllocations: 1,
    truncatedReference: expect.any(String),
    url: expect.stringMatching(new RegExp(`^${platform.baseUrl}/r/${json.id as string}`)),
    token: { id: expect.stringMatching(/^TOK/), truncatedReference: expect.any(String), url: expect.stringMatching(/\/r\/TOK/) },
  });
  const expiry = Date.parse(json.expiresAt as string) - Date.now();
  expect(expiry).toBeGreaterThan(6.9 * 86_400_000);
  expect(expiry).toBeLessThan(7.1 * 86_400_000);

  // the content: what the App shows and asks
  const content = json.content as IDataObject;
  const request = content.onNewRelationship as { items: IDataObject[]; expiresAt?: string };
  expect(content).toMatchObject({ '@type': 'RelationshipTemplateContent', title: appTemplate.title });
  expect(request.items.map((i) => i['@type'])).toEqual(['ShareAttributeRequestItem', 'ReadAttributeRequestItem', 'ConsentRequestItem']);
  expect(request.items[0]).toMatchObject({ mustBeAccepted: true, attribute: { '@type': 'IdentityAttribute', owner: org.address, value: { '@type': 'DisplayName', value: 'Beispielklinik' } } });
  expect(request.items[1]).toMatchObject({ mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } });
  expect(request.items[2]).toMatchObject({ mustBeAccepted: true, consent: appTemplate.consent });
  expect(request.expiresAt).toBe(json.expiresAt);
  expect(validateTemplateContent(content, { ownerAddress: org.address, forApp: true })).toEqual([]);
  expect(() => RelationshipTemplateContent.from(content as never)).not.toThrow(); // the App's own classes read it

  // the QR code: a PNG whose modules are the token link
  const qr = out.binary!.qrCode;
  expect(qr).toMatchObject({ mimeType: 'image/png', fileName: `${json.id as string}.png`, fileExtension: 'png' });
  const png = binaryBuffer(qr);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(qr.bytes).toBe(png.length);
  const image = decodeGrayPng(png);
  const expected = qrcode(0, 'M');
  expected.addData((json.token as IDataObject).url as string, 'Byte');
  expected.make();
  const modules = expected.getModuleCount();
  const scale = image.width / (modules + 8); // 4 modules of quiet zone on each side
  expect(image.height).toBe(image.width);
  expect(Number.isInteger(scale) && scale >= 4).toBe(true);
  for (let r = -4; r < modules + 4; r++) {
    for (let c = -4; c < modules + 4; c++) {
      const dark = r >= 0 && c >= 0 && r < modules && c < modules && expected.isDark(r, c);
      expect(image.pixel((c + 4) * scale + (scale >> 1), (r + 4) * scale + (scale >> 1))).toBe(dark ? 0 : 255);
    }
  }

  // a peer opens the link from the QR code (the token) and sees the same content, made by us
  const loaded = await loadTemplate(peer, (json.token as IDataObject).url as string);
  expect(loaded).toMatchObject({ id: json.id, createdBy: org.address });
  expect(loaded.content).toEqual(content);
  expect((await loadTemplate(peer, json.truncatedReference as string)).id).toBe(json.id);
});

test('create, JSON: a valid ArbitraryRelationshipTemplateContent is used as given; no QR code when its field is empty', async () => {
  const content = { '@type': 'ArbitraryRelationshipTemplateContent', value: { shop: 'Example', tier: 2 } };
  const [out] = await create({ contentMode: 'json', jsonContent: JSON.stringify(content), options: { qrProperty: '' } });
  expect(out.json.content).toEqual(content);
  expect(out.binary).toBeUndefined();
  expect((await loadTemplate(peer, out.json.truncatedReference as string)).content).toEqual(content);
});

test('create, JSON: invalid content is a clear error listing every problem', async () => {
  const bad = {
    '@type': 'RelationshipTemplateContent',
    title: 'T'.repeat(201),
    onNewRelationship: { '@type': 'Request', items: [{ '@type': 'ConsentRequestItem', consent: 'ok' }, { '@type': 'NoSuchRequestItem', mustBeAccepted: true }] },
  };
  const error = await createError({ contentMode: 'json', jsonContent: JSON.stringify(bad) });
  expect(error).toBeInstanceOf(NodeOperationError);
  expect(error.message).toBe('The template content is not valid');
  expect(error.context.itemIndex).toBe(0);
  const problems = (error.description ?? '').split(' • ');
  expect(problems.length).toBeGreaterThanOrEqual(3);
  expect(error.description).toMatch(/title/);
  expect(error.description).toMatch(/mustBeAccepted/);
  expect(error.description).toContain('NoSuchRequestItem');

  const unknownType = await createError({ contentMode: 'json', jsonContent: '{"@type": "Foo"}' });
  expect(unknownType.description).toContain('"@type" must be');
  const notJson = await createError({ contentMode: 'json', jsonContent: '[1, 2' });
  expect(notJson.message).toBe('Content (JSON) must be a JSON object');
  const notObject = await createError({ contentMode: 'json', jsonContent: '[1, 2]' });
  expect(notObject.message).toBe('Content (JSON) must be a JSON object');
});

test('create for the App: inputs that cannot work are clear errors', async () => {
  const nothing = await createError({ title: 'Leer', requestDisplayName: false });
  expect(nothing).toBeInstanceOf(NodeOperationError);
  expect(nothing.message).toBe('The content is not valid for enmeshed');
  expect(nothing.description).toContain('asks nothing');
  const noTitle = await createError({ title: '   ', consent: 'x' });
  expect(noTitle.description).toContain('title');
  const badForIdentity = await createError({ ...appTemplate, options: { forIdentity: 'someone' } });
  expect(badForIdentity.message).toContain('For identity');
  expect(badForIdentity.message).toContain('"someone" does not start with "did:e:"');
  const elsewhere = deriveAddress(generateSignatureKeypair().pub.pub, 'backbone.example.org');
  const otherPlatform = await createError({ ...appTemplate, options: { forIdentity: elsewhere } });
  expect(otherPlatform.message).toContain(`"For identity": "${elsewhere}" is an address on the Platform "backbone.example.org", not on this Platform "localhost"`);
});

test('create with PIN, allocations, expiry and For Identity: the peer needs the PIN; nobody else may use it', async () => {
  const [out] = await create({ ...appTemplate, options: { pin: '4711', maxNumberOfAllocations: 3, expiryDays: 2, forIdentity: peer.address } });
  expect(out.json).toMatchObject({ maxNumberOfAllocations: 3, forIdentity: peer.address });
  expect(Date.parse(out.json.expiresAt as string) - Date.now()).toBeLessThan(2.1 * 86_400_000);
  const tokenUrl = (out.json.token as IDataObject).url as string;
  expect(await codeOf(loadTemplate(peer, tokenUrl))).toBe('protocol.template.passwordRequired');
  expect((await loadTemplate(peer, tokenUrl, '4711')).id).toBe(out.json.id);
  expect(await codeOf(loadTemplate(visitor.lib, out.json.truncatedReference as string, '4711'))).toBe('protocol.template.notForYou');
});

test('get: one of our templates with its content; a template of someone else is an error', async () => {
  const [created] = await create({ title: 'Kundenportal', consent: 'AGB akzeptiert' });
  const [out] = await runNode({ credentials: org.credential, parameters: { resource: 'relationshipTemplate', operation: 'get', templateId: created.json.id as string } });
  expect(out.json).toMatchObject({ id: created.json.id, isOwn: true, createdBy: org.address, maxNumberOfAllocations: 1, content: created.json.content });
  expect(JSON.stringify(out.json)).not.toMatch(/exchangePrivate|"key"/);
  const [foreign] = await create({ title: 'Fremd', consent: 'x' }, visitor);
  const error = await runNodeError({ credentials: org.credential, parameters: { resource: 'relationshipTemplate', operation: 'get', templateId: foreign.json.id as string } });
  expect(error.message).toContain(foreign.json.id as string);
});

test('load by another identity: from the link, the truncated reference or the token (with PIN); garbage is a clear error', async () => {
  const [created] = await create({ ...appTemplate, options: { maxNumberOfAllocations: 5 } });
  const load = (reference: string, password = '') =>
    runNode({ credentials: visitor.credential, parameters: { resource: 'relationshipTemplate', operation: 'load', reference, password } });
  for (const reference of [created.json.url, created.json.truncatedReference, (created.json.token as IDataObject).truncatedReference] as string[]) {
    const [out] = await load(reference);
    expect(out.json).toMatchObject({ id: created.json.id, isOwn: false, createdBy: org.address, content: created.json.content });
  }
  const [locked] = await create({ ...appTemplate, options: { pin: '1234' } });
  const [opened] = await load((locked.json.token as IDataObject).url as string, '1234');
  expect(opened.json.id).toBe(locked.json.id);
  const noPin = await runNodeError({
    credentials: visitor.credential,
    parameters: { resource: 'relationshipTemplate', operation: 'load', reference: (locked.json.token as IDataObject).url as string },
  });
  expect(noPin.description).toContain('Enter the template password');
  const garbage = await runNodeError({ credentials: visitor.credential, parameters: { resource: 'relationshipTemplate', operation: 'load', reference: 'hello world' } });
  expect(garbage).toBeInstanceOf(NodeOperationError);
  expect(garbage.message).toContain('not a template reference');
});

// A PIN outside 4..16 digits would make a link no enmeshed client (nor our parseReference) accepts.
test('create with a PIN of fewer than 4 or more than 16 digits is refused (the option says 4 to 16)', async () => {
  for (const pin of ['12', '12345678901234567']) {
    const error = await createError({ ...appTemplate, options: { pin } });
    expect(error.message).toMatch(/PIN/);
  }
});
