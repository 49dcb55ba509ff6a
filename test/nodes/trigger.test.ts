/**
 * Enmeshed Trigger: n8n's polling life cycle, driven by hand — a new node instance and a new poll
 * context per poll (as n8n does), one static-data object per workflow node, JSON round trips where
 * n8n stores it. Peers are lib/protocol participants that send and change relationships.
 */
import { randomBytes } from 'node:crypto';
import { NodeApiError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  acceptRelationship,
  buildMail,
  changeRelationship,
  createTemplate,
  deleteOwnFile,
  loadTemplate,
  requestRelationship,
  sendMessage,
  uploadFile,
  type Participant,
} from '../../lib/protocol';
import { TRANSFERS_AT_ONCE } from '../../nodes/shared/limited';
import { newParticipant } from '../helpers/participants';
import { startProxy } from '../helpers/proxy';
import { binaryBuffer, pollContext, type BinaryMode } from './context';
import { relate } from '../helpers/relate';
import { inOneDay, nodeIdentity, poll, runNode, sendUnreadable, sleep, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;
let bob: Participant;
let aliceRelationship: string;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice, bob] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  aliceRelationship = await relate(org.lib, alice);
  await relate(bob, org.lib);
});
afterAll(() => platform?.close());

const MESSAGES: INodeParameters = { events: ['messageReceived'] };

/** One poll, as n8n runs it: a new node instance and a new context around the workflow's static data. */
function trigger(parameters: INodeParameters, staticData: IDataObject, mode: 'trigger' | 'manual' = 'trigger', binaryMode: BinaryMode = 'default') {
  return poll(pollContext({ parameters, credentials: org.credential, mode, staticData, binaryMode }));
}

async function mail(from: Participant, subject: string, attachments: { content: Buffer; filename: string; mimetype: string }[] = []): Promise<string> {
  const files = await Promise.all(attachments.map((a) => uploadFile(from, { ...a, expiresAt: inOneDay() })));
  const sent = await sendMessage(from, {
    recipients: [org.address],
    content: buildMail({ to: [org.address], subject, body: `${subject} body` }),
    attachments: files.map((f) => f.reference),
  });
  await sleep(3); // distinct createdAt, so "oldest first" is well defined
  return sent.id;
}

const idsOf = (items: { json: IDataObject }[] | null) => (items ?? []).map((i) => i.json.id);

describe('messages', () => {
  test('the first active poll seeds and emits nothing; then exactly the new messages, oldest first, exactly once', async () => {
    await mail(alice, 'before activation');
    const staticData: IDataObject = {};
    expect(await trigger(MESSAGES, staticData)).toBeNull();
    expect(staticData.cursor).toMatchObject({ v: 1, messages: { total: expect.any(Number) } });

    const ids = [await mail(alice, 'n1'), await mail(bob, 'n2'), await mail(alice, 'n3')];
    const out = await trigger(MESSAGES, staticData);
    expect(idsOf(out)).toEqual(ids);
    expect(out!.map((i) => [i.json.event, i.json.subject, i.json.from])).toEqual([
      ['messageReceived', 'n1', alice.address],
      ['messageReceived', 'n2', bob.address],
      ['messageReceived', 'n3', alice.address],
    ]);
    expect(out![0].json).toMatchObject({ to: [org.address], body: 'n1 body', attachments: [] });
    expect(await trigger(MESSAGES, staticData)).toBeNull();
    expect(await trigger(MESSAGES, staticData)).toBeNull();
  });

  test('"Fetch Test Event" (manual): the newest message as a sample; static data untouched', async () => {
    const staticData: IDataObject = {};
    expect(await trigger(MESSAGES, staticData)).toBeNull();
    const newest = await mail(bob, 'sample');
    const before = JSON.stringify(staticData);
    const sample = await trigger(MESSAGES, staticData, 'manual');
    expect(idsOf(sample)).toEqual([newest]);
    expect(sample![0].json).toMatchObject({ event: 'messageReceived', subject: 'sample' });
    expect(JSON.stringify(staticData)).toBe(before);
    // the active trigger still delivers it: the manual run did not move the cursor
    expect(idsOf(await trigger(MESSAGES, staticData))).toEqual([newest]);
    // a manual run on a workflow that was never active leaves its static data empty
    const fresh: IDataObject = {};
    await trigger(MESSAGES, fresh, 'manual');
    expect(fresh).toEqual({});
  });

  test('our own messages are not events', async () => {
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    await sendMessage(org.lib, { recipients: [alice.address], content: { '@type': 'ArbitraryMessageContent', value: 'outgoing' } });
    await runNode({ credentials: org.credential, parameters: { resource: 'message', operation: 'send', to: { mode: 'address', value: bob.address }, subject: 'out', body: 'b' } });
    expect(await trigger(MESSAGES, staticData)).toBeNull();
  });

  test('filters: From Peers, With / Without Attachments', async () => {
    const fromBob: IDataObject = {};
    const withFiles: IDataObject = {};
    const withoutFiles: IDataObject = {};
    const params = {
      fromBob: { ...MESSAGES, options: { peers: bob.address } },
      withFiles: { ...MESSAGES, options: { attachments: 'with' } },
      withoutFiles: { ...MESSAGES, options: { attachments: 'without' } },
    };
    await trigger(params.fromBob, fromBob);
    await trigger(params.withFiles, withFiles);
    await trigger(params.withoutFiles, withoutFiles);
    const plain = await mail(alice, 'plain');
    const attached = await mail(alice, 'attached', [{ content: Buffer.from('x'), filename: 'x.txt', mimetype: 'text/plain' }]);
    const bobs = await mail(bob, 'from bob');
    expect(idsOf(await trigger(params.fromBob, fromBob))).toEqual([bobs]);
    expect(idsOf(await trigger(params.withFiles, withFiles))).toEqual([attached]);
    expect(idsOf(await trigger(params.withoutFiles, withoutFiles))).toEqual([plain, bobs]);
    for (const [name, data] of Object.entries({ fromBob, withFiles, withoutFiles })) {
      expect(await trigger(params[name as keyof typeof params], data)).toBeNull();
    }
  });

  test('Download Attachments: the files as binary data on the item (memory and filesystem binary modes)', async () => {
    const files = [
      { content: randomBytes(90_000), filename: 'Befund.pdf', mimetype: 'application/pdf' },
      { content: Buffer.from('Grüße ✓'), filename: 'Notiz.txt', mimetype: 'text/plain' },
    ];
    const memory: IDataObject = {};
    const filesystem: IDataObject = {};
    const withDownload = { ...MESSAGES, options: { downloadAttachments: true } };
    const withPrefix = { ...MESSAGES, options: { downloadAttachments: true, binaryPrefix: 'doc_' } };
    await trigger(withDownload, memory);
    await trigger(withPrefix, filesystem, 'trigger', 'filesystem');
    const id = await mail(alice, 'two files', files);

    const [item] = (await trigger(withDownload, memory))!;
    expect(item.json).toMatchObject({ id, subject: 'two files' });
    expect(Object.keys(item.binary ?? {})).toEqual(['attachment_0', 'attachment_1']);
    files.forEach((f, i) => {
      expect(binaryBuffer(item.binary![`attachment_${i}`]).equals(f.content)).toBe(true);
      expect(item.binary![`attachment_${i}`]).toMatchObject({ fileName: f.filename, mimeType: f.mimetype, bytes: f.content.length });
    });
    expect(item.json.attachmentFiles).toEqual(files.map((f, i) => ({ property: `attachment_${i}`, id: expect.stringMatching(/^FIL/), filename: f.filename, mimetype: f.mimetype, size: f.content.length })));

    const [other] = (await trigger(withPrefix, filesystem, 'trigger', 'filesystem'))!;
    expect(Object.keys(other.binary ?? {})).toEqual(['doc_0', 'doc_1']);
    expect(other.binary!.doc_0.data).toBe('filesystem-v2');
    expect(binaryBuffer(other.binary!.doc_0).equals(files[0].content)).toBe(true);
  });

  test('Download Attachments over a poll of several messages: a few downloads at once, items in order; a file that is gone fails only its own message', async () => {
    const staticData: IDataObject = {};
    const withDownload = { ...MESSAGES, options: { downloadAttachments: true } };
    await trigger(withDownload, staticData);
    const sent: { id: string; files: Buffer[] }[] = [];
    for (let m = 0; m < 6; m++) {
      const files = Array.from({ length: m === 2 ? 3 : 1 }, (_, f) => Buffer.from(`message ${m}, file ${f}`));
      sent.push({ id: await mail(alice, `files ${m}`, files.map((content, f) => ({ content, filename: `m${m}f${f}.txt`, mimetype: 'text/plain' }))), files });
    }
    // The sender deletes the file of message 4: the Platform no longer serves it.
    const gone = (await alice.client.getMessage(sent[4].id)).attachments[0].id;
    await deleteOwnFile(alice, gone);
    // Every file request takes 100 ms (a distant Platform); their starts show how many ran at once.
    const starts: number[] = [];
    platform.setFaults((req) => {
      if (req.method !== 'GET' || !req.path.startsWith('/api/v2/Files/')) return undefined;
      starts.push(Date.now());
      return { delayMs: 100 };
    });
    let items;
    try {
      items = (await trigger(withDownload, staticData))!;
    } finally {
      platform.setFaults(undefined);
    }
    expect(idsOf(items)).toEqual(sent.map((s) => s.id));
    sent.forEach((s, m) => {
      const item = items[m];
      if (m === 4) {
        expect(item.json.attachmentError).toContain(gone);
        expect(item.binary).toBeUndefined();
        return;
      }
      expect(item.json.attachmentError).toBeUndefined();
      expect(Object.keys(item.binary ?? {})).toEqual(s.files.map((_, f) => `attachment_${f}`));
      s.files.forEach((content, f) => expect(binaryBuffer(item.binary![`attachment_${f}`]).equals(content)).toBe(true));
    });
    // At most TRANSFERS_AT_ONCE downloads overlap (each is a metadata and a blob request), and more than one does.
    const overlapping = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 100).length));
    expect(overlapping).toBeGreaterThan(1);
    expect(overlapping).toBeLessThanOrEqual(TRANSFERS_AT_ONCE);
    expect(await trigger(withDownload, staticData)).toBeNull();
  });

  test('a message that cannot be decrypted or verified is emitted as an error item (not dropped), once', async () => {
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    const forgedSignature = await sendUnreadable(alice, org.address, aliceRelationship, 'badSignature');
    const wrongKey = await sendUnreadable(alice, org.address, aliceRelationship, 'wrongBodyKey');
    const fine = await mail(alice, 'fine');
    const out = await trigger(MESSAGES, staticData);
    expect(idsOf(out)).toEqual([forgedSignature, wrongKey, fine]);
    expect(out![0].json).toMatchObject({ event: 'messageReceived', id: forgedSignature, createdBy: alice.address, errorCode: 'protocol.message.signatureInvalid' });
    expect(out![1].json).toMatchObject({ event: 'messageReceived', id: wrongKey, createdBy: alice.address, errorCode: 'protocol.message.undecryptable' });
    expect(out![0].json.error).toContain(forgedSignature);
    expect(out![0].json.subject).toBeUndefined();
    expect(out![2].json).toMatchObject({ id: fine, subject: 'fine' });
    expect(await trigger(MESSAGES, staticData)).toBeNull();
  });

  test('static data survives a JSON round trip and a restart: nothing re-delivered, the next message exactly once', async () => {
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    const first = await mail(alice, 'before restart');
    expect(idsOf(await trigger(MESSAGES, staticData))).toEqual([first]);

    // n8n saves the static data as JSON with the execution; after a restart it starts from that
    const restored = JSON.parse(JSON.stringify(staticData)) as IDataObject;
    expect(restored).toEqual(staticData);
    expect(await trigger(MESSAGES, restored)).toBeNull();
    const second = await mail(bob, 'after restart');
    expect(idsOf(await trigger(MESSAGES, restored))).toEqual([second]);
    expect(await trigger(MESSAGES, JSON.parse(JSON.stringify(restored)) as IDataObject)).toBeNull();
  });

  test('a poll that returned nothing is not saved by n8n: restarting from the last saved state re-delivers nothing', async () => {
    const params = { ...MESSAGES, options: { peers: bob.address } };
    const staticData: IDataObject = {};
    await trigger(params, staticData);
    const saved = JSON.stringify(staticData); // saved at activation
    await mail(alice, 'filtered out');
    expect(await trigger(params, staticData)).toBeNull(); // cursor moved in memory only
    const restarted = JSON.parse(saved) as IDataObject;
    expect(await trigger(params, restarted)).toBeNull();
    const wanted = await mail(bob, 'wanted');
    expect(idsOf(await trigger(params, restarted))).toEqual([wanted]);
    expect(await trigger(params, restarted)).toBeNull();
  });

  test('a backlog of more than one page (120 messages): 100 in the first poll, the rest in the next, each once, in order', async () => {
    const hank = await newParticipant(platform.baseUrl);
    await relate(org.lib, hank);
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    platform.configure({ maxUnreceivedMessages: 500 });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 120; i++) {
        ids.push((await sendMessage(hank, { recipients: [org.address], content: { '@type': 'ArbitraryMessageContent', value: i } })).id);
        await sleep(1);
      }
    } finally {
      platform.configure({ maxUnreceivedMessages: 20 });
    }
    const first = await trigger(MESSAGES, staticData);
    expect(idsOf(first)).toEqual(ids.slice(0, 100));
    expect(idsOf(await trigger(MESSAGES, staticData))).toEqual(ids.slice(100));
    expect(await trigger(MESSAGES, staticData)).toBeNull();
    // Get Many walks the same list from its tail, across the page boundary
    const newest = await runNode({
      credentials: org.credential,
      parameters: { resource: 'message', operation: 'getMany', limit: 110, filters: { peers: hank.address } },
    });
    expect(idsOf(newest)).toEqual([...ids].reverse().slice(0, 110));
    expect(newest.map((i) => (i.json.content as IDataObject).value)).toEqual([...Array(110).keys()].map((k) => 119 - k));
  });

  test('a Platform failure fails the poll (NodeApiError) and leaves the cursor; the next poll delivers', async () => {
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    const id = await mail(alice, 'during an outage');
    const before = JSON.stringify(staticData);
    platform.setFaults((req) => (req.method === 'GET' && req.path.toLowerCase() === '/api/v2/messages' ? '500' : undefined));
    try {
      const outcome = await trigger(MESSAGES, staticData).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(NodeApiError);
    } finally {
      platform.setFaults(undefined);
    }
    expect(JSON.stringify(staticData)).toBe(before);
    expect(idsOf(await trigger(MESSAGES, staticData))).toEqual([id]);
  });
});

describe('relationships', () => {
  const EVENTS: INodeParameters = { events: ['relationshipRequestReceived', 'relationshipStatusChanged'] };

  test('a request on our template is emitted once; a peer terminating is emitted once, with the old status', async () => {
    const dave = await newParticipant(platform.baseUrl);
    const daveRelationship = await relate(org.lib, dave);
    const staticData: IDataObject = {};
    expect(await trigger(EVENTS, staticData)).toBeNull();
    expect(await trigger(EVENTS, staticData)).toBeNull();

    const carol = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'join' }, expiresAt: inOneDay() });
    const request = await requestRelationship(carol, await loadTemplate(carol, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'carol' });
    const requested = await trigger(EVENTS, staticData);
    expect(requested).toHaveLength(1);
    expect(requested![0].json).toMatchObject({ event: 'relationshipRequestReceived', id: request.id, status: 'Pending', role: 'Templator', peer: carol.address });
    expect(await trigger(EVENTS, staticData)).toBeNull();

    await changeRelationship(dave, daveRelationship, 'terminate');
    const changed = await trigger(EVENTS, staticData);
    expect(changed).toHaveLength(1);
    expect(changed![0].json).toMatchObject({ event: 'relationshipStatusChanged', id: daveRelationship, status: 'Terminated', oldStatus: 'Active', peer: dave.address });
    expect(await trigger(EVENTS, staticData)).toBeNull();
    // restarted from the saved JSON: nothing again
    expect(await trigger(EVENTS, JSON.parse(JSON.stringify(staticData)) as IDataObject)).toBeNull();
  });

  test('only the chosen kind: a trigger for requests ignores status changes, and the other way round', async () => {
    const requestsOnly: IDataObject = {};
    const changesOnly: IDataObject = {};
    await trigger({ events: ['relationshipRequestReceived'] }, requestsOnly);
    await trigger({ events: ['relationshipStatusChanged'] }, changesOnly);
    const erin = await newParticipant(platform.baseUrl);
    const erinRelationship = await relate(erin, org.lib); // we request on erin's template; erin accepts
    const frank = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'x' }, expiresAt: inOneDay() });
    const request = await requestRelationship(frank, await loadTemplate(frank, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'f' });

    expect(idsOf(await trigger({ events: ['relationshipRequestReceived'] }, requestsOnly))).toEqual([request.id]);
    const changes = await trigger({ events: ['relationshipStatusChanged'] }, changesOnly);
    expect(changes?.map((i) => [i.json.id, i.json.status])).toEqual([[erinRelationship, 'Active']]);
  });

  test('a request event carries what the requestor sent: creation content and identity', async () => {
    const staticData: IDataObject = {};
    const requests = { events: ['relationshipRequestReceived'] };
    await trigger(requests, staticData);
    const ida = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'x' }, expiresAt: inOneDay() });
    const answer = { '@type': 'ArbitraryRelationshipCreationContent', value: { customerNumber: 'K-1' } };
    await requestRelationship(ida, await loadTemplate(ida, template.truncatedReference), answer);
    const [item] = (await trigger(requests, staticData))!;
    expect(item.json).toMatchObject({ peer: ida.address, creationContent: answer, peerIdentity: { address: ida.address } });
  });

  test('a request that does not verify is an error item, never a "Relationship Request Received"; emitted once', async () => {
    const proxy = await startProxy(platform.baseUrl);
    try {
      // The trigger's identity reads through a Platform that changes the signed request it hands out.
      const credentials = { ...org.credential, platformUrl: proxy.baseUrl };
      const staticData: IDataObject = {};
      const run = () => poll(pollContext({ parameters: EVENTS, credentials, mode: 'trigger', staticData }));
      expect(await run()).toBeNull();
      const mallory = await newParticipant(platform.baseUrl);
      const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'x' }, expiresAt: inOneDay() });
      const request = await requestRelationship(mallory, await loadTemplate(mallory, template.truncatedReference), {
        '@type': 'ArbitraryRelationshipCreationContent',
        value: 'I want in',
      });
      proxy.rewriteJson('GET', new RegExp(`^/api/v2/Relationships/${request.id}$`), (json: { result: { creationContent: string } }) => {
        const outer = JSON.parse(Buffer.from(json.result.creationContent, 'base64url').toString('utf8')) as { cipher: { cph: string } };
        const cph = Buffer.from(outer.cipher.cph, 'base64url');
        cph[cph.length >> 1] ^= 1;
        outer.cipher.cph = cph.toString('base64url');
        json.result.creationContent = Buffer.from(JSON.stringify(outer), 'utf8').toString('base64url');
      });
      const out = await run();
      expect(out).toHaveLength(1);
      expect(out![0].json).toMatchObject({ event: 'relationshipRequestReceived', id: request.id, peer: mallory.address, errorCode: 'protocol.relationship.invalid' });
      expect(out![0].json.error).toContain(request.id);
      expect(out![0].json.status).toBeUndefined();
      expect(out![0].json.creationContent).toBeUndefined();
      expect(await run()).toBeNull();
    } finally {
      await proxy.close();
    }
  });

  test('adding relationship events to an active message trigger does not emit the existing relationships', async () => {
    const staticData: IDataObject = {};
    await trigger(MESSAGES, staticData);
    await mail(alice, 'still only messages');
    await trigger(MESSAGES, staticData);
    // the user edits the published workflow: n8n keeps the node's static data
    expect(await trigger({ events: ['messageReceived', 'relationshipStatusChanged'] }, staticData)).toBeNull();
  });

  test('messages and relationship events in one trigger', async () => {
    const staticData: IDataObject = {};
    const all = { events: ['messageReceived', 'relationshipRequestReceived', 'relationshipStatusChanged'] };
    expect(await trigger(all, staticData)).toBeNull();
    const gina = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'x' }, expiresAt: inOneDay() });
    const request = await requestRelationship(gina, await loadTemplate(gina, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'g' });
    const message = await mail(alice, 'mixed');
    const out = await trigger(all, staticData);
    expect(out?.map((i) => [i.json.event, i.json.id])).toEqual([
      ['messageReceived', message],
      ['relationshipRequestReceived', request.id],
    ]);
    await acceptRelationship(org.lib, request.id);
    expect(await trigger(all, staticData)).toBeNull();
  });
});

