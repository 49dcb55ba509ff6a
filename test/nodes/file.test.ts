/** Enmeshed node, resource File: upload / download / get / getMany, own files by ID and anyone's by reference. */
import { randomBytes } from 'node:crypto';
import { NodeOperationError, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { downloadFile, parseReference, uploadFile, type Participant, type StoredFile } from '../../lib/protocol';
import { newParticipant } from '../helpers/participants';
import { binaryBuffer, binaryItem, type BinaryMode } from './context';
import { inOneDay, nodeIdentity, runNode, runNodeError, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let peer: Participant;
let peersFile: StoredFile;
const peersContent = randomBytes(123_457);

beforeAll(async () => {
  platform = await startPlatform({});
  [org, peer] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
  // No relationship needed: a file reference is all anyone needs.
  peersFile = await uploadFile(peer, { content: peersContent, filename: 'Lieferschein 04-2026.pdf', mimetype: 'application/pdf', expiresAt: inOneDay(), title: 'Lieferschein' });
});
afterAll(() => platform?.close());

const run = (operation: string, parameters: INodeParameters, extra: Partial<Parameters<typeof runNode>[0]> = {}) =>
  runNode({ credentials: org.credential, parameters: { resource: 'file', operation, ...parameters }, ...extra });
const fail = (operation: string, parameters: INodeParameters, extra: Partial<Parameters<typeof runNode>[0]> = {}) =>
  runNodeError({ credentials: org.credential, parameters: { resource: 'file', operation, ...parameters }, ...extra });

async function upload(content: Buffer, fileName: string, mimeType: string, parameters: INodeParameters = {}, mode: BinaryMode = 'default') {
  const [out] = await run('upload', parameters, { items: [binaryItem({}, { data: { data: content, fileName, mimeType } }, mode)], binaryMode: mode });
  return out;
}

test('upload: encrypted and stored with its original name and type; output has the reference, no key material', async () => {
  const content = randomBytes(200_000);
  const out = await upload(content, 'Röntgen 2026.png', 'image/png', { options: { title: 'Röntgenbild', description: 'linke Hand', expiryDays: 30 } });
  expect(out.pairedItem).toEqual({ item: 0 });
  expect(out.json).toMatchObject({
    id: expect.stringMatching(/^FIL[A-Za-z0-9]{17}$/),
    filename: 'Röntgen 2026.png',
    mimetype: 'image/png',
    filesize: content.length,
    title: 'Röntgenbild',
    description: 'linke Hand',
    isOwn: true,
    owner: org.address,
    createdBy: org.address,
  });
  const expiry = Date.parse(out.json.expiresAt as string) - Date.now();
  expect(expiry).toBeGreaterThan(29 * 86_400_000);
  expect(expiry).toBeLessThan(31 * 86_400_000);
  expect(out.json.truncatedReference).toEqual(expect.any(String));
  expect(out.json.reference).toEqual({ truncated: out.json.truncatedReference, url: expect.stringMatching(/^http:\/\/localhost:\d+\//) });
  expect(JSON.stringify(out.json)).not.toMatch(/"(key|secretKey|contentKey)"/);
  // a peer with the reference gets the bytes back
  const reference = parseReference(out.json.truncatedReference as string);
  const fetched = await downloadFile(peer, { id: reference.id, key: reference.key, backboneBaseUrl: reference.backboneBaseUrl ?? '' });
  expect(fetched.content.equals(content)).toBe(true);
  expect(fetched.file.filename).toBe('Röntgen 2026.png');
});

test('upload in the filesystem binary mode, with a file name override', async () => {
  const content = Buffer.from('id;wert\n1;2\n');
  const out = await upload(content, 'export.csv', 'text/csv', { options: { fileName: 'Werte März.csv' } }, 'filesystem');
  expect(out.json).toMatchObject({ filename: 'Werte März.csv', mimetype: 'text/csv', filesize: content.length });
  expect((await downloadFile(org.lib, out.json.id as string)).content.equals(content)).toBe(true);
});

test('upload: a missing binary property, and a file over the Platform limit, are clear errors', async () => {
  const missing = await fail('upload', { binaryPropertyName: 'document' }, { items: [binaryItem({}, { data: { data: 'x', fileName: 'x.txt', mimeType: 'text/plain' } })] });
  expect(missing).toBeInstanceOf(NodeOperationError);
  expect(missing.message).toContain('"document"');
  expect(missing.context.itemIndex).toBe(0);
  const tooLarge = await fail('upload', {}, { items: [binaryItem({}, { data: { data: Buffer.alloc(7.6 * 1024 * 1024), fileName: 'big.bin', mimeType: 'application/octet-stream' } })] });
  expect(tooLarge.message).toContain('big.bin');
  expect(tooLarge.description).toContain('Split the file');
});

test('download by own ID: the bytes with the original name and type, into the chosen field', async () => {
  const content = randomBytes(50_000);
  const uploaded = await upload(content, 'Befund.pdf', 'application/pdf');
  const [out] = await run('download', { file: uploaded.json.id as string, binaryPropertyName: 'report' });
  expect(Object.keys(out.binary ?? {})).toEqual(['report']);
  expect(binaryBuffer(out.binary!.report).equals(content)).toBe(true);
  expect(out.binary!.report).toMatchObject({ fileName: 'Befund.pdf', mimeType: 'application/pdf', fileExtension: 'pdf', bytes: content.length });
  expect(out.json).toMatchObject({ id: uploaded.json.id, filename: 'Befund.pdf', isOwn: true });
});

test("download and get by the reference of someone else's file (truncated and link); by its ID it is refused with a hint", async () => {
  for (const reference of [peersFile.truncatedReference, peersFile.url]) {
    const [out] = await run('download', { file: reference }, { binaryMode: 'filesystem' });
    expect(binaryBuffer(out.binary!.data).equals(peersContent)).toBe(true);
    expect(out.binary!.data).toMatchObject({ fileName: 'Lieferschein 04-2026.pdf', mimeType: 'application/pdf' });
    expect(out.json).toMatchObject({ id: peersFile.id, isOwn: false, owner: peer.address, title: 'Lieferschein' });
  }
  const [meta] = await run('get', { file: peersFile.truncatedReference });
  expect(meta.json).toMatchObject({ id: peersFile.id, filename: 'Lieferschein 04-2026.pdf', filesize: peersContent.length, isOwn: false, owner: peer.address });
  expect(meta.binary).toBeUndefined();
  const byId = await fail('get', { file: peersFile.id });
  expect(byId.message).toContain('use its reference');
});

test('get by own ID; garbage and unknown IDs are clear errors', async () => {
  const uploaded = await upload(Buffer.from('hello'), 'hello.txt', 'text/plain', { options: { title: 'Hallo' } });
  const [meta] = await run('get', { file: ` ${uploaded.json.id as string} ` });
  expect(meta.json).toMatchObject({ id: uploaded.json.id, filename: 'hello.txt', mimetype: 'text/plain', filesize: 5, title: 'Hallo', isOwn: true });
  const garbage = await fail('download', { file: 'not a file' });
  expect(garbage).toBeInstanceOf(NodeOperationError);
  expect(garbage.message).toBe('The file is neither a file ID nor a file reference');
  expect(garbage.context.itemIndex).toBe(0);
  const unknown = await fail('get', { file: 'FILAAAAAAAAAAAAAAAAA' });
  expect(unknown.message).toContain('FILAAAAAAAAAAAAAAAAA');
});

test('getMany: own files newest first, with Limit; not the files of others', async () => {
  const me = await nodeIdentity(platform.baseUrl);
  const names = ['a.txt', 'b.txt', 'c.txt'];
  for (const name of names) {
    await runNode({ credentials: me.credential, items: [binaryItem({}, { data: { data: name, fileName: name, mimeType: 'text/plain' } })], parameters: { resource: 'file', operation: 'upload' } });
  }
  const all = await runNode({ credentials: me.credential, parameters: { resource: 'file', operation: 'getMany', returnAll: true } });
  expect(all.map((o) => o.json.filename)).toEqual(['c.txt', 'b.txt', 'a.txt']);
  expect(all.every((o) => o.json.isOwn === true && o.pairedItem !== undefined)).toBe(true);
  const two = await runNode({ credentials: me.credential, parameters: { resource: 'file', operation: 'getMany', limit: 2 } });
  expect(two.map((o) => o.json.filename)).toEqual(['c.txt', 'b.txt']);
});

test('several input items: one output item each, paired', async () => {
  const items = [0, 1, 2].map((i) => binaryItem({ i }, { data: { data: `file ${i}`, fileName: `f${i}.txt`, mimeType: 'text/plain' } }));
  const out = await run('upload', {}, { items });
  expect(out.map((o) => [o.json.filename, o.pairedItem])).toEqual([
    ['f0.txt', { item: 0 }],
    ['f1.txt', { item: 1 }],
    ['f2.txt', { item: 2 }],
  ]);
});
