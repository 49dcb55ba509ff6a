/**
 * Our OWN objects against a malicious Platform working with one of our peers (issue 11; the
 * recipient side is test/protocol/tampering.test.ts). A sees the Platform only through a rewriting
 * proxy; the colluding peers (B, C, D…) hold what A legitimately gave them — the message key of a
 * Mail A sent them, the content key of A's template, the metadata key of A's file — and forge with
 * exactly those (test/helpers/forgery.ts). Each forgery must be a typed ProtocolError naming the
 * object, never content shown as ours, and an action after a failed read must send nothing.
 */
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  EncryptionAlgorithm,
  KdfContext,
  StateType,
  cipherToJson,
  deriveKey,
  deriveTemplator,
  encrypt,
  encryptWithCounter,
  fromUtf8,
  generateExchangeKeypair,
  generateNonce,
  generateSignatureKeypair,
  jsonToBase64Url,
  parseCipher,
  parseRelationshipPublicRequest,
  relationshipPublicResponseToJson,
  sha512,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  decrypt,
} from '../../lib/crypto';
import {
  acceptRelationship,
  buildMail,
  createTemplate,
  downloadFile,
  getFile,
  getMessage,
  getRelationship,
  loadTemplate,
  openMessage,
  openParticipant,
  readOwnTemplate,
  requestRelationship,
  sendMessage,
  sync,
  uploadFile,
  type Participant,
  type ParticipantCredential,
} from '../../lib/protocol';
import { createIdentity } from '../../lib/protocol/onboarding';
import { cryptoJson, transportStringify } from '../../lib/protocol/serialize';
import { actingRequests, expectDetected, expectRewritten, forgedFile, peerMessageKey, platformPath, reseal, signatureText, withContent, type SignedMessage } from '../helpers/forgery';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';

jest.setTimeout(60_000);

let platform: PlatformHandle;
let proxy: TestProxy;
let a: Participant & { credential: ParticipantCredential };
let b: Participant;
let c: Participant;
let relAB: string;

beforeAll(async () => {
  platform = await startPlatform({});
  proxy = await startProxy(platform.baseUrl);
  [a, b, c] = await Promise.all([newParticipant(proxy.baseUrl), newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  relAB = await relate(a, b);
  await relate(a, c);
});
afterEach(() => proxy.clear());
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

const { message: messagePath, template: templatePath, relationship: relationshipPath, fileMetadata: metadataPath, fileBlob: blobPath } = platformPath;

/** A's participant without anything cached in this process (keys, datawallet view): a fresh worker. */
const freshA = () => openParticipant(a.credential, { shared: false });

/** Runs `act` and asserts that it sent nothing that acts on the Platform. */
async function nothingSent<T>(act: () => Promise<T>): Promise<T> {
  const since = proxy.log.length;
  try {
    return await act();
  } finally {
    expect(actingRequests(proxy, since)).toEqual([]);
  }
}

const forgedMail = (to: string) => buildMail({ to: [to], subject: 'Bank details changed', body: 'Pay to IBAN XX00 0000' });

describe('a Mail we sent, re-encrypted under its message key (which the recipient holds)', () => {
  let id: string;
  let signed: () => Promise<{ key: Parameters<typeof reseal>[1]; body: string }>;

  beforeAll(async () => {
    id = (await sendMessage(a, { recipients: [b.address], content: buildMail({ to: [b.address], subject: 'Invoice 17', body: 'Please pay 100 EUR' }) })).id;
    signed = async () => {
      const dto = await b.client.getMessage(id); // the peer's own copy
      return { key: await peerMessageKey(b, relAB, dto), body: dto.body };
    };
  });

  afterEach(async () => {
    // No poisoned cache: untampered, A reads its own Mail as sent.
    proxy.clear();
    expect((await getMessage(a, id)).content).toMatchObject({ subject: 'Invoice 17' });
  });

  const serve = (body: string) => proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.body = body));

  test('another subject and body under our original signature: signatureInvalid, nothing sent', async () => {
    const { key, body } = await signed();
    serve(reseal<SignedMessage>(body, key, (s) => withContent(s, forgedMail(b.address) as unknown as Record<string, unknown>)));
    await nothingSent(() => expectDetected(getMessage(a, id), 'protocol.message.signatureInvalid', id));
    expectRewritten(proxy, messagePath(id));
  });

  test("another content signed with the peer's own relationship key: signatureInvalid", async () => {
    const { key, body } = await signed();
    const peerKey = (await getRelationship(b, relAB)).keys!.ownSignature.prv;
    serve(
      reseal<SignedMessage>(body, key, (s) => {
        const forged = withContent(s, forgedMail(b.address) as unknown as Record<string, unknown>);
        return { ...forged, signatures: [{ recipient: b.address, signature: signatureText(forged.message, peerKey) }] };
      }),
    );
    await expectDetected(getMessage(a, id), 'protocol.message.signatureInvalid', id);
  });

  test('the signatures removed: signatureInvalid', async () => {
    const { key, body } = await signed();
    serve(reseal<SignedMessage>(body, key, (s) => ({ ...s, signatures: [] })));
    await expectDetected(getMessage(a, id), 'protocol.message.signatureInvalid', id);
  });

  test('the body of a message we sent to another peer (validly ours, other recipients): signatureInvalid', async () => {
    const toC = await sendMessage(a, { recipients: [c.address], content: forgedMail(c.address) });
    serve((await c.client.getMessage(toC.id)).body);
    await expectDetected(getMessage(a, id), 'protocol.message.signatureInvalid', id);
  });

  test('also when opened from the message list (Get Many)', async () => {
    const { key, body } = await signed();
    const forged = reseal<SignedMessage>(body, key, (s) => withContent(s, forgedMail(b.address) as unknown as Record<string, unknown>));
    proxy.rewriteJson('GET', platformPath.messages, (json) => {
      for (const m of json.result as { id: string; body: string }[]) if (m.id === id) m.body = forged;
    });
    const [listed] = await a.client.all(a.client.messages([id]));
    await expectDetected(openMessage(a, listed), 'protocol.message.signatureInvalid', id);
  });
});

describe('our template, re-encrypted under its content key (which everyone who scanned the QR code holds)', () => {
  let id: string;
  let reference: string;
  let key: Parameters<typeof reseal>[1];
  const title = (value: string) => ({ '@type': 'ArbitraryRelationshipTemplateContent', value: { title: value } });

  beforeAll(async () => {
    const template = await createTemplate(a, { content: title('Newsletter'), expiresAt: inOneDay() });
    id = template.id;
    reference = template.truncatedReference;
    key = (await loadTemplate(b, reference)).key; // the peer scanned the QR code
  });

  afterEach(async () => {
    proxy.clear();
    expect((await readOwnTemplate(a, id)).content).toEqual(title('Newsletter'));
  });

  /** The Platform serves the template with `edit` applied to the signed template JSON (and `createdBy` if given). */
  const serve = async (edit: (signed: Record<string, unknown>) => Record<string, unknown>, createdBy?: string) => {
    const forged = reseal<Record<string, unknown>>((await b.client.getTemplate(id)).content, key, edit);
    proxy.rewriteJson('GET', templatePath(id), (json) => {
      json.result.content = forged;
      if (createdBy) json.result.createdBy = createdBy;
    });
  };
  const wrapperWith = (signed: Record<string, unknown>, change: Record<string, unknown>) => transportStringify({ ...(JSON.parse(signed.serializedTemplate as string) as object), ...change });

  test('another title under our original signature: Template Get and loading our own reference refuse it', async () => {
    await serve((signed) => ({ ...signed, serializedTemplate: wrapperWith(signed, { content: title('Account closed') }) }));
    await nothingSent(() => expectDetected(readOwnTemplate(a, id), 'protocol.template.invalid', id));
    await expectDetected(loadTemplate(a, reference), 'protocol.template.invalid', id);
    expectRewritten(proxy, templatePath(id));
  });

  /** The template with another title, signed by the peer's identity key under the identity `address`. */
  const signedByPeer = (address: string) => (signed: Record<string, unknown>) => {
    const wrapper = JSON.parse(signed.serializedTemplate as string) as Record<string, unknown>;
    const identity = { address, publicKey: { pub: toBase64Url(b.identity.keys.identity.pub.pub), alg: 1 } };
    const serializedTemplate = transportStringify({ ...wrapper, content: title('Account closed'), identity });
    return { ...signed, serializedTemplate, deviceSignature: signatureToJson(sign(utf8(serializedTemplate), b.identity.keys.identity.prv), false) };
  };

  test("another title signed by the peer's identity key in our name", async () => {
    await serve(signedByPeer(a.address));
    await expectDetected(readOwnTemplate(a, id), 'protocol.template.invalid', id);
    await expectDetected(loadTemplate(a, reference), 'protocol.template.invalid', id);
  });

  test('the peer signing as itself, the Platform naming the peer as creator', async () => {
    await serve(signedByPeer(b.address), b.address);
    await expectDetected(readOwnTemplate(a, id), 'protocol.template.invalid', id);
  });
});

describe('our file, other metadata under its metadata key (which everyone we shared it with holds)', () => {
  const original = randomBytes(5000);
  let id: string;
  let key: Parameters<typeof reseal>[1];

  beforeAll(async () => {
    const file = await uploadFile(a, { content: original, filename: 'contract.pdf', mimetype: 'application/pdf', expiresAt: inOneDay() });
    id = file.id;
    const sent = await sendMessage(a, { recipients: [b.address], content: { '@type': 'ArbitraryMessageContent', value: 'the contract' }, attachments: [file.reference] });
    key = (await getMessage(b, sent.id)).attachments[0].key; // the peer's reference
  });

  afterEach(async () => {
    proxy.clear();
    expect((await downloadFile(a, id)).content.equals(original)).toBe(true);
  });

  const serve = async (change: { encryptedProperties: string; blob?: Buffer; cipherHash?: string; ownerSignature?: string }) => {
    proxy.rewriteJson('GET', metadataPath(id), (json) => {
      json.result.encryptedProperties = change.encryptedProperties;
      if (change.cipherHash) json.result.cipherHash = change.cipherHash;
      if (change.ownerSignature) json.result.ownerSignature = change.ownerSignature;
    });
    if (change.blob) proxy.rewrite('GET', blobPath(id), () => change.blob);
  };
  const encryptedProperties = async () => (await b.client.getFileMetadata(id)).encryptedProperties!;

  test('other bytes (new content key and hash) under our owner signature: File Download and File Get by id refuse it', async () => {
    await serve(forgedFile(await encryptedProperties(), key, Buffer.from('forged contract'), 'contract.pdf'));
    await nothingSent(() => expectDetected(downloadFile(a, id), 'protocol.file.signatureInvalid', id));
    await expectDetected(getFile(a, id), 'protocol.file.signatureInvalid', id);
    expectRewritten(proxy, metadataPath(id));
  });

  test("other bytes with the peer's device signature over their hash", async () => {
    const bytes = Buffer.from('forged contract');
    const ownerSignature = toBase64(signatureToJson(sign(sha512(bytes), b.identity.keys.device.prv)));
    await serve({ ...forgedFile(await encryptedProperties(), key, bytes, 'contract.pdf'), ownerSignature });
    await expectDetected(downloadFile(a, id), 'protocol.file.signatureInvalid', id);
  });

  test('the same bytes under another name (hash and owner signature kept): refused (the metadata nonce is ours)', async () => {
    await serve({ encryptedProperties: reseal<Record<string, unknown>>(await encryptedProperties(), key, (m) => ({ ...m, filename: 'payment-details.pdf' })) });
    await expectDetected(getFile(a, id), 'protocol.file.signatureInvalid', id);
    await expectDetected(downloadFile(a, id), 'protocol.file.signatureInvalid', id);
  });
});

describe('accepting a request verifies it first: one that fails is never accepted, nothing is sent', () => {
  async function request(): Promise<{ id: string; templateId: string; requestor: Participant; templateKey: Parameters<typeof reseal>[1] }> {
    const requestor = await newParticipant(platform.baseUrl);
    const template = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'offer' }, expiresAt: inOneDay() });
    const loaded = await loadTemplate(requestor, template.truncatedReference);
    const created = await requestRelationship(requestor, loaded, { '@type': 'ArbitraryRelationshipCreationContent', value: 'request' });
    await sync(a);
    return { id: created.id, templateId: template.id, requestor, templateKey: loaded.key };
  }
  const stillPending = async (id: string, requestor: Participant) => expect((await requestor.client.getRelationship(id)).status).toBe('Pending');

  test('a changed byte of the request cipher: relationship.invalid; no PUT Accept, no datawallet push', async () => {
    const r = await request();
    proxy.rewriteJson('GET', relationshipPath(r.id), (json) => {
      const outer = JSON.parse(Buffer.from(json.result.creationContent, 'base64url').toString('utf8')) as { cipher: { cph: string } };
      const cph = Buffer.from(outer.cipher.cph, 'base64url');
      cph[cph.length >> 1] ^= 1;
      outer.cipher.cph = cph.toString('base64url');
      json.result.creationContent = jsonToBase64Url(JSON.stringify(outer));
    });
    await nothingSent(() => expectDetected(acceptRelationship(a, r.id), 'protocol.relationship.invalid', r.id));
    await stillPending(r.id, r.requestor);
    proxy.clear();
    expect((await acceptRelationship(a, r.id)).status).toBe('Active'); // the real request is fine
  });

  test('our template replaced under its key by the requestor (who holds it): template.invalid; not accepted', async () => {
    const r = await request();
    const forged = reseal<Record<string, unknown>>((await r.requestor.client.getTemplate(r.templateId)).content, r.templateKey, (signed) => ({
      ...signed,
      serializedTemplate: transportStringify({ ...(JSON.parse(signed.serializedTemplate as string) as object), content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'other offer' } }),
    }));
    proxy.rewriteJson('GET', templatePath(r.templateId), (json) => void (json.result.content = forged));
    await nothingSent(() => expectDetected(acceptRelationship(a, r.id), 'protocol.template.invalid', r.templateId));
    await stillPending(r.id, r.requestor);
  });

  test('our template gone (the Platform says 404): the request cannot be verified, so it is not accepted', async () => {
    const r = await request();
    proxy.rewrite('GET', templatePath(r.templateId), (response) => ({
      ...response,
      status: 404,
      body: Buffer.from(JSON.stringify({ error: { id: 'ERR', code: 'error.platform.recordNotFound', message: 'not found', docs: '', time: new Date().toISOString() } })),
    }));
    const error = await nothingSent(() => expectDetected(acceptRelationship(a, r.id), 'protocol.relationship.invalid', r.id));
    expect(error.message).toMatch(/cannot be verified/);
    await stillPending(r.id, r.requestor);
  });
});

describe('our acceptance and our request, read back by a fresh worker', () => {
  test("an acceptance made by the peer in our name (keys of the peer's choosing): relationship.invalid", async () => {
    const dto = await b.client.getRelationship(relAB);
    const publicRequest = parseRelationshipPublicRequest(
      (JSON.parse(Buffer.from(dto.creationContent!, 'base64url').toString('utf8')) as { publicCreationContentCrypto: unknown }).publicCreationContentCrypto,
    );
    // What the peer can build: an acceptance with exchange and signature keys and a nonce of its own.
    const exchange = generateExchangeKeypair();
    const signature = generateSignatureKeypair();
    const nonce = generateNonce();
    const transmit = deriveKey(deriveTemplator(exchange, publicRequest.exc).tx, 1, KdfContext.templatorToRequestor);
    const serialized = transportStringify({ '@type': 'RelationshipCreationResponseContentWrapper', relationshipId: relAB });
    const inner = transportStringify({
      deviceSignature: cryptoJson(signatureToJson(sign(utf8(serialized), signature.prv), false)),
      relationshipSignature: cryptoJson(signatureToJson(sign(utf8(serialized), signature.prv), false)),
      serializedCreationResponseContent: serialized,
    });
    const forged = jsonToBase64Url(
      transportStringify({
        '@type': 'RelationshipCreationResponseContentCipher',
        cipher: cryptoJson(cipherToJson(encryptWithCounter(utf8(inner), transmit, nonce, 0), false)),
        publicCreationResponseContentCrypto: cryptoJson(
          relationshipPublicResponseToJson({ exc: exchange.pub, sig: signature.pub, sta: { nnc: nonce, alg: EncryptionAlgorithm.XCHACHA20_POLY1305, typ: StateType.Transmit } }, false),
        ),
      }),
    );
    proxy.rewriteJson('GET', relationshipPath(relAB), (json) => void (json.result.creationResponseContent = forged));
    const fresh = await freshA();
    await nothingSent(() => expectDetected(getRelationship(fresh, relAB), 'protocol.relationship.invalid', relAB));
  });

  test('our own request re-encrypted by the templator (who can derive its key) with other content: relationship.invalid', async () => {
    const templator = await newParticipant(platform.baseUrl);
    const template = await createTemplate(templator, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'offer' }, expiresAt: inOneDay() });
    const created = await requestRelationship(a, await loadTemplate(a, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'my answer' });
    // The templator opens our request with its template key, as it must to read it …
    const dto = await templator.client.getRelationship(created.id);
    const outer = JSON.parse(Buffer.from(dto.creationContent!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto);
    const own = await readOwnTemplate(templator, template.id);
    const requestKey = deriveKey(deriveTemplator({ pub: own.templateKey.pub, prv: { prv: own.exchangePrivate, alg: 3 } }, publicRequest.eph).rx, 1, KdfContext.requestKey);
    const signed = JSON.parse(fromUtf8(decrypt(parseCipher(outer.cipher), requestKey))) as Record<string, unknown>;
    // … and puts another answer in our name under the same key.
    const serialized = transportStringify({ ...(JSON.parse(signed.serializedCreationContent as string) as object), content: { '@type': 'ArbitraryRelationshipCreationContent', value: 'I agree to everything' } });
    const key = generateSignatureKeypair();
    const forgedInner = { ...signed, serializedCreationContent: serialized, relationshipSignature: signatureToJson(sign(utf8(serialized), key.prv), false) };
    const forged = jsonToBase64Url(JSON.stringify({ ...outer, cipher: cipherToJson(encrypt(utf8(JSON.stringify(forgedInner)), requestKey), false) }));
    proxy.rewriteJson('GET', relationshipPath(created.id), (json) => void (json.result.creationContent = forged));
    const fresh = await freshA();
    await expectDetected(getRelationship(fresh, created.id), 'protocol.relationship.invalid', created.id);
    proxy.clear();
    expect((await getRelationship(fresh, created.id)).creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: 'my answer' });
  });
});

test('a message served again under a new id, long after it was signed: replayed', async () => {
  const sent = await sendMessage(b, { recipients: [a.address], content: { '@type': 'ArbitraryMessageContent', value: 'pay once' } });
  const dto = await a.client.getMessage(sent.id);
  expect((await openMessage(a, dto)).content).toEqual({ '@type': 'ArbitraryMessageContent', value: 'pay once' });
  const again = { ...dto, id: `MSG${'r'.repeat(17)}`, createdAt: new Date(Date.parse(dto.createdAt) + 2 * 3_600_000).toISOString() };
  const error = await expectDetected(openMessage(a, again), 'protocol.message.replayed', again.id);
  expect(error.message).toContain('served again');
});

describe('an identity of record version 1 (created before the domain-separated derivation)', () => {
  let v1: Participant;
  let legacy: ParticipantCredential;
  let peer: Participant;
  const reopen = () => openParticipant(legacy, { shared: false });

  beforeAll(async () => {
    const { credential } = await createIdentity({ platformUrl: proxy.baseUrl, clientId: 'test', clientSecret: 'test' });
    legacy = { ...credential, identity: JSON.stringify({ ...(JSON.parse(credential.identity) as object), v: 1 }) };
    v1 = await openParticipant(legacy, { shared: false });
    expect(v1.own.version).toBe(1);
    peer = await newParticipant(platform.baseUrl);
    await relate(v1, peer);
  });

  test('keeps reading what it made: its relationship, sent Mail, template and file, from a fresh process', async () => {
    const template = await createTemplate(v1, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'v1' }, expiresAt: inOneDay() });
    const file = await uploadFile(v1, { content: Buffer.from('v1 file'), filename: 'v1.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
    const sent = await sendMessage(v1, { recipients: [peer.address], content: buildMail({ to: [peer.address], subject: 'v1', body: 'b' }) });
    const again = await reopen();
    expect((await getMessage(again, sent.id)).content).toMatchObject({ subject: 'v1' });
    expect((await readOwnTemplate(again, template.id)).content).toEqual({ '@type': 'ArbitraryRelationshipTemplateContent', value: 'v1' });
    expect((await downloadFile(again, file.id)).content.toString()).toBe('v1 file');
    // its datawallet (counters, registry) is still readable: a second send reserves further counters
    const second = await sendMessage(again, { recipients: [peer.address], content: buildMail({ to: [peer.address], subject: 'v1 again', body: 'b' }) });
    expect((await getMessage(peer, second.id)).content).toMatchObject({ subject: 'v1 again' });
  });

  test('its own files: other bytes are refused; a changed name alone is not detected (documented in docs/security.md)', async () => {
    const file = await uploadFile(v1, { content: Buffer.from('v1 original'), filename: 'v1.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
    const stored = await peer.client.getFileMetadata(file.id);
    const forged = forgedFile(stored.encryptedProperties!, file.reference.key, Buffer.from('v1 forged'), 'v1.txt');
    proxy.rewriteJson('GET', metadataPath(file.id), (json) => {
      json.result.encryptedProperties = forged.encryptedProperties;
      json.result.cipherHash = forged.cipherHash;
    });
    proxy.rewrite('GET', blobPath(file.id), () => forged.blob);
    await expectDetected(downloadFile(v1, file.id), 'protocol.file.signatureInvalid', file.id);
    // v1 made its files with random metadata nonces, so it cannot tell one that a key holder reused
    // from its own: a renamed file under the signed hash passes — the bytes stay proven.
    proxy.clear();
    const renamed = reseal<Record<string, unknown>>(stored.encryptedProperties!, file.reference.key, (m) => ({ ...m, filename: 'renamed.txt' }));
    proxy.rewriteJson('GET', metadataPath(file.id), (json) => void (json.result.encryptedProperties = renamed));
    const downloaded = await downloadFile(v1, file.id);
    expect({ name: downloaded.file.filename, content: downloaded.content.toString() }).toEqual({ name: 'renamed.txt', content: 'v1 original' });
  });
});

test('the file metadata nonce of a v2 identity is the PRF of its plaintext (what the name check relies on)', async () => {
  const file = await uploadFile(a, { content: Buffer.from('x'), filename: 'x.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const stored = await b.client.getFileMetadata(file.id);
  const cipher = parseCipher(stored.encryptedProperties!);
  const plaintext = decrypt(cipher, file.reference.key);
  expect(cipher.nnc).toEqual(a.own.fileMetadataNonce(plaintext));
});
