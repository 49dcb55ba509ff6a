import { b64u, createIdentity, expectError, relate, withPlatform, type Identity, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
let base: string;
beforeAll(async () => {
  platform = await withPlatform();
  base = platform.baseUrl;
});
afterAll(() => platform.close());

const createTemplate = async (owner: Identity, extra: Record<string, unknown> = {}) => {
  const res = await owner.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('tpl'), ...extra } });
  if (res.status !== 201) throw new Error(res.text);
  return res.body.result.id as string;
};

describe('relationship templates', () => {
  it('create and GET with allocation, exhaustion event, owner exemption', async () => {
    const [owner, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    const res = await owner.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('tpl'), maxNumberOfAllocations: 1 } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body.result).sort()).toEqual(['createdAt', 'id']);
    const id = res.body.result.id;
    expect(id).toMatch(/^RLT[A-Za-z0-9]{17}$/);
    expect((await owner.req('GET', `/api/v2/RelationshipTemplates/${id}`)).status).toBe(200); // owner: no allocation
    const got = await b.req('GET', `/api/v2/RelationshipTemplates/${id}`);
    expect(got.body.result).toMatchObject({
      id,
      createdBy: owner.address,
      createdByDevice: owner.deviceId,
      maxNumberOfAllocations: 1,
      expiresAt: null,
      content: b64u('tpl'),
      forIdentity: null,
    });
    expect((await b.req('GET', `/api/v2/RelationshipTemplates/${id}`)).status).toBe(200); // allocated once, again fine
    expectError(await c.req('GET', `/api/v2/RelationshipTemplates/${id}`), 400, 'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted');
    const events = await owner.sync();
    expect(events).toEqual([expect.objectContaining({ type: 'RelationshipTemplateAllocationsExhausted', payload: { relationshipTemplateId: id } })]);
    expectError(await b.req('GET', '/api/v2/RelationshipTemplates/RLTaaaaaaaaaaaaaaaaa'), 404, 'error.platform.recordNotFound');
    expectError(await b.req('GET', '/api/v2/RelationshipTemplates/nope'), 400, 'error.platform.validation.invalidPropertyValue');
  });

  it('expiry, forIdentity and password; list semantics; delete', async () => {
    const [owner, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    expectError(
      await owner.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('x'), expiresAt: '2000-01-01T00:00:00.000Z' } }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    expectError(
      await owner.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('x'), maxNumberOfAllocations: 0 } }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    const expiring = await createTemplate(owner, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const forB = await createTemplate(owner, { forIdentity: b.address });
    const pw = Buffer.from('password-hash-bytes').toString('base64');
    const withPw = await createTemplate(owner, { password: pw });

    expect((await c.req('GET', `/api/v2/RelationshipTemplates/${forB}`)).status).toBe(404);
    expect((await b.req('GET', `/api/v2/RelationshipTemplates/${forB}`)).status).toBe(200);
    expect((await c.req('GET', `/api/v2/RelationshipTemplates/${withPw}`)).status).toBe(404);
    expect((await c.req('GET', `/api/v2/RelationshipTemplates/${withPw}?password=${encodeURIComponent(Buffer.from('wrong').toString('base64'))}`)).status).toBe(404);
    expect((await c.req('GET', `/api/v2/RelationshipTemplates/${withPw}?password=${encodeURIComponent(pw)}`)).status).toBe(200);
    expect((await c.req('GET', `/api/v2/RelationshipTemplates/${withPw}`)).status).toBe(200); // allocated → no password needed

    // list: templates.N.id / password, invisible ones left out, no allocation
    const list = await c.req(
      'GET',
      `/api/v2/RelationshipTemplates?templates.0.id=${forB}&templates.1.id=${expiring}&templates.2.id=${withPw}`,
    );
    expect(list.body.result.map((t: any) => t.id).sort()).toEqual([expiring, withPw].sort());
    expect(list.body.pagination).toBeUndefined();
    expect((await c.req('GET', `/api/v2/RelationshipTemplates?ids=${expiring}`)).body.result).toHaveLength(1);
    expectError(await c.req('GET', '/api/v2/RelationshipTemplates'), 400, 'error.platform.validation.invalidPropertyValue');

    // create a relationship from `expiring` (c), then let it expire
    const rel = await c.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: expiring } });
    expect(rel.status).toBe(201);
    platform.advanceClock(120_000);
    try {
      expect((await b.req('GET', `/api/v2/RelationshipTemplates/${expiring}`)).status).toBe(404);
      expect((await c.req('GET', `/api/v2/RelationshipTemplates/${expiring}`)).status).toBe(200); // involved in a relationship
      expect((await owner.req('GET', `/api/v2/RelationshipTemplates/${expiring}`)).status).toBe(200);
    } finally {
      platform.advanceClock(-120_000);
    }
    expectError(await b.req('DELETE', `/api/v2/RelationshipTemplates/${forB}`), 403, 'error.platform.forbidden');
    expect((await owner.req('DELETE', `/api/v2/RelationshipTemplates/${forB}`)).status).toBe(204);
    expect((await b.req('GET', `/api/v2/RelationshipTemplates/${forB}`)).status).toBe(404);
  });
});

describe('relationships', () => {
  it('full lifecycle with events to the right party and the audit log', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    const tpl = await createTemplate(a);
    expect((await b.req('GET', `/api/v2/Relationships/CanCreate?peer=${a.address}`)).body.result).toEqual({ canCreate: true, code: null });
    const created = await b.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: tpl, creationContent: b64u('hi') } });
    expect(created.status).toBe(201);
    const rel = created.body.result;
    expect(rel).toMatchObject({ relationshipTemplateId: tpl, from: b.address, to: a.address, status: 'Pending' });
    expect(rel.creationContent).toBeUndefined();
    expect(rel.auditLog).toEqual([
      { createdAt: expect.any(String), createdBy: b.address, createdByDevice: b.deviceId, reason: 'Creation', oldStatus: null, newStatus: 'Pending' },
    ]);
    const id = rel.id;
    expect((await b.req('GET', `/api/v2/Relationships/CanCreate?peer=${a.address}`)).body.result).toEqual({
      canCreate: false,
      code: 'error.platform.validation.relationship.relationshipToTargetAlreadyExists',
    });
    expectError(await b.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: tpl } }), 400, 'error.platform.validation.relationship.relationshipToTargetAlreadyExists');
    expectError(await a.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: tpl } }), 400, 'error.platform.validation.relationship.cannotCreateRelationshipWithYourself');

    expect(await a.sync()).toEqual([expect.objectContaining({ type: 'RelationshipStatusChanged', payload: { relationshipId: id } })]);
    expect(await b.sync()).toEqual([]);
    const seen = await a.req('GET', `/api/v2/Relationships/${id}`);
    expect(seen.body.result).toMatchObject({ status: 'Pending', creationContent: b64u('hi'), creationResponseContent: null });

    // wrong party / missing body
    expectError(await b.req('PUT', `/api/v2/Relationships/${id}/Accept`, { json: {} }), 400, 'error.platform.validation.relationship.cannotAcceptOrRejectRelationshipAddressedToSomeoneElse');
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Revoke`, { json: {} }), 400, 'error.platform.validation.relationship.cannotRevokeRelationshipNotCreatedByYourself');
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Accept`), 400, 'error.platform.inputCannotBeParsed');
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Terminate`), 400, 'error.platform.validation.relationship.relationshipIsNotInCorrectStatus');

    const accepted = await a.req('PUT', `/api/v2/Relationships/${id}/Accept`, { json: { creationResponseContent: b64u('ok') } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.result.status).toBe('Active');
    expect(await b.sync()).toEqual([expect.objectContaining({ type: 'RelationshipStatusChanged', payload: { relationshipId: id } })]);
    expect(await a.sync()).toEqual([]);
    expect((await b.req('GET', `/api/v2/Relationships/${id}`)).body.result.creationResponseContent).toBe(b64u('ok'));

    // terminate + reactivation round trips
    expect((await b.req('PUT', `/api/v2/Relationships/${id}/Terminate`)).body.result.status).toBe('Terminated');
    expect((await a.sync()).map((e) => e.type)).toEqual(['RelationshipStatusChanged']);
    expect((await a.req('PUT', `/api/v2/Relationships/${id}/Reactivate`)).status).toBe(200);
    expectError(await b.req('PUT', `/api/v2/Relationships/${id}/Reactivate`), 400, 'error.platform.validation.relationship.cannotRequestReactivationWhenThereIsAnOpenReactivationRequest');
    expect((await b.sync()).map((e) => e.type)).toEqual(['RelationshipReactivationRequested']);
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Accept`), 400, 'error.platform.validation.relationship.noAcceptableRelationshipReactivationRequestExists');
    expectError(await b.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Revoke`), 400, 'error.platform.validation.relationship.noRevocableReactivationRequestExists');
    expect((await b.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Reject`)).body.result.status).toBe('Terminated');
    expect((await a.sync()).map((e) => e.type)).toEqual(['RelationshipReactivationCompleted']);
    expectError(await b.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Reject`), 400, 'error.platform.validation.relationship.noRejectableReactivationRequestExists');
    await a.req('PUT', `/api/v2/Relationships/${id}/Reactivate`);
    expect((await a.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Revoke`)).status).toBe(200);
    await b.req('PUT', `/api/v2/Relationships/${id}/Reactivate`);
    const reactivated = await a.req('PUT', `/api/v2/Relationships/${id}/Reactivate/Accept`);
    expect(reactivated.body.result.status).toBe('Active');
    expect((await b.sync()).map((e) => e.type)).toEqual([
      'RelationshipReactivationRequested',
      'RelationshipReactivationCompleted',
      'RelationshipReactivationCompleted',
    ]);
    expect(reactivated.body.result.auditLog.map((l: any) => [l.reason, l.oldStatus, l.newStatus])).toEqual([
      ['Creation', null, 'Pending'],
      ['AcceptanceOfCreation', 'Pending', 'Active'],
      ['Termination', 'Active', 'Terminated'],
      ['ReactivationRequested', 'Terminated', 'Terminated'],
      ['RejectionOfReactivation', 'Terminated', 'Terminated'],
      ['ReactivationRequested', 'Terminated', 'Terminated'],
      ['RevocationOfReactivation', 'Terminated', 'Terminated'],
      ['ReactivationRequested', 'Terminated', 'Terminated'],
      ['AcceptanceOfReactivation', 'Terminated', 'Active'],
    ]);

    // decomposition
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Decompose`), 400, 'error.platform.validation.relationship.relationshipIsNotInCorrectStatus');
    await a.req('PUT', `/api/v2/Relationships/${id}/Terminate`);
    expect((await a.req('PUT', `/api/v2/Relationships/${id}/Decompose`)).body.result.status).toBe('DeletionProposed');
    expectError(await a.req('PUT', `/api/v2/Relationships/${id}/Decompose`), 400, 'error.platform.validation.relationship.relationshipAlreadyDecomposed');
    expectError(await a.req('GET', `/api/v2/Relationships/${id}`), 400, 'error.platform.validation.relationship.relationshipAlreadyDecomposed');
    expect((await a.req('GET', `/api/v2/Relationships?ids=${id}`)).body.result).toHaveLength(1); // list does not hide it
    expect((await b.sync()).map((e) => e.type)).toEqual(['RelationshipStatusChanged', 'RelationshipStatusChanged']);
    expect((await b.req('PUT', `/api/v2/Relationships/${id}/Decompose`)).body.result.status).toBe('ReadyForDeletion');
    // only the older reactivation request by b; the second decomposition sends nothing
    expect((await a.sync()).map((e) => e.type)).toEqual(['RelationshipReactivationRequested']);
    // a new relationship is possible again
    expect((await b.req('GET', `/api/v2/Relationships/CanCreate?peer=${a.address}`)).body.result.canCreate).toBe(true);
    await relate(a, b);
  });

  it('reject/revoke, visibility, list requires ids, CanCreate for unknown peers', async () => {
    const [a, b, c] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    const r1 = await relate(a, b, false);
    expect((await a.req('PUT', `/api/v2/Relationships/${r1}/Reject`, { json: { creationResponseContent: b64u('no') } })).body.result.status).toBe('Rejected');
    const r2 = await relate(a, b, false);
    expect((await b.req('PUT', `/api/v2/Relationships/${r2}/Revoke`, { json: {} })).body.result.status).toBe('Revoked');
    expectError(await c.req('GET', `/api/v2/Relationships/${r2}`), 404, 'error.platform.recordNotFound');
    expectError(await c.req('PUT', `/api/v2/Relationships/${r2}/Terminate`), 404, 'error.platform.recordNotFound');
    expectError(await a.req('GET', '/api/v2/Relationships'), 400, 'error.platform.validation.invalidPropertyValue');
    const list = await a.req('GET', `/api/v2/Relationships?ids=${r1}&ids=${r2}`);
    expect(list.body.result.map((r: any) => r.id)).toEqual([r1, r2]);
    expect((await c.req('GET', `/api/v2/Relationships?ids=${r1}`)).body.result).toEqual([]);
    const unknownPeer = 'did:e:localhost:dids:0000000000000000000000';
    expectError(await a.req('GET', `/api/v2/Relationships/CanCreate?peer=${unknownPeer}`), 404, 'error.platform.recordNotFound');
    expectError(await a.req('GET', '/api/v2/Relationships/CanCreate?peer=bogus'), 400, 'error.platform.validation.invalidPropertyValue');
    // password-protected template must be fetched with its password first
    const pw = Buffer.from('pw').toString('base64');
    const tpl = await createTemplate(c, { password: pw });
    expectError(await a.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: tpl } }), 404, 'error.platform.recordNotFound');
    await a.req('GET', `/api/v2/RelationshipTemplates/${tpl}?password=${encodeURIComponent(pw)}`);
    expect((await a.req('POST', '/api/v2/Relationships', { json: { relationshipTemplateId: tpl } })).status).toBe(201);
    // peer to be deleted
    const dp = await c.req('POST', '/api/v2/Identities/Self/DeletionProcesses', { json: {} });
    expect(dp.status).toBe(201);
    expect((await b.req('GET', `/api/v2/Relationships/CanCreate?peer=${c.address}`)).body.result).toEqual({
      canCreate: false,
      code: 'error.platform.validation.relationship.peerIsToBeDeleted',
    });
    expect((await a.sync()).map((e) => e.type)).toContain('PeerToBeDeleted');
    await c.req('PUT', `/api/v2/Identities/Self/DeletionProcesses/${dp.body.result.id}/Cancel`);
    expect((await b.req('GET', `/api/v2/Relationships/CanCreate?peer=${c.address}`)).body.result.canCreate).toBe(true);
  });

  it('quota on create and accept: 429 with isExhaustedUntil, before business rules', async () => {
    const [a, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    const id = await relate(a, b, false);
    platform.setQuotas([{ metric: 'NumberOfRelationships', max: 1, period: 'Day', address: a.address }]);
    try {
      const res = await a.req('PUT', `/api/v2/Relationships/${id}/Accept`, { json: {} });
      expectError(res, 429, 'error.platform.quotaExhausted');
      expect(res.body.error.data).toEqual([{ metricKey: 'NumberOfRelationships', isExhaustedUntil: expect.stringMatching(/T23:59:59\.999Z$/) }]);
      // quota wins over a missing relationship
      expectError(await a.req('PUT', '/api/v2/Relationships/RELaaaaaaaaaaaaaaaaa/Accept', { json: {} }), 429, 'error.platform.quotaExhausted');
    } finally {
      platform.setQuotas([]);
    }
    expect((await a.req('PUT', `/api/v2/Relationships/${id}/Accept`, { json: {} })).status).toBe(200);
  });
});
