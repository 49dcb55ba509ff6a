/**
 * Enmeshed node, resource Message: send / get / getMany / downloadAttachments, against the local
 * Platform. The node runs with a hand-made IExecuteFunctions; the peers are lib/protocol participants
 * that read what the node sent (and send what the node reads).
 */
import { randomBytes } from 'node:crypto';
import { NodeApiError, NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { buildMail, downloadFile, getMessage, listOwnFiles, sendMessage, uploadFile, type Participant } from '../../lib/protocol';
import { deriveAddress, generateSignatureKeypair } from '../../lib/crypto';
import { TRANSFERS_AT_ONCE } from '../../nodes/shared/limited';
import { newParticipant } from '../helpers/participants';
import { binaryBuffer, binaryItem, rl } from './context';
import { relate } from '../helpers/relate';
import { inOneDay, nodeIdentity, runNode, runNodeError, sendUnreadable, sleep, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;
let bob: Participant;
let stranger: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice, bob, stranger] = await Promise.all([
    nodeIdentity(platform.baseUrl),
    newParticipant(platform.baseUrl),
    newParticipant(platform.baseUrl),
    newParticipant(platform.baseUrl),
  ]);
  await relate(org.lib, alice); // the node's identity is the templator here …
  await relate(bob, org.lib); // … and the requestor here
});
afterAll(() => platform?.close());

const send = (parameters: INodeParameters | ((i: number) => INodeParameters), extra: Partial<Parameters<typeof runNode>[0]> = {}) =>
  runNode({ credentials: org.credential, parameters: withOperation('send', parameters), ...extra });

function withOperation(operation: string, parameters: INodeParameters | ((i: number) => INodeParameters)) {
  return typeof parameters === 'function'
    ? (i: number) => ({ resource: 'message', operation, ...parameters(i) })
    : { resource: 'message', operation, ...parameters };
}

async function ownFileCount(): Promise<number> {
  return (await listOwnFiles(org.lib)).files.length;
}

describe('send', () => {
  test('a Mail with two attachments from binary data: the peer gets the Mail and byte-identical files with their names and types', async () => {
    const pdf = randomBytes(300_000);
    const text = Buffer.from('Grüße aus dem Labor — 检验报告 ✓', 'utf8');
    // filesystem mode: `data` is only a marker, so a node that read binary.data would send garbage
    const items = [
      binaryItem(
        { patient: 7 },
        {
          data: { data: pdf, fileName: 'Befund.pdf', mimeType: 'application/pdf' },
          invoice: { data: text, fileName: 'Prüfbericht_检验.txt', mimeType: 'text/plain' },
        },
        'filesystem',
      ),
    ];
    const out = await send(
      { to: rl('address', alice.address), subject: 'Befund', body: 'Anbei **zwei** Dateien', attachments: 'data, invoice', options: { bodyFormat: 'Markdown' } },
      { items, binaryMode: 'filesystem' },
    );
    expect(out).toHaveLength(1);
    expect(out[0].pairedItem).toEqual({ item: 0 });
    expect(out[0].json).toMatchObject({ from: org.address, to: [alice.address], cc: [], subject: 'Befund', body: 'Anbei **zwei** Dateien', bodyFormat: 'Markdown' });
    expect(out[0].json.attachments).toHaveLength(2);

    const received = await getMessage(alice, out[0].json.id as string);
    expect(received.createdBy).toBe(org.address);
    expect(received.content).toEqual({ '@type': 'Mail', to: [alice.address], cc: [], subject: 'Befund', body: 'Anbei **zwei** Dateien', bodyFormat: 'Markdown' });
    expect(received.attachments.map((a) => a.id)).toEqual(out[0].json.attachments);
    const [first, second] = await Promise.all(received.attachments.map((a) => downloadFile(alice, a)));
    expect(first.content.equals(pdf)).toBe(true);
    expect(first.file).toMatchObject({ filename: 'Befund.pdf', mimetype: 'application/pdf', filesize: pdf.length });
    expect(second.content.equals(text)).toBe(true);
    expect(second.file).toMatchObject({ filename: 'Prüfbericht_检验.txt', mimetype: 'text/plain' });
  });

  test('the recipient picked from the list (mode "list", value = address) and a plain-text Mail', async () => {
    const out = await send({ to: rl('list', alice.address), subject: 'Plain', body: 'line 1\nline 2' });
    const received = await getMessage(alice, out[0].json.id as string);
    expect(received.content).toEqual({ '@type': 'Mail', to: [alice.address], cc: [], subject: 'Plain', body: 'line 1\nline 2', bodyFormat: 'PlainText' });
  });

  test('JSON content: sent as given; plain JSON is wrapped as ArbitraryMessageContent; invalid JSON is a clear error', async () => {
    const content = { '@type': 'ArbitraryMessageContent', value: { orderId: 42, lines: ['a', 'b'] } };
    const out = await send({ to: rl('address', alice.address), contentType: 'json', jsonContent: JSON.stringify(content) });
    expect(out[0].json).toMatchObject({ type: 'ArbitraryMessageContent', content });
    expect((await getMessage(alice, out[0].json.id as string)).content).toEqual(content);

    const wrapped = await send({ to: rl('address', alice.address), contentType: 'json', jsonContent: '{"orderId": 7}' });
    expect((await getMessage(alice, wrapped[0].json.id as string)).content).toEqual({ '@type': 'ArbitraryMessageContent', value: { orderId: 7 } });

    const error = await runNodeError({
      credentials: org.credential,
      parameters: withOperation('send', { to: rl('address', alice.address), contentType: 'json', jsonContent: '{"orderId": ' }),
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('Content (JSON) is not valid JSON');
    expect(error.context.itemIndex).toBe(0);
  });

  test('cc: one message per recipient (default), each Mail listing to and cc; both paired with the input item', async () => {
    const out = await send({ to: rl('address', alice.address), subject: 'To both', body: 'b', options: { cc: bob.address } });
    expect(out).toHaveLength(2);
    expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
    const expected = { '@type': 'Mail', to: [alice.address], cc: [bob.address], subject: 'To both', body: 'b', bodyFormat: 'PlainText' };
    expect((await getMessage(alice, out[0].json.id as string)).content).toEqual(expected);
    expect((await getMessage(bob, out[1].json.id as string)).content).toEqual(expected);
    await expect(getMessage(bob, out[0].json.id as string)).rejects.toThrow(/not visible|not among/);
  });

  test('cc with "One Message per Recipient" off: one message to all (where the Platform allows several recipients)', async () => {
    platform.configure({ maxNumberOfMessageRecipients: 5 });
    try {
      const out = await send({ to: rl('address', alice.address), subject: 'Together', body: 'b', options: { cc: bob.address, separateMessages: false } });
      expect(out).toHaveLength(1);
      const id = out[0].json.id as string;
      expect((await getMessage(alice, id)).content).toMatchObject({ to: [alice.address], cc: [bob.address] });
      expect((await getMessage(bob, id)).content).toMatchObject({ to: [alice.address], cc: [bob.address] });
    } finally {
      platform.configure({ maxNumberOfMessageRecipients: 1 });
    }
    // a stock Backbone takes one recipient per message: the Platform's refusal reaches the user
    const error = await runNodeError({
      credentials: org.credential,
      parameters: withOperation('send', { to: rl('address', alice.address), subject: 'x', body: 'b', options: { cc: bob.address, separateMessages: false } }),
    });
    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toMatch(/recipients/i);
  });

  test('a missing binary property: NodeOperationError naming it, with the item index', async () => {
    const items = [binaryItem({}, { data: { data: 'x', fileName: 'x.txt', mimeType: 'text/plain' } }), { json: {} }];
    const error = await runNodeError({
      credentials: org.credential,
      items,
      parameters: withOperation('send', { to: rl('address', alice.address), subject: 's', body: 'b', attachments: 'data' }),
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toContain('"data"');
    expect(error.context.itemIndex).toBe(1);
    expect(error.description).toMatch(/binary propert/);
  });

  test('six attachments: uploaded a few at a time, and attached in the order they are named', async () => {
    const names = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'];
    const files = Object.fromEntries(names.map((name) => [name, { data: Buffer.from(`content of ${name}`), fileName: `${name}.txt`, mimeType: 'text/plain' }]));
    // Every upload takes 100 ms (a distant Platform); their starts show how many ran at once.
    const starts: number[] = [];
    platform.setFaults((req) => {
      if (req.method !== 'POST' || req.path !== '/api/v2/Files') return undefined;
      starts.push(Date.now());
      return { delayMs: 100 };
    });
    let out;
    try {
      // Named out of their property order: the names' order counts.
      out = await send({ to: rl('address', alice.address), subject: 's', body: 'b', attachments: 'f3, f0, f5, f1, f4, f2' }, { items: [binaryItem({}, files)] });
    } finally {
      platform.setFaults(undefined);
    }
    const received = await getMessage(alice, out[0].json.id as string);
    const contents = await Promise.all(received.attachments.map(async (a) => (await downloadFile(alice, a)).content.toString()));
    expect(contents).toEqual(['f3', 'f0', 'f5', 'f1', 'f4', 'f2'].map((name) => `content of ${name}`));
    const overlapping = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 100).length));
    expect(starts).toHaveLength(6);
    expect(overlapping).toBeGreaterThan(1);
    expect(overlapping).toBeLessThanOrEqual(TRANSFERS_AT_ONCE);
  });

  test('a missing binary property uploads nothing (no orphaned files)', async () => {
    const before = await ownFileCount();
    const items = [binaryItem({}, { data: { data: 'first', fileName: 'a.txt', mimeType: 'text/plain' } })];
    await runNodeError({
      credentials: org.credential,
      items,
      parameters: withOperation('send', { to: rl('address', alice.address), subject: 's', body: 'b', attachments: 'data, missing' }),
    });
    expect(await ownFileCount()).toBe(before);
  });

  test('an invalid address: NodeOperationError that says so', async () => {
    const error = await runNodeError({
      credentials: org.credential,
      parameters: withOperation('send', { to: rl('address', 'did:e:localhost:dids:nonsense'), subject: 's', body: 'b' }),
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('Mail recipient (to): "did:e:localhost:dids:nonsense" has characters other than 0-9 and a-f after ":dids:" ("n", "o", "s")');
    expect(error.context.itemIndex).toBe(0);
    const empty = await runNodeError({ credentials: org.credential, parameters: withOperation('send', { to: rl('list', ''), subject: 's', body: 'b' }) });
    expect(empty.message).toMatch(/recipient|address/);
  });

  test('an address with a typo in its checksum, or of another Platform: the error says which', async () => {
    const typo = alice.address.slice(0, -1) + (alice.address.endsWith('0') ? '1' : '0');
    const checksum = await runNodeError({ credentials: org.credential, parameters: withOperation('send', { to: rl('address', typo), subject: 's', body: 'b' }) });
    expect(checksum.message).toBe(`Mail recipient (to): the last two characters of "${typo}" are its checksum and do not match the rest: a typo? Copy the address again`);
    const fixed = deriveAddress(generateSignatureKeypair().pub.pub, 'backbone.example.org');
    const host = await runNodeError({ credentials: org.credential, parameters: withOperation('send', { to: rl('address', fixed), subject: 's', body: 'b' }) });
    expect(host.message).toBe(`Recipient: "${fixed}" is an address on the Platform "backbone.example.org", not on this Platform "localhost"`);
  });

  test('no relationship with the recipient: an error with a hint what to do', async () => {
    const error = await runNodeError({
      credentials: org.credential,
      parameters: withOperation('send', { to: rl('address', stranger.address), subject: 's', body: 'b' }),
    });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toContain(stranger.address);
    expect(error.description).toContain('Create a relationship');
  });

  test('no relationship with the recipient: the attachments are not uploaded', async () => {
    const before = await ownFileCount();
    await runNodeError({
      credentials: org.credential,
      items: [binaryItem({}, { data: { data: 'report', fileName: 'r.txt', mimeType: 'text/plain' } })],
      parameters: withOperation('send', { to: rl('address', stranger.address), subject: 's', body: 'b', attachments: 'data' }),
    });
    expect(await ownFileCount()).toBe(before);
  });

  test('Continue On Fail: the failing item becomes an error item paired with it; the other items are still sent', async () => {
    const addresses = [alice.address, 'did:e:localhost:dids:nonsense', alice.address];
    const out = await send((i) => ({ to: rl('address', addresses[i]), subject: `item ${i}`, body: 'b' }), {
      items: [{ json: { n: 0 } }, { json: { n: 1 } }, { json: { n: 2 } }],
      continueOnFail: true,
    });
    expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
    expect(out[0].json.subject).toBe('item 0');
    expect(out[1].json.error).toContain('has characters other than 0-9 and a-f');
    expect(out[2].json.subject).toBe('item 2');
    for (const i of [0, 2]) expect((await getMessage(alice, out[i].json.id as string)).content).toMatchObject({ subject: `item ${i}` });
  });

  test('Simplify off: the Connector-like message with recipients and relationship', async () => {
    const out = await send({ to: rl('address', alice.address), subject: 'raw', body: 'b', options: { simplify: false } });
    expect(out[0].json).toMatchObject({ isOwn: true, createdBy: org.address, content: { '@type': 'Mail', subject: 'raw' }, attachments: [] });
    expect((out[0].json.recipients as IDataObject[])[0]).toMatchObject({ address: alice.address });
  });
});

describe('get, getMany, downloadAttachments', () => {
  // A fresh node identity, so the message list holds exactly what this block sends.
  let reader: NodeIdentity;
  let carol: Participant;
  let carolRelationship: string;
  const ids: Record<string, string> = {};
  const created: Record<string, string> = {};
  const files = [
    { content: randomBytes(70_000), filename: 'scan.pdf', mimetype: 'application/pdf' },
    { content: Buffer.from('a,b\n1,2\n'), filename: 'werte.csv', mimetype: 'text/csv' },
  ];

  const run = (operation: string, parameters: INodeParameters, extra: Partial<Parameters<typeof runNode>[0]> = {}) =>
    runNode({ credentials: reader.credential, parameters: withOperation(operation, parameters), ...extra });
  const idsOf = (out: { json: IDataObject }[]) => out.map((o) => o.json.id);

  beforeAll(async () => {
    reader = await nodeIdentity(platform.baseUrl);
    carol = await newParticipant(platform.baseUrl);
    await relate(reader.lib, alice);
    await relate(bob, reader.lib);
    carolRelationship = await relate(reader.lib, carol);
    const mail = (from: Participant, to: string, subject: string) => buildMail({ to: [to], subject, body: `${subject} body` });
    const attachments = await Promise.all(files.map((f) => uploadFile(bob, { ...f, expiresAt: inOneDay() })));
    const steps: [string, () => Promise<{ id: string; createdAt: string }>][] = [
      ['m1', () => sendMessage(alice, { recipients: [reader.address], content: mail(alice, reader.address, 'one') })],
      ['m2', () => sendMessage(bob, { recipients: [reader.address], content: mail(bob, reader.address, 'two'), attachments: attachments.map((a) => a.reference) })],
      ['m3', () => sendMessage(reader.lib, { recipients: [alice.address], content: mail(reader.lib, alice.address, 'three') })],
      ['m4', () => sendMessage(alice, { recipients: [reader.address], content: { '@type': 'ArbitraryMessageContent', value: 4 }, attachments: [attachments[1].reference] })],
      ['m5', () => sendMessage(bob, { recipients: [reader.address], content: mail(bob, reader.address, 'five') })],
    ];
    for (const [name, step] of steps) {
      const m = await step();
      ids[name] = m.id;
      created[name] = m.createdAt;
      await sleep(5); // distinct createdAt
    }
  });

  test('getMany: received messages, newest first (default)', async () => {
    const out = await run('getMany', { returnAll: true });
    expect(idsOf(out)).toEqual([ids.m5, ids.m4, ids.m2, ids.m1]);
    expect(out[0].json).toMatchObject({ from: bob.address, subject: 'five', to: [reader.address] });
    expect(out[1].json).toMatchObject({ type: 'ArbitraryMessageContent', content: { '@type': 'ArbitraryMessageContent', value: 4 } });
  });

  test('getMany: direction sent / both', async () => {
    expect(idsOf(await run('getMany', { returnAll: true, filters: { direction: 'sent' } }))).toEqual([ids.m3]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { direction: 'both' } }))).toEqual([ids.m5, ids.m4, ids.m3, ids.m2, ids.m1]);
  });

  test('getMany: peers, since, hasAttachments', async () => {
    expect(idsOf(await run('getMany', { returnAll: true, filters: { peers: bob.address } }))).toEqual([ids.m5, ids.m2]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { peers: `${bob.address}, ${alice.address}` } }))).toEqual([ids.m5, ids.m4, ids.m2, ids.m1]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { direction: 'both', peers: alice.address } }))).toEqual([ids.m4, ids.m3, ids.m1]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { since: created.m4 } }))).toEqual([ids.m5, ids.m4]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { hasAttachments: true } }))).toEqual([ids.m4, ids.m2]);
    expect(idsOf(await run('getMany', { returnAll: true, filters: { hasAttachments: false } }))).toEqual([ids.m5, ids.m1]);
  });

  test('getMany: Return All off takes Limit (newest first); every item paired with the input item', async () => {
    const out = await run('getMany', { returnAll: false, limit: 2 });
    expect(idsOf(out)).toEqual([ids.m5, ids.m4]);
    expect(out.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
    expect(idsOf(await run('getMany', {}))).toHaveLength(4); // default limit 50
  });

  test('getMany, Simplify off: Connector-like messages with the relationship of each received one', async () => {
    const out = await run('getMany', { returnAll: false, limit: 1, simplify: false });
    expect(out[0].json).toMatchObject({ id: ids.m5, isOwn: false, createdBy: bob.address, content: { '@type': 'Mail', subject: 'five' } });
    expect((out[0].json.recipients as IDataObject[])[0]).toMatchObject({ address: reader.address, relationshipId: expect.stringMatching(/^REL/) });
  });

  test('get: one message, simplified or raw; an unknown id is an error', async () => {
    const [simple] = await run('get', { messageId: ` ${ids.m2} ` });
    expect(simple.json).toMatchObject({ id: ids.m2, from: bob.address, subject: 'two', body: 'two body', attachments: expect.any(Array) });
    expect(simple.json.attachments).toHaveLength(2);
    const [raw] = await run('get', { messageId: ids.m3, simplify: false });
    expect(raw.json).toMatchObject({ id: ids.m3, isOwn: true, content: { '@type': 'Mail', subject: 'three' } });
    const error = await runNodeError({ credentials: reader.credential, parameters: withOperation('get', { messageId: 'MSGAAAAAAAAAAAAAAAAA' }) });
    expect(error.message).toContain('MSGAAAAAAAAAAAAAAAAA');
  });

  test('get with an empty Message ID (e.g. an expression that gave nothing): an error naming the parameter', async () => {
    const error = await runNodeError({ credentials: reader.credential, parameters: withOperation('get', { messageId: '' }) });
    expect(error.message).toMatch(/Message ID/i);
  });

  test('downloadAttachments: binary properties attachment_0, attachment_1 with the files, names and types', async () => {
    const [out] = await run('downloadAttachments', { messageId: ids.m2 });
    expect(Object.keys(out.binary ?? {})).toEqual(['attachment_0', 'attachment_1']);
    files.forEach((f, i) => {
      const binary = out.binary![`attachment_${i}`];
      expect(binaryBuffer(binary).equals(f.content)).toBe(true);
      expect(binary).toMatchObject({ fileName: f.filename, mimeType: f.mimetype, bytes: f.content.length });
    });
    expect(out.json).toMatchObject({ id: ids.m2, subject: 'two' });
    expect(out.json.attachments).toEqual([
      { property: 'attachment_0', id: expect.stringMatching(/^FIL/), filename: 'scan.pdf', mimetype: 'application/pdf', size: files[0].content.length },
      { property: 'attachment_1', id: expect.stringMatching(/^FIL/), filename: 'werte.csv', mimetype: 'text/csv', size: files[1].content.length },
    ]);
  });

  test('downloadAttachments: another prefix, filesystem binary mode; a message without attachments gives no binary', async () => {
    const [out] = await run('downloadAttachments', { messageId: ids.m4, binaryPrefix: 'file_' }, { binaryMode: 'filesystem' });
    expect(Object.keys(out.binary ?? {})).toEqual(['file_0']);
    expect(out.binary!.file_0.data).toBe('filesystem-v2');
    expect(binaryBuffer(out.binary!.file_0).equals(files[1].content)).toBe(true);
    const [none] = await run('downloadAttachments', { messageId: ids.m1 });
    expect(none.binary).toBeUndefined();
    expect(none.json.attachments).toEqual([]);
  });

  test('getMany reports a message that cannot be verified as an item with the error, not dropped; get fails on it', async () => {
    const forged = await sendUnreadable(carol, reader.address, carolRelationship, 'badSignature');
    const out = await run('getMany', { returnAll: true, filters: { peers: carol.address } });
    expect(out).toHaveLength(1);
    expect(out[0].json).toMatchObject({ id: forged, createdBy: carol.address, errorCode: 'protocol.message.signatureInvalid' });
    expect(out[0].json.error).toContain(forged);
    const error = await runNodeError({ credentials: reader.credential, parameters: withOperation('get', { messageId: forged }) });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.description).toContain('protocol.message.signatureInvalid');
  });
});
