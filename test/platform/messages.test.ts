import { b64u, createIdentity, expectError, messageBody, relate, withPlatform, type PlatformHandle } from './helpers';
import { anonymousAddress } from '../../platform/util';

let platform: PlatformHandle;
let base: string;
beforeAll(async () => {
  platform = await withPlatform();
  base = platform.baseUrl;
});
afterAll(() => platform.close());

describe('messages', () => {
  it('send, recipient sees only its own entry, first fetch marks received', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    expectError(await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) }), 400, 'error.platform.validation.message.noRelationshipToRecipientExists');
    await relate(a, b);
    await a.sync();
    await b.sync();
    const sent = await a.req('POST', '/api/v2/Messages', { json: { ...messageBody([b.address], 'body-1'), attachments: [{ id: 'FILaaaaaaaaaaaaaaaaa' }] } });
    expect(sent.status).toBe(201);
    expect(Object.keys(sent.body.result).sort()).toEqual(['createdAt', 'id']);
    const id = sent.body.result.id;
    expect(id).toMatch(/^MSG[A-Za-z0-9]{17}$/);
    expect(await b.sync()).toEqual([expect.objectContaining({ type: 'MessageReceived', payload: { id } })]);

    const asSender = await a.req('GET', `/api/v2/Messages/${id}`);
    expect(asSender.body.result).toMatchObject({
      id,
      createdBy: a.address,
      createdByDevice: a.deviceId,
      body: b64u('body-1'),
      attachments: [{ id: 'FILaaaaaaaaaaaaaaaaa' }],
      recipients: [{ address: b.address, encryptedKey: b64u('k'.repeat(40)), receivedAt: null, receivedByDevice: null }],
    });
    const asRecipient = await b.req('GET', `/api/v2/Messages/${id}`);
    expect(asRecipient.body.result.recipients).toHaveLength(1);
    expect(asRecipient.body.result.recipients[0]).toMatchObject({ address: b.address, receivedByDevice: b.deviceId });
    const receivedAt = asRecipient.body.result.recipients[0].receivedAt;
    expect(receivedAt).toMatch(/Z$/);
    expect((await b.req('GET', `/api/v2/Messages/${id}`)).body.result.recipients[0].receivedAt).toBe(receivedAt); // first fetch only
    expect((await a.req('GET', `/api/v2/Messages/${id}`)).body.result.recipients[0].receivedAt).toBe(receivedAt);

    const c = await createIdentity(base);
    expectError(await c.req('GET', `/api/v2/Messages/${id}`), 404, 'error.platform.recordNotFound');
    expectError(await c.req('GET', '/api/v2/Messages/MSG'), 400, 'error.platform.validation.invalidPropertyValue');
    expect((await c.req('GET', `/api/v2/Messages?ids=${id}`)).body.result).toEqual([]);
  });

  it('validates recipients, key and body sizes, duplicate recipients, max recipients (default 1)', async () => {
    const [a, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    await relate(a, b);
    await relate(a, c);
    const bad = async (json: unknown) => expectError(await a.req('POST', '/api/v2/Messages', { json }), 400, 'error.platform.validation.invalidPropertyValue');
    await bad(messageBody([b.address, c.address]));
    await bad(messageBody([]));
    await bad({ ...messageBody([b.address]), body: '' });
    await bad({ recipients: [{ address: b.address, encryptedKey: b64u('short') }], body: b64u('x') });
    await bad({ recipients: [{ address: 'not-an-address', encryptedKey: b64u('k'.repeat(40)) }], body: b64u('x') });
    await bad({ ...messageBody([b.address]), attachments: [{ id: 'bad' }] });
    platform.configure({ maxNumberOfMessageRecipients: 20 });
    try {
      await bad(messageBody([b.address, b.address]));
      expect((await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address, c.address]) })).status).toBe(201);
    } finally {
      platform.configure({ maxNumberOfMessageRecipients: 1 });
    }
    const list = await c.req('GET', '/api/v2/Messages');
    expect(list.body.result).toHaveLength(1);
    expect(list.body.result[0].recipients.map((r: any) => r.address)).toEqual([c.address]);
  });

  it('max unreceived messages per sender; list fetch marks received', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    await relate(a, b);
    platform.configure({ maxUnreceivedMessages: 3 });
    try {
      for (let i = 0; i < 3; i++) expect((await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) })).status).toBe(201);
      expectError(await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) }), 400, 'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached');
      // sender fetches change nothing
      await a.req('GET', '/api/v2/Messages');
      expectError(await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) }), 400, 'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached');
      const page = await b.req('GET', '/api/v2/Messages?pageSize=2');
      expect(page.body.result).toHaveLength(2);
      expect(page.body.pagination).toEqual({ pageNumber: 1, pageSize: 2, totalPages: 2, totalRecords: 3 });
      expect(page.body.result.every((m: any) => m.recipients[0].receivedAt)).toBe(true);
      expect((await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) })).status).toBe(201);
      expect((await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) })).status).toBe(201);
      expectError(await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) }), 400, 'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached');
    } finally {
      platform.configure({ maxUnreceivedMessages: 20 });
    }
  });

  it('MessageReceived is held back while Pending and released on accept; deleted on reject', async () => {
    const [a, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    const rel = await relate(a, b, false); // b → a, Pending
    await a.sync();
    const m = await b.req('POST', '/api/v2/Messages', { json: messageBody([a.address]) });
    expect(m.status).toBe(201);
    expect(await a.sync()).toEqual([]);
    await a.req('PUT', `/api/v2/Relationships/${rel}/Accept`, { json: {} });
    expect((await a.sync()).map((e) => e.type)).toEqual(['MessageReceived']);

    const rel2 = await relate(a, c, false);
    await a.sync();
    await c.req('POST', '/api/v2/Messages', { json: messageBody([a.address]) });
    await a.req('PUT', `/api/v2/Relationships/${rel2}/Reject`, { json: {} });
    expect(await a.sync()).toEqual([]);
    expect((await a.req('GET', '/api/v2/Messages')).body.result.map((x: any) => x.createdBy)).toEqual([b.address, c.address]);
    // no messages on a rejected relationship
    expectError(await c.req('POST', '/api/v2/Messages', { json: messageBody([a.address]) }), 400, 'error.platform.validation.message.relationshipToRecipientNotActive');
  });

  it('held back while Terminated, released on reactivation; decomposition hides and anonymises', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    const rel = await relate(a, b);
    await a.sync();
    await b.sync();
    await a.req('PUT', `/api/v2/Relationships/${rel}/Terminate`);
    await b.sync();
    const m = await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address]) });
    expect(m.status).toBe(201);
    expect(await b.sync()).toEqual([]);
    await a.req('PUT', `/api/v2/Relationships/${rel}/Reactivate`);
    await b.req('PUT', `/api/v2/Relationships/${rel}/Reactivate/Accept`);
    expect((await b.sync()).map((e) => e.type)).toEqual(['MessageReceived', 'RelationshipReactivationRequested']); // by index

    await b.req('PUT', `/api/v2/Relationships/${rel}/Terminate`);
    await a.req('PUT', `/api/v2/Relationships/${rel}/Decompose`);
    // the sender decomposed towards its only recipient: message gone for it
    const listed = async (who: typeof a) => ((await who.req('GET', '/api/v2/Messages')).body.result as any[]).map((x) => x.id);
    expectError(await a.req('GET', `/api/v2/Messages/${m.body.result.id}`), 404, 'error.platform.recordNotFound');
    expect(await listed(a)).not.toContain(m.body.result.id);
    expect((await b.req('GET', `/api/v2/Messages/${m.body.result.id}`)).status).toBe(200);
    expect(await listed(b)).toContain(m.body.result.id);
    await b.req('PUT', `/api/v2/Relationships/${rel}/Decompose`);
    expectError(await b.req('GET', `/api/v2/Messages/${m.body.result.id}`), 404, 'error.platform.recordNotFound');
    expect(await listed(b)).not.toContain(m.body.result.id);
    expect(anonymousAddress('localhost')).toBe('did:e:localhost:dids:3a29ae5c1f591bbd9a2aaa');
  });

  it('a sender that decomposed towards one of several recipients sees it as the anonymised address', async () => {
    const [a, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    const rb = await relate(a, b);
    await relate(a, c);
    platform.configure({ maxNumberOfMessageRecipients: 20 });
    try {
      const m = (await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address, c.address]) })).body.result.id;
      await a.req('PUT', `/api/v2/Relationships/${rb}/Terminate`);
      await a.req('PUT', `/api/v2/Relationships/${rb}/Decompose`);
      const seen = await a.req('GET', `/api/v2/Messages/${m}`);
      expect(seen.body.result.recipients.map((r: any) => r.address)).toEqual(['did:e:localhost:dids:3a29ae5c1f591bbd9a2aaa', c.address]);
      // the list shows the same (and to b, who did not decompose, only b's entry)
      const list = (await a.req('GET', '/api/v2/Messages')).body.result.find((x: any) => x.id === m);
      expect(list.recipients.map((r: any) => r.address)).toEqual(['did:e:localhost:dids:3a29ae5c1f591bbd9a2aaa', c.address]);
      expect((await b.req('GET', '/api/v2/Messages')).body.result.find((x: any) => x.id === m).recipients.map((r: any) => r.address)).toEqual([b.address]);
      expect((await c.req('GET', `/api/v2/Messages/${m}`)).body.result.recipients.map((r: any) => r.address)).toEqual([c.address]);
    } finally {
      platform.configure({ maxNumberOfMessageRecipients: 1 });
    }
  });

  it('quota NumberOfSentMessages answers 429 before the relationship check', async () => {
    const a = await createIdentity(base);
    platform.setQuotas([{ metric: 'NumberOfSentMessages', max: 0, period: 'Hour' }]);
    try {
      const res = await a.req('POST', '/api/v2/Messages', { json: messageBody(['did:e:localhost:dids:0000000000000000000000']) });
      expectError(res, 429, 'error.platform.quotaExhausted');
      expect(res.body.error.data[0]).toEqual({ metricKey: 'NumberOfSentMessages', isExhaustedUntil: expect.stringMatching(/:59:59\.999Z$/) });
    } finally {
      platform.setQuotas([]);
    }
  });
});
