/**
 * Enmeshed node v2, Token: Create for an own file or template (expiry, PIN or password, for one
 * identity), with link, truncated reference and QR code; Load of a peer's token, or of a file's or
 * template's own reference. The token contents are checked with @nmshd/transport's classes.
 */
import { SodiumWrapper } from '@nmshd/crypto';
import { TokenContentFile, TokenContentRelationshipTemplate } from '@nmshd/transport';
import type { INodeParameters } from 'n8n-workflow';
import { createTemplate, parseReference, readToken, uploadFile } from '../../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { binaryBuffer } from '../context';
import { decodeGrayPng, inOneDay, nodeIdentity, runNode, runNodeError, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: NodeIdentity;
let bob: NodeIdentity;

beforeAll(async () => {
  await SodiumWrapper.ready(); // @nmshd/crypto, for the reference classes
  platform = await startPlatform({});
  [org, alice, bob] = await Promise.all([nodeIdentity(platform.baseUrl), nodeIdentity(platform.baseUrl), nodeIdentity(platform.baseUrl)]);
});
afterAll(() => platform?.close());

const token = (who: NodeIdentity, parameters: INodeParameters) => runNode({ credentials: who.credential, version: 2, parameters: { resource: 'token', ...parameters } });
const tokenError = (who: NodeIdentity, parameters: INodeParameters) => runNodeError({ credentials: who.credential, version: 2, parameters: { resource: 'token', ...parameters } });

test('a file token with a PIN, for one identity: link, truncated reference, QR code; only that identity with the PIN opens it', async () => {
  const file = await uploadFile(org.lib, { content: Buffer.from('Befund'), filename: 'befund.pdf', mimetype: 'application/pdf', expiresAt: inOneDay() });
  const out = await token(org, { operation: 'create', shareType: 'file', fileId: file.id, options: { pin: '4711', forIdentity: alice.address, expiryDays: 2 } });
  const json = out[0].json;
  expect(json).toMatchObject({ id: expect.stringMatching(/^TOK/), type: 'file', fileId: file.id, forIdentity: alice.address, passwordProtected: true });
  expect(Math.abs(Date.parse(json.expiresAt as string) - (Date.now() + 2 * 86_400_000))).toBeLessThan(60_000);
  expect(json.url).toMatch(new RegExp(`^${platform.baseUrl}/r/${json.id as string}#`));
  const reference = parseReference(json.truncatedReference as string);
  expect(reference).toMatchObject({ id: json.id, forIdentityTruncated: alice.address.slice(-4), passwordProtection: { passwordType: 'pin4' } });
  const qr = decodeGrayPng(binaryBuffer(out[0].binary!.qrCode));
  expect(qr.width).toBeGreaterThan(50);

  // (once an identity has read a token, the Platform lets it read it again without the PIN: wrong ones first)
  expect((await tokenError(alice, { operation: 'load', reference: json.truncatedReference as string })).message).toMatch(/password-protected/);
  expect((await tokenError(alice, { operation: 'load', reference: json.truncatedReference as string, password: '0000' })).message).toMatch(/not found/);
  expect((await tokenError(bob, { operation: 'load', reference: json.truncatedReference as string, password: '4711' })).message).toMatch(/not found/);
  const opened = await token(alice, { operation: 'load', reference: json.url as string, password: '4711' });
  expect(opened[0].json).toMatchObject({ type: 'file', id: file.id, filename: 'befund.pdf', mimetype: 'application/pdf', isOwn: false });
  // what the reference client reads
  const content = await readToken(alice.lib.client, reference, '4711');
  expect(TokenContentFile.from(content as never).fileId.toString()).toBe(file.id);
});

test('a template token: the peer loads the template and can request a relationship with the token', async () => {
  const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { offer: 1 } }, expiresAt: inOneDay() });
  const out = await token(org, { operation: 'create', shareType: 'relationshipTemplate', templateId: template.id, options: { qrProperty: '' } });
  expect(out[0].binary).toBeUndefined();
  expect(out[0].json).toMatchObject({ type: 'relationshipTemplate', templateId: template.id, passwordProtected: false });
  const content = await readToken(bob.lib.client, parseReference(out[0].json.truncatedReference as string));
  expect(TokenContentRelationshipTemplate.from(content as never).templateId.toString()).toBe(template.id);

  const loaded = await token(bob, { operation: 'load', reference: out[0].json.truncatedReference as string });
  expect(loaded[0].json).toMatchObject({ type: 'relationshipTemplate', id: template.id, createdBy: org.address, content: { value: { offer: 1 } } });
  const requested = await runNode({
    credentials: bob.credential,
    version: 2,
    parameters: { resource: 'relationship', operation: 'create', reference: out[0].json.url as string, answerMode: 'json', jsonContent: '{"@type":"ArbitraryRelationshipCreationContent","value":{}}' },
  });
  expect(requested[0].json).toMatchObject({ status: 'Pending', peer: org.address, templateId: template.id });
});

test('Load takes a file\'s or template\'s own reference too', async () => {
  const file = await uploadFile(org.lib, { content: Buffer.from('x'), filename: 'x.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  expect((await token(alice, { operation: 'load', reference: file.truncatedReference }))[0].json).toMatchObject({ type: 'file', id: file.id, filename: 'x.txt' });
  const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 2 }, expiresAt: inOneDay() });
  expect((await token(alice, { operation: 'load', reference: template.url }))[0].json).toMatchObject({ type: 'relationshipTemplate', id: template.id });
  expect((await tokenError(alice, { operation: 'load', reference: 'nonsense' })).message).toBe('This is not a token, file or template reference, nor an enmeshed link');
});

test('only own files and templates get tokens; a bad PIN or address is a clear error', async () => {
  const alices = await uploadFile(alice.lib, { content: Buffer.from('a'), filename: 'a.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  expect((await tokenError(org, { operation: 'create', shareType: 'file', fileId: alices.id })).message).toMatch(/not uploaded by this identity/);
  const theirs = await createTemplate(alice.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 3 }, expiresAt: inOneDay() });
  expect((await tokenError(org, { operation: 'create', shareType: 'relationshipTemplate', templateId: theirs.id })).message).toContain(theirs.id);
  const own = await uploadFile(org.lib, { content: Buffer.from('o'), filename: 'o.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  expect((await tokenError(org, { operation: 'create', shareType: 'file', fileId: own.id, options: { pin: '12' } })).message).toBe('The PIN must have 4 to 16 digits');
  expect((await tokenError(org, { operation: 'create', shareType: 'file', fileId: own.id, options: { forIdentity: 'did:e:x' } })).message).toBe('For Identity is not an enmeshed address');
});
