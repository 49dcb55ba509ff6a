/**
 * Enmeshed node v2, Message → Send: attachments from binary data and from existing files (own by ID,
 * anyone's by reference, e.g. a received attachment sent on without downloading it), addresses
 * checked inside the operation. v1 keeps its parameters (test/nodes/message.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { NodeOperationError, type INodeParameters } from 'n8n-workflow';
import { buildMail, downloadFile, getMessage, listOwnFiles, sendMessage, uploadFile, type Participant } from '../../../lib/protocol';
import { Enmeshed } from '../../../nodes/Enmeshed/Enmeshed.node';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { binaryItem, rl, type ExecuteContextOptions } from '../context';
import { inOneDay, nodeIdentity, runNode, runNodeError, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;
let bob: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice, bob] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(org.lib, alice);
  await relate(bob, org.lib);
});
afterAll(() => platform?.close());

const params = (p: INodeParameters): INodeParameters => ({ resource: 'message', operation: 'send', ...p });
const send = (p: INodeParameters, extra: Partial<ExecuteContextOptions> = {}) => runNode({ credentials: org.credential, version: 2, parameters: params(p), ...extra });
const sendError = (p: INodeParameters, extra: Partial<ExecuteContextOptions> = {}) =>
  runNodeError({ credentials: org.credential, version: 2, parameters: params(p), ...extra });
const ownFileCount = async () => (await listOwnFiles(org.lib)).files.length;

test('new workflows get v2; v1 is still offered with its own Send parameters', () => {
  const node = new Enmeshed();
  expect(node.description.defaultVersion).toBe(2);
  const names = (v: 1 | 2) => node.nodeVersions[v].description.properties.filter((p) => p.displayOptions?.show?.operation?.includes('send')).map((p) => p.name);
  expect(names(1)).toContain('attachments');
  expect(names(2)).toContain('attachmentsUi');
  expect(names(2)).not.toContain('attachments');
  // no n8n-side regex on the recipient (n8n runs it with a 250 ms limit that fails under load)
  const to = node.nodeVersions[2].description.properties.find((p) => p.name === 'to')!;
  expect(JSON.stringify(to)).not.toContain('validation');
});

test('attachments from binary data, an own file by ID and a received attachment by reference arrive intact, in that order', async () => {
  const fromBinary = randomBytes(50_000);
  const own = await uploadFile(org.lib, { content: Buffer.from('own file'), filename: 'own.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  // bob sends the org a file; the org sends it on to alice without downloading it
  const bobsFile = await uploadFile(bob, { content: Buffer.from('from bob'), filename: 'bob.pdf', mimetype: 'application/pdf', expiresAt: inOneDay() });
  const fromBob = await sendMessage(bob, { recipients: [org.address], content: buildMail({ to: [org.address], subject: 'for you', body: '' }), attachments: [bobsFile.reference] });
  const received = await runNode({ credentials: org.credential, version: 2, parameters: { resource: 'message', operation: 'get', messageId: fromBob.id } });
  const [forwardRef] = received[0].json.attachmentReferences as string[];
  expect(forwardRef).toEqual(expect.any(String));

  const out = await send(
    {
      to: rl('list', alice.address),
      subject: 'Three files',
      body: 'b',
      attachmentsUi: { attachmentsBinary: [{ property: 'data' }], attachmentsFile: [{ file: own.id }, { file: forwardRef }] },
    },
    { items: [binaryItem({}, { data: { data: fromBinary, fileName: 'scan.bin', mimeType: 'application/octet-stream' } }, 'filesystem')], binaryMode: 'filesystem' },
  );
  const message = await getMessage(alice, out[0].json.id as string);
  expect(message.attachments.map((a) => a.id)).toEqual([expect.stringMatching(/^FIL/), own.id, bobsFile.id]);
  const files = await Promise.all(message.attachments.map((a) => downloadFile(alice, a)));
  expect(files[0].content.equals(fromBinary)).toBe(true);
  expect(files[1].content.toString()).toBe('own file');
  expect(files[2].content.toString()).toBe('from bob');
  expect(files[2].file.filename).toBe('bob.pdf');
  expect(out[0].json.attachmentReferences).toHaveLength(3);
});

test('several binary fields in one entry, comma-separated', async () => {
  const items = [binaryItem({}, { a: { data: 'A', fileName: 'a.txt', mimeType: 'text/plain' }, b: { data: 'B', fileName: 'b.txt', mimeType: 'text/plain' } })];
  const out = await send({ to: rl('address', alice.address), subject: 's', body: 'b', attachmentsUi: { attachmentsBinary: [{ property: 'a, b' }] } }, { items });
  const message = await getMessage(alice, out[0].json.id as string);
  const names = await Promise.all(message.attachments.map(async (a) => (await downloadFile(alice, a)).file.filename));
  expect(names).toEqual(['a.txt', 'b.txt']);
});

test('a file ID that is not ours, or a broken reference: a clear error, and nothing uploaded', async () => {
  const before = await ownFileCount();
  const items = [binaryItem({}, { data: { data: 'x', fileName: 'x.txt', mimeType: 'text/plain' } })];
  const alicesFile = await uploadFile(alice, { content: Buffer.from('a'), filename: 'a.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const notOurs = await sendError(
    { to: rl('address', alice.address), subject: 's', body: 'b', attachmentsUi: { attachmentsBinary: [{ property: 'data' }], attachmentsFile: [{ file: alicesFile.id }] } },
    { items },
  );
  expect(notOurs.message).toMatch(/not uploaded by this identity/);
  const broken = await sendError({ to: rl('address', alice.address), subject: 's', body: 'b', attachmentsUi: { attachmentsFile: [{ file: 'FIL-not-a-reference' }] } });
  expect(broken).toBeInstanceOf(NodeOperationError);
  expect(broken.message).toBe('The file is neither a file ID nor a file reference');
  expect(await ownFileCount()).toBe(before);
});

test('more than 20 attachments: refused before anything is uploaded', async () => {
  const before = await ownFileCount();
  const files = Array.from({ length: 21 }, () => ({ file: 'FILaaaaaaaaaaaaaaaaa' }));
  const error = await sendError({ to: rl('address', alice.address), subject: 's', body: 'b', attachmentsUi: { attachmentsFile: files } });
  expect(error.message).toBe('A message can carry at most 20 attachments; this one has 21');
  expect(await ownFileCount()).toBe(before);
});

test('an address that is not one: checked inside the operation, with the item index', async () => {
  const error = await sendError({ to: rl('address', 'did:e:localhost:dids:0123'), subject: 's', body: 'b' });
  expect(error).toBeInstanceOf(NodeOperationError);
  expect(error.message).toBe('To is not an enmeshed address');
  expect(error.context.itemIndex).toBe(0);
  const cc = await sendError({ to: rl('address', alice.address), subject: 's', body: 'b', options: { cc: 'someone' } });
  expect(cc.message).toBe('CC is not an enmeshed address');
});

describe('Idempotency Key', () => {
  test('a second send with the same key to the same recipient returns the first message, flagged alreadySent, without uploading again', async () => {
    const items = [binaryItem({}, { data: { data: 'invoice', fileName: 'i.txt', mimeType: 'text/plain' } })];
    const p = { to: rl('address', alice.address), subject: 'Invoice 77', body: 'b', attachmentsUi: { attachmentsBinary: [{ property: 'data' }] }, options: { idempotencyKey: 'order-77' } };
    const first = await send(p, { items });
    expect(first[0].json.alreadySent).toBe(false);
    const files = await ownFileCount();
    const second = await send(p, { items });
    expect(second[0].json).toMatchObject({ id: first[0].json.id, alreadySent: true, subject: 'Invoice 77' });
    expect(await ownFileCount()).toBe(files);
    // another key, or the same key to another recipient: a new message
    const other = await send({ ...p, options: { idempotencyKey: 'order-78' } }, { items });
    expect(other[0].json).toMatchObject({ alreadySent: false });
    expect(other[0].json.id).not.toBe(first[0].json.id);
    const toBob = await send({ ...p, to: rl('address', bob.address) }, { items });
    expect(toBob[0].json.alreadySent).toBe(false);
    expect(toBob[0].json.id).not.toBe(first[0].json.id);
  });

  test('with cc and a key: each recipient gets one message, also when the send is repeated', async () => {
    const p = { to: rl('address', alice.address), subject: 'Both', body: 'b', options: { cc: bob.address, idempotencyKey: 'both-1' } };
    const first = await send(p);
    const again = await send(p);
    expect(again.map((o) => o.json.id)).toEqual(first.map((o) => o.json.id));
    expect(again.map((o) => o.json.alreadySent)).toEqual([true, true]);
  });

  test('without a key the output has no alreadySent, and two sends are two messages', async () => {
    const p = { to: rl('address', alice.address), subject: 'twice', body: 'b' };
    const [a, b] = [await send(p), await send(p)];
    expect(a[0].json.alreadySent).toBeUndefined();
    expect(a[0].json.id).not.toBe(b[0].json.id);
  });
});

describe('full inbox', () => {
  let carol: Participant;
  beforeAll(async () => {
    carol = await newParticipant(platform.baseUrl);
    await relate(org.lib, carol);
    platform.configure({ maxUnreceivedMessages: 2 });
    for (const n of [1, 2]) await sendMessage(org.lib, { recipients: [carol.address], content: buildMail({ to: [carol.address], subject: `fill ${n}`, body: '' }) });
  });
  afterAll(() => platform.configure({ maxUnreceivedMessages: 20 }));

  test('without waiting: an error that says what happened and what to do', async () => {
    const error = await sendError({ to: rl('address', carol.address), subject: 'full', body: 'b' });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toContain(`The message was not sent: ${carol.address} has not yet fetched the messages you sent before`);
    expect(error.description).toContain('Full Inbox: Wait Up To');
  });

  test('with "Full Inbox: Wait Up To": sent as soon as the peer fetches its messages', async () => {
    const started = Date.now();
    const sending = send({ to: rl('address', carol.address), subject: 'patient', body: 'b', options: { fullInboxWaitSeconds: 30 } });
    await new Promise((r) => setTimeout(r, 1_500));
    await carol.client.all(carol.client.messages()); // the peer's App fetches
    const out = await sending;
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await getMessage(carol, out[0].json.id as string)).content).toMatchObject({ subject: 'patient' });
  });

  test('the wait is bounded: refused again after it, with the time waited', async () => {
    for (const n of [3, 4]) await sendMessage(org.lib, { recipients: [carol.address], content: buildMail({ to: [carol.address], subject: `fill ${n}`, body: '' }) }).catch(() => undefined);
    const started = Date.now();
    const error = await sendError({ to: rl('address', carol.address), subject: 'never', body: 'b', options: { fullInboxWaitSeconds: 2 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(error.message).toMatch(/\(waited [23] s\)$/);
  });
});
