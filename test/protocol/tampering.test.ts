/**
 * A Platform (or network) that changes what it hands out: a real HTTP proxy on loopback between B's
 * client and the local Platform rewrites chosen answers. Whatever is changed — a message body, the
 * recipient's key wrap, the signature inside the body, an attachment's blob, a file's metadata — B
 * must report a typed ProtocolError naming the message or file: never garbage content, never a
 * silent skip.
 *
 * What the proxy cannot do alone (it has no keys) is crafted from the sender's side with lib/crypto:
 * A can re-open its own message bodies (the message key derives from the body nonce), so it can
 * re-encrypt a body with a changed signature, which the proxy then serves in place of the real one;
 * or A sends through the Platform a message signed with the wrong key.
 *
 * A talks to the Platform directly; B (the receiver) only through the proxy — all of B's traffic,
 * from onboarding on, goes through it (untouched unless a test registers a rewrite).
 */
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  HashAlgorithm,
  cipherToJson,
  decrypt,
  encrypt,
  encryptToCipherJson,
  encryptWithCounter,
  fromUtf8,
  generateNonce,
  generateSecretKey,
  generateSignatureKeypair,
  parseCipher,
  secretKeyToJson,
  sha512,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  type SignaturePrivateKey,
} from '../../lib/crypto';
import {
  downloadFile,
  getFile,
  getMessage,
  getRelationship,
  openMessage,
  sendMessage,
  uploadFile,
  type FileReference,
  type Participant,
} from '../../lib/protocol';
import { cryptoJson, transportStringify } from '../../lib/protocol/serialize';
import { expectDetected, expectRewritten, platformPath } from '../helpers/forgery';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';

let platform: PlatformHandle;
let proxy: TestProxy;
let a: Participant;
let b: Participant;
let c: Participant;
let relAB: string;

beforeAll(async () => {
  platform = await startPlatform({});
  proxy = await startProxy(platform.baseUrl);
  a = await newParticipant(platform.baseUrl);
  b = await newParticipant(proxy.baseUrl); // the receiver sees the Platform only through the proxy
  c = await newParticipant(platform.baseUrl);
  expect(b.address.startsWith('did:e:localhost:dids:')).toBe(true);
  relAB = await relate(a, b);
  await relate(c, b);
});

afterEach(() => proxy.clear());

afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

// --- helpers -------------------------------------------------------------------------------------

const { message: messagePath, fileBlob: blobPath, fileMetadata: metadataPath } = platformPath;

/** Decodes a base64url(JSON) crypto object, lets `edit` change it, encodes it again (key order kept). */
function editB64Json(text: string, edit: (json: Record<string, unknown>) => void): string {
  const json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(json);
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
}

type Where = 'first' | 'middle' | 'last';
function flipByte(bytes: Buffer, where: Where): Buffer {
  const out = Buffer.from(bytes);
  const i = where === 'first' ? 0 : where === 'last' ? out.length - 1 : out.length >> 1;
  out[i] ^= 0x01;
  return out;
}

/** A cipher (base64url of its JSON) with one byte of a base64url field (`cph` or `nnc`) flipped. */
function flipInCipher(text: string, where: Where, field: 'cph' | 'nnc' = 'cph'): string {
  return editB64Json(text, (json) => {
    json[field] = flipByte(Buffer.from(json[field] as string, 'base64url'), where).toString('base64url');
  });
}

let counter = 0;
async function sendFromA(attachments: FileReference[] = []): Promise<{ id: string; value: number }> {
  const value = ++counter;
  const sent = await sendMessage(a, { recipients: [b.address], content: { '@type': 'ArbitraryMessageContent', value }, attachments });
  return { id: sent.id, value };
}

/** B reads the message untampered afterwards: tampering left no trace (no poisoned cache). */
async function expectReadableLater(id: string, value: number): Promise<void> {
  proxy.clear();
  const message = await getMessage(b, id);
  expect(message.content).toEqual({ '@type': 'ArbitraryMessageContent', value });
}

interface SignedBody {
  '@type': string;
  message: string;
  signatures: { recipient: string; signature: string }[];
}

/**
 * As the sender: open A's own message (A derives the message key from the body nonce), let `edit`
 * change the signed JSON, and encrypt it again with the SAME message key (a fresh nonce), so that the
 * recipient's key wrap still opens it.
 */
async function reencryptedBody(id: string, edit: (signed: SignedBody) => void): Promise<string> {
  const dto = await a.client.getMessage(id);
  const cipher = parseCipher(dto.body, 'body');
  const key = a.own.message(cipher.nnc!);
  const signed = JSON.parse(fromUtf8(decrypt(cipher, key))) as SignedBody;
  edit(signed);
  return toBase64(cipherToJson(encrypt(utf8(JSON.stringify(signed)), key)));
}

interface Craft {
  /** The relationship signature key of A by default. */
  signWith?: SignaturePrivateKey;
  /** Recipients named inside the signed content (default: B). */
  signedRecipients?: string[];
  /** The signature list (default: one for B). */
  signatures?: (serialized: string, signature: string) => unknown[];
}

/**
 * As the sender, by hand with lib/crypto: a message to B exactly like sendMessage builds it, except
 * for what `craft` changes. Its key-wrap counter is reserved like any other (never reused).
 */
async function craftAndSend(craft: Craft = {}): Promise<{ id: string; value: number }> {
  const value = ++counter;
  const rel = await getRelationship(a, relAB);
  const keys = rel.keys!;
  const serialized = transportStringify({
    '@type': 'MessageContentWrapper',
    attachments: [],
    content: { '@type': 'ArbitraryMessageContent', value },
    createdAt: new Date().toISOString(),
    recipients: craft.signedRecipients ?? [b.address],
  });
  const signature = JSON.stringify(signatureToJson(sign(utf8(serialized), craft.signWith ?? keys.ownSignature.prv, HashAlgorithm.SHA256), false));
  const signatures = craft.signatures ? craft.signatures(serialized, signature) : [{ recipient: b.address, signature }];
  const signed = transportStringify({ '@type': 'MessageSigned', message: serialized, signatures });
  const messageKey = generateSecretKey();
  const body = toBase64(cipherToJson(encrypt(utf8(signed), messageKey)));
  const cnt = await a.counters.next(rel.id);
  const encryptedKey = toBase64(
    cipherToJson(encryptWithCounter(utf8(JSON.stringify(secretKeyToJson(messageKey, false))), keys.transmit.key, keys.transmit.baseNonce, cnt)),
  );
  const created = await a.client.sendMessage({ recipients: [{ address: b.address, encryptedKey }], body, attachments: [] });
  return { id: created.id, value };
}

// --- message body --------------------------------------------------------------------------------

describe('message body', () => {
  test.each<Where>(['first', 'middle', 'last'])('a changed byte (%s) of the body ciphertext: undecryptable', async (where) => {
    const { id, value } = await sendFromA();
    proxy.rewriteJson('GET', messagePath(id), (json) => {
      json.result.body = flipInCipher(json.result.body, where);
    });
    await expectDetected(getMessage(b, id), 'protocol.message.undecryptable', id);
    expectRewritten(proxy, messagePath(id));
    await expectReadableLater(id, value);
  });

  test('a changed byte of the body nonce: undecryptable', async () => {
    const { id } = await sendFromA();
    proxy.rewriteJson('GET', messagePath(id), (json) => {
      json.result.body = flipInCipher(json.result.body, 'middle', 'nnc');
    });
    await expectDetected(getMessage(b, id), 'protocol.message.undecryptable', id);
  });

  test('the body of another message from the same sender: undecryptable', async () => {
    const first = await sendFromA();
    const second = await sendFromA();
    const otherBody = (await a.client.getMessage(first.id)).body;
    proxy.rewriteJson('GET', messagePath(second.id), (json) => {
      json.result.body = otherBody;
    });
    await expectDetected(getMessage(b, second.id), 'protocol.message.undecryptable', second.id);
  });

  test('a body that is no cipher at all (raw base64url characters changed): undecryptable', async () => {
    const { id } = await sendFromA();
    proxy.rewriteJson('GET', messagePath(id), (json) => {
      json.result.body = `x${json.result.body.slice(1, -8)}`;
    });
    await expectDetected(getMessage(b, id), 'protocol.message.undecryptable', id);
  });

  test('also when read from the message list (openMessage on what the list returned)', async () => {
    const { id, value } = await sendFromA();
    proxy.rewriteJson('GET', /^\/api\/v2\/Messages$/, (json) => {
      for (const m of json.result as { id: string; body: string }[]) if (m.id === id) m.body = flipInCipher(m.body, 'middle');
    });
    const listed = await b.client.all(b.client.messages([id]));
    expect(listed.map((m) => m.id)).toEqual([id]);
    await expectDetected(openMessage(b, listed[0]), 'protocol.message.undecryptable', id);
    await expectReadableLater(id, value);
  });
});

// --- the recipient's key wrap --------------------------------------------------------------------

describe("the recipient's encryptedKey", () => {
  const rewriteKey = (id: string, edit: (encryptedKey: string) => string) =>
    proxy.rewriteJson('GET', messagePath(id), (json) => {
      json.result.recipients[0].encryptedKey = edit(json.result.recipients[0].encryptedKey);
    });

  test.each<Where>(['first', 'middle', 'last'])('a changed byte (%s) of the wrapped key: undecryptable', async (where) => {
    const { id, value } = await sendFromA();
    rewriteKey(id, (k) => flipInCipher(k, where));
    await expectDetected(getMessage(b, id), 'protocol.message.undecryptable', id);
    expectRewritten(proxy, messagePath(id));
    await expectReadableLater(id, value);
  });

  test('another counter (cnt + 1): undecryptable', async () => {
    const { id } = await sendFromA();
    rewriteKey(id, (k) => editB64Json(k, (json) => void (json.cnt = (json.cnt as number) + 1)));
    await expectDetected(getMessage(b, id), 'protocol.message.undecryptable', id);
  });

  test("another message's key wrap (a valid wrap of another message key): undecryptable", async () => {
    const first = await sendFromA();
    const second = await sendFromA();
    const otherKey = (await a.client.getMessage(first.id)).recipients[0].encryptedKey;
    rewriteKey(second.id, () => otherKey);
    await expectDetected(getMessage(b, second.id), 'protocol.message.undecryptable', second.id);
  });

  test('a key wrap that is no cipher at all: a typed error naming the message', async () => {
    const { id } = await sendFromA();
    rewriteKey(id, () => Buffer.from('{"cph":"AAAA","alg":3}').toString('base64url'));
    // Structurally broken (neither nonce nor counter): reported as an invalid message.
    await expectDetected(getMessage(b, id), 'protocol.message.invalid', id);
  });

  test("B's recipient entry moved to another address: notForYou", async () => {
    const { id } = await sendFromA();
    proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.recipients[0].address = c.address));
    await expectDetected(getMessage(b, id), 'protocol.message.notForYou', id);
  });

  test('the sender rewritten (a message from C presented as coming from A): undecryptable', async () => {
    const sent = await sendMessage(c, { recipients: [b.address], content: { '@type': 'ArbitraryMessageContent', value: 'from C' } });
    proxy.rewriteJson('GET', messagePath(sent.id), (json) => {
      json.result.createdBy = a.address;
    });
    await expectDetected(getMessage(b, sent.id), 'protocol.message.undecryptable', sent.id);
  });
});

// --- the signature inside the body ---------------------------------------------------------------

describe('the signature inside the body', () => {
  test('controls: a hand-crafted message and a re-encrypted unchanged body are accepted', async () => {
    const crafted = await craftAndSend();
    expect((await getMessage(b, crafted.id)).content).toEqual({ '@type': 'ArbitraryMessageContent', value: crafted.value });
    const { id, value } = await sendFromA();
    const same = await reencryptedBody(id, () => undefined);
    proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.body = same));
    expect((await getMessage(b, id)).content).toEqual({ '@type': 'ArbitraryMessageContent', value });
    expectRewritten(proxy, messagePath(id));
  });

  test.each<Where>(['first', 'middle', 'last'])('a changed byte (%s) of the signature, served by the proxy: signatureInvalid', async (where) => {
    const { id, value } = await sendFromA();
    const forged = await reencryptedBody(id, (signed) => {
      const s = signed.signatures.find((x) => x.recipient === b.address)!;
      const sig = JSON.parse(s.signature) as { sig: string; alg: number };
      sig.sig = flipByte(Buffer.from(sig.sig, 'base64url'), where).toString('base64url');
      s.signature = JSON.stringify(sig);
    });
    proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.body = forged));
    await expectDetected(getMessage(b, id), 'protocol.message.signatureInvalid', id);
    await expectReadableLater(id, value);
  });

  test('changed content under the original signature (someone who knows the message key): signatureInvalid', async () => {
    const { id } = await sendFromA();
    const forged = await reencryptedBody(id, (signed) => {
      const wrapper = JSON.parse(signed.message) as { content: { value: unknown } };
      wrapper.content.value = 'changed';
      signed.message = transportStringify(wrapper);
    });
    proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.body = forged));
    await expectDetected(getMessage(b, id), 'protocol.message.signatureInvalid', id);
  });

  test('the signature entry removed: signatureInvalid', async () => {
    const { id } = await sendFromA();
    const forged = await reencryptedBody(id, (signed) => void (signed.signatures = []));
    proxy.rewriteJson('GET', messagePath(id), (json) => void (json.result.body = forged));
    await expectDetected(getMessage(b, id), 'protocol.message.signatureInvalid', id);
  });

  test.each(["A's device key", 'a random key', "B's own relationship key"])('signed with the wrong key (%s), sent through the Platform: signatureInvalid', async (which) => {
    let key: SignaturePrivateKey;
    if (which === "A's device key") key = a.identity.keys.device.prv;
    else if (which === 'a random key') key = generateSignatureKeypair().prv;
    else key = (await getRelationship(b, relAB)).keys!.ownSignature.prv;
    const { id } = await craftAndSend({ signWith: key });
    await expectDetected(getMessage(b, id), 'protocol.message.signatureInvalid', id);
  });

  test('a signature only for another recipient: signatureInvalid', async () => {
    const { id } = await craftAndSend({ signatures: (_s, signature) => [{ recipient: c.address, signature }] });
    await expectDetected(getMessage(b, id), 'protocol.message.signatureInvalid', id);
  });

  test('validly signed content that does not name B as a recipient: notForYou', async () => {
    const { id } = await craftAndSend({ signedRecipients: [c.address] });
    await expectDetected(getMessage(b, id), 'protocol.message.notForYou', id);
  });
});

// --- files ---------------------------------------------------------------------------------------

describe('files', () => {
  const content = randomBytes(300_000);
  let ref: FileReference;
  let otherRef: FileReference;

  beforeAll(async () => {
    const file = await uploadFile(a, { content, filename: 'report.pdf', mimetype: 'application/pdf', expiresAt: inOneDay() });
    const other = await uploadFile(a, { content: randomBytes(1000), filename: 'other.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    const sent = await sendFromA([file.reference, other.reference]);
    const received = await getMessage(b, sent.id);
    [ref, otherRef] = received.attachments;
    expect(ref.id).toBe(file.id);
  });

  afterEach(async () => {
    // the untampered file still arrives intact
    proxy.clear();
    expect((await downloadFile(b, ref)).content.equals(content)).toBe(true);
  });

  test.each<Where>(['first', 'middle', 'last'])("a changed byte (%s) of an attachment's blob: hashMismatch", async (where) => {
    proxy.rewrite('GET', blobPath(ref.id), (res) => flipByte(res.body, where));
    await expectDetected(downloadFile(b, ref), 'protocol.file.hashMismatch', ref.id);
    expectRewritten(proxy, blobPath(ref.id));
  });

  test('a changed ciphertext byte with a matching cipherHash (the Platform lies consistently): undecryptable', async () => {
    const tampered = (await a.client.downloadFile(ref.id)).toString('latin1');
    // flip a bit inside the base64url text of "cph" (keeping it valid base64url)
    const at = 5000;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const swapped = alphabet[(alphabet.indexOf(tampered[at]) + 1) % 64];
    const blob = Buffer.from(tampered.slice(0, at) + swapped + tampered.slice(at + 1), 'latin1');
    proxy.rewrite('GET', blobPath(ref.id), () => blob);
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => void (json.result.cipherHash = toBase64Url(sha512(blob))));
    await expectDetected(downloadFile(b, ref), 'protocol.file.undecryptable', ref.id);
  });

  test("another file's blob with its hash: undecryptable", async () => {
    const blob = await a.client.downloadFile(otherRef.id);
    proxy.rewrite('GET', blobPath(ref.id), () => blob);
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => void (json.result.cipherHash = toBase64Url(sha512(blob))));
    await expectDetected(downloadFile(b, ref), 'protocol.file.undecryptable', ref.id);
  });

  test.each<Where>(['first', 'middle', 'last'])('a changed byte (%s) of the encrypted metadata: undecryptable (download and getFile)', async (where) => {
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => {
      json.result.encryptedProperties = flipInCipher(json.result.encryptedProperties, where);
    });
    await expectDetected(downloadFile(b, ref), 'protocol.file.undecryptable', ref.id);
    await expectDetected(getFile(b, ref), 'protocol.file.undecryptable', ref.id);
    expectRewritten(proxy, metadataPath(ref.id));
  });

  test("the message's (unsigned) attachment list rewritten: the signed attachments count, not the Platform's", async () => {
    const sent = await sendFromA([ref]);
    proxy.rewriteJson('GET', messagePath(sent.id), (json) => void (json.result.attachments = [{ id: otherRef.id }]));
    const message = await getMessage(b, sent.id);
    expectRewritten(proxy, messagePath(sent.id));
    expect(message.attachments.map((x) => x.id)).toEqual([ref.id]);
  });

  test("another file's encrypted metadata: undecryptable", async () => {
    const other = await a.client.getFileMetadata(otherRef.id);
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => void (json.result.encryptedProperties = other.encryptedProperties));
    await expectDetected(downloadFile(b, ref), 'protocol.file.undecryptable', ref.id);
  });

  test('a changed cipherHash in the metadata: hashMismatch', async () => {
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => {
      json.result.cipherHash = toBase64Url(flipByte(Buffer.from(json.result.cipherHash, 'base64url'), 'middle'));
    });
    await expectDetected(downloadFile(b, ref), 'protocol.file.hashMismatch', ref.id);
  });

  test('the encrypted metadata removed: invalid', async () => {
    proxy.rewriteJson('GET', metadataPath(ref.id), (json) => void delete json.result.encryptedProperties);
    await expectDetected(downloadFile(b, ref), 'protocol.file.invalid', ref.id);
  });

  test('sender-crafted: content that does not match the plaintext hash in the metadata: hashMismatch', async () => {
    // Like uploadFile, but the metadata carries the hash of other bytes than the blob holds.
    const nonce = generateNonce();
    const keys = { metadataKey: a.own.fileMetadataKey(nonce), contentKey: generateSecretKey() };
    const real = randomBytes(2000);
    const blob = encryptToCipherJson(real, keys.contentKey);
    const metadata = transportStringify({
      '@type': 'FileMetadata',
      filename: 'forged.bin',
      filesize: real.length,
      mimetype: 'application/octet-stream',
      plaintextHash: toBase64Url(sha512(randomBytes(2000))),
      secretKey: cryptoJson(secretKeyToJson(keys.contentKey, false)),
    });
    const dto = await a.client.uploadFile({
      content: blob,
      cipherHash: toBase64Url(sha512(blob)),
      owner: a.address,
      ownerSignature: toBase64(signatureToJson(sign(sha512(real), a.identity.keys.device.prv, HashAlgorithm.SHA512))),
      expiresAt: inOneDay(),
      encryptedProperties: toBase64(cipherToJson(encrypt(utf8(metadata), keys.metadataKey, nonce))),
    });
    await expectDetected(downloadFile(b, { id: dto.id, key: keys.metadataKey, backboneBaseUrl: platform.baseUrl }), 'protocol.file.hashMismatch', dto.id);
  });
});

// --- answers about another object ----------------------------------------------------------------

// An answer must be about the object asked for: the signed message content carries no message id,
// and file metadata is looked up by id.
describe('an answer about another object than the one asked for', () => {
  test('GET Messages/X answered with message Y (also authentic, from A): rejected, naming X', async () => {
    const x = await sendFromA();
    const y = await sendFromA();
    const other = await a.client.getMessage(y.id);
    proxy.rewriteJson('GET', messagePath(x.id), (json) => void (json.result = other));
    await expectDetected(getMessage(b, x.id), 'protocol.message.invalid', x.id);
  });

  test("GET Files/X/Metadata answered with X's metadata under another id: rejected, naming X", async () => {
    const file = await uploadFile(a, { content: randomBytes(100), filename: 'x.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    const sent = await sendFromA([file.reference]);
    const [r] = (await getMessage(b, sent.id)).attachments;
    proxy.rewriteJson('GET', metadataPath(r.id), (json) => void (json.result.id = 'FILaaaaaaaaaaaaaaaaa'));
    await expectDetected(downloadFile(b, r), 'protocol.file.invalid', r.id);
  });
});
