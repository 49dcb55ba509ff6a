/**
 * Issue 11 through the nodes: the organisation's credential points at a malicious Platform (a
 * rewriting proxy), and a peer with a relationship forges our own objects with the keys we gave it
 * (test/helpers/forgery.ts). Message Get / Get Many, Template Get, File Download, Relationship Accept
 * and the trigger must each refuse with a typed error — an n8n error whose description names the
 * code, or an error item — never show the forgery as ours, and send nothing (the proxy counts).
 */
import { NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import type { MessageDto } from '../../lib/backbone';
import { jsonToBase64Url } from '../../lib/crypto';
import {
  buildMail,
  createTemplate,
  getMessage,
  loadTemplate,
  requestRelationship,
  sendMessage,
  uploadFile,
  type Participant,
} from '../../lib/protocol';
import { actingRequests, expectRewritten, forgedFile, peerMessageKey, platformPath, reseal, withContent, type SignedMessage } from '../helpers/forgery';
import { newParticipant } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';
import { pollContext, rl } from './context';
import { inOneDay, nodeIdentity, poll, runNode, runNodeError, sleep, type NodeIdentity } from './helpers';

jest.setTimeout(60_000);

let platform: PlatformHandle;
let proxy: TestProxy;
let org: NodeIdentity;
let peer: Participant;
let relationship: string;

beforeAll(async () => {
  platform = await startPlatform({});
  proxy = await startProxy(platform.baseUrl);
  [org, peer] = await Promise.all([nodeIdentity(proxy.baseUrl), newParticipant(platform.baseUrl)]);
  relationship = await relate(org.lib, peer);
});
afterEach(() => proxy.clear());
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

const node = (resource: string, operation: string, parameters: INodeParameters) =>
  runNodeError({ credentials: org.credential, parameters: { resource, operation, ...parameters } });

/** The node failed with a NodeOperationError naming the object and the code, and nothing was sent. */
async function refused(run: () => Promise<NodeOperationError | unknown>, code: string, id: string): Promise<void> {
  const since = proxy.log.length;
  const error = (await run()) as NodeOperationError;
  expect(error).toBeInstanceOf(NodeOperationError);
  expect(error.message).toContain(id);
  expect(error.description).toContain(`Code: ${code}`);
  expect(actingRequests(proxy, since)).toEqual([]);
}

const forgedMail = () => buildMail({ to: [peer.address], subject: 'Bank details changed', body: 'Pay to IBAN XX00 0000' });

describe('our own objects, forged by the Platform with a peer', () => {
  test('Message Get and Get Many: a Mail we sent, re-encrypted under its message key with another subject', async () => {
    const sent = await sendMessage(org.lib, { recipients: [peer.address], content: buildMail({ to: [peer.address], subject: 'Invoice 17', body: '100 EUR' }) });
    const dto = await peer.client.getMessage(sent.id);
    const key = await peerMessageKey(peer, relationship, dto);
    const forged = reseal<SignedMessage>(dto.body, key, (s) => withContent(s, forgedMail() as unknown as Record<string, unknown>));
    proxy.rewriteJson('GET', platformPath.message(sent.id), (json) => void (json.result.body = forged));
    proxy.rewriteJson('GET', platformPath.messages, (json) => {
      for (const m of json.result as MessageDto[]) if (m.id === sent.id) m.body = forged;
    });
    await refused(() => node('message', 'get', { messageId: sent.id }), 'protocol.message.signatureInvalid', sent.id);
    const listed = await runNode({ credentials: org.credential, parameters: { resource: 'message', operation: 'getMany', returnAll: true, filters: { direction: 'sent' } } });
    const item = listed.find((i) => i.json.id === sent.id)!;
    expect(item.json).toMatchObject({ errorCode: 'protocol.message.signatureInvalid' });
    expect(JSON.stringify(listed)).not.toContain('Bank details changed');
    expectRewritten(proxy, platformPath.message(sent.id));
  });

  test('Template Get: our template re-encrypted under its content key (from its QR code) with another title', async () => {
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { title: 'Newsletter' } }, expiresAt: inOneDay() });
    const key = (await loadTemplate(peer, template.truncatedReference)).key;
    const forged = reseal<Record<string, unknown>>((await peer.client.getTemplate(template.id)).content, key, (signed) => ({
      ...signed,
      serializedTemplate: JSON.stringify({ ...(JSON.parse(signed.serializedTemplate as string) as object), content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { title: 'Account closed' } } }),
    }));
    proxy.rewriteJson('GET', platformPath.template(template.id), (json) => void (json.result.content = forged));
    await refused(() => node('relationshipTemplate', 'get', { templateId: template.id }), 'protocol.template.invalid', template.id);
  });

  test('File Download and File Get by id: our file with other bytes under its metadata key', async () => {
    const file = await uploadFile(org.lib, { content: Buffer.from('the real contract'), filename: 'contract.pdf', mimetype: 'application/pdf', expiresAt: inOneDay() });
    const sent = await sendMessage(org.lib, { recipients: [peer.address], content: { '@type': 'ArbitraryMessageContent', value: 'contract' }, attachments: [file.reference] });
    const key = (await getMessage(peer, sent.id)).attachments[0].key;
    const forged = forgedFile((await peer.client.getFileMetadata(file.id)).encryptedProperties!, key, Buffer.from('a forged contract'), 'contract.pdf');
    proxy.rewriteJson('GET', platformPath.fileMetadata(file.id), (json) => {
      json.result.encryptedProperties = forged.encryptedProperties;
      json.result.cipherHash = forged.cipherHash;
    });
    proxy.rewrite('GET', platformPath.fileBlob(file.id), () => forged.blob);
    await refused(() => node('file', 'download', { file: file.id, binaryPropertyName: 'data' }), 'protocol.file.signatureInvalid', file.id);
    await refused(() => node('file', 'get', { file: file.id }), 'protocol.file.signatureInvalid', file.id);
  });
});

describe('Relationship Accept and the trigger: a request that fails verification', () => {
  /** A request on a fresh template of the organisation, whose cipher the Platform changes for the organisation. */
  async function forgedRequest(): Promise<{ id: string; requestor: Participant }> {
    const requestor = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'offer' }, expiresAt: inOneDay() });
    const created = await requestRelationship(requestor, await loadTemplate(requestor, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'answer' });
    proxy.rewriteJson('GET', platformPath.relationship(created.id), (json) => {
      const outer = JSON.parse(Buffer.from(json.result.creationContent, 'base64url').toString('utf8')) as { cipher: { cph: string } };
      const cph = Buffer.from(outer.cipher.cph, 'base64url');
      cph[4] ^= 1;
      outer.cipher.cph = cph.toString('base64url');
      json.result.creationContent = jsonToBase64Url(JSON.stringify(outer));
    });
    return { id: created.id, requestor };
  }

  test('Accept: refused with a typed error; no PUT Accept, no POST; the relationship stays Pending', async () => {
    const r = await forgedRequest();
    await refused(() => node('relationship', 'accept', { relationshipId: rl('id', r.id) }), 'protocol.relationship.invalid', r.id);
    expect(proxy.log.some((e) => e.method === 'PUT' && e.path.endsWith(`/Relationships/${r.id}/Accept`))).toBe(false);
    expect((await r.requestor.client.getRelationship(r.id)).status).toBe('Pending');
  });

  test('the trigger emits it as an error item, not as a request to act on', async () => {
    const parameters = { events: ['relationshipRequestReceived'] };
    const staticData: IDataObject = {};
    expect(await poll(pollContext({ parameters, credentials: org.credential, mode: 'trigger', staticData }))).toBeNull();
    const r = await forgedRequest();
    const since = proxy.log.length;
    const out = await poll(pollContext({ parameters, credentials: org.credential, mode: 'trigger', staticData }));
    expect(out!.map((i) => i.json)).toEqual([expect.objectContaining({ event: 'relationshipRequestReceived', id: r.id, errorCode: 'protocol.relationship.invalid' })]);
    expect(out![0].json).not.toHaveProperty('creationContent');
    expect(proxy.log.slice(since).filter((e) => /\/Relationships\/.*\/(Accept|Reject)$/.test(e.path) || (e.method === 'POST' && e.path.endsWith('/Messages')))).toEqual([]);
  });
});

describe('a message the Platform serves again under a new id', () => {
  const parameters = { events: ['messageReceived'] };
  const received = async (value: string): Promise<MessageDto> => {
    const sent = await sendMessage(peer, { recipients: [org.address], content: { '@type': 'ArbitraryMessageContent', value } });
    await sleep(5);
    return org.lib.client.getMessage(sent.id);
  };
  /** From now on the Platform lists a copy of `original` under `copyId`, `laterMs` after it. */
  const listCopy = (original: MessageDto, copyId: string, laterMs: number) =>
    proxy.rewriteJson('GET', platformPath.messages, (json) => {
      const items = json.result as MessageDto[];
      if (!items.some((m) => m.id === original.id)) return;
      items.push({ ...original, id: copyId, createdAt: new Date(Date.parse(original.createdAt) + laterMs).toISOString() });
      if (json.pagination) json.pagination.totalRecords += 1;
    });

  test('the trigger: within the tolerance, the repeat of an emitted message is an error item; it is never emitted twice', async () => {
    const staticData: IDataObject = {};
    const trigger = () => poll(pollContext({ parameters, credentials: org.credential, mode: 'trigger', staticData }));
    expect(await trigger()).toBeNull();
    const original = await received('pay once');
    expect((await trigger())!.map((i) => i.json.id)).toEqual([original.id]);
    listCopy(original, 'MSGreplayedcopy00001', 2000);
    const out = await trigger();
    expect(out!.map((i) => i.json)).toEqual([expect.objectContaining({ id: 'MSGreplayedcopy00001', errorCode: 'protocol.message.replayed' })]);
    expect(out![0].json.error).toContain(original.id);
    expect(await trigger()).toBeNull();
  });

  test('the trigger: served again long after it was signed, it is an error item', async () => {
    const staticData: IDataObject = {};
    const trigger = () => poll(pollContext({ parameters, credentials: org.credential, mode: 'trigger', staticData }));
    expect(await trigger()).toBeNull();
    const original = await received('late copy');
    listCopy(original, 'MSGreplayedcopy00002', 2 * 3_600_000);
    const out = (await trigger())!.map((i) => i.json);
    expect(out.map((j) => [j.id, j.errorCode])).toEqual([
      [original.id, undefined],
      ['MSGreplayedcopy00002', 'protocol.message.replayed'],
    ]);
  });

  test('Message Get Many lists it once and reports the repeat', async () => {
    const original = await received('listed once');
    listCopy(original, 'MSGreplayedcopy00003', 1000);
    const out = await runNode({ credentials: org.credential, parameters: { resource: 'message', operation: 'getMany', returnAll: true } });
    const about = out.map((i) => i.json).filter((j) => j.id === original.id || j.id === 'MSGreplayedcopy00003');
    expect(about.filter((j) => !j.errorCode)).toHaveLength(1);
    expect(about.filter((j) => j.errorCode === 'protocol.message.replayed')).toHaveLength(1);
  });
});
