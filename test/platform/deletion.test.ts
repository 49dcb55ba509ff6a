/**
 * The local Platform's deletion routes, as the Backbone answers them (backbone-api.md): the identity
 * deletion process (start, list, get, cancel, the identity's status, the peers' events), decomposing
 * a relationship toward a peer who is to be deleted, and deleting a template whose allocations are
 * exhausted.
 */
import { b64u, createIdentity, expectError, relate, withPlatform, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
let base: string;
beforeAll(async () => {
  platform = await withPlatform();
  base = platform.baseUrl;
});
afterAll(() => platform.close());

describe('identity deletion process', () => {
  it('start, one at a time, list and get, status ToBeDeleted, peers told with the date; cancel once; others cannot see it', async () => {
    const [leaving, peer, other] = await Promise.all([createIdentity(base), createIdentity(base), createIdentity(base)]);
    const relationshipId = await relate(peer, leaving);
    const started = await leaving.req('POST', '/api/v2/Identities/Self/DeletionProcesses', { json: { lengthOfGracePeriodInDays: 5 } });
    expect(started.status).toBe(201);
    const process = started.body.result;
    expect(process).toMatchObject({ id: expect.stringMatching(/^IDP[A-Za-z0-9]{17}$/), status: 'Approved', cancelledAt: null });
    expect(Math.abs(Date.parse(process.gracePeriodEndsAt) - (Date.now() + 5 * 86_400_000))).toBeLessThan(60_000);
    expectError(await leaving.req('POST', '/api/v2/Identities/Self/DeletionProcesses', { json: {} }), 400, 'error.platform.validation.device.onlyOneActiveDeletionProcessAllowed');

    expect((await leaving.req('GET', '/api/v2/Identities/Self')).body.result).toMatchObject({ status: 'ToBeDeleted', deletionGracePeriodEndsAt: process.gracePeriodEndsAt });
    expect((await leaving.req('GET', '/api/v2/Identities/Self/DeletionProcesses')).body.result.map((p: { id: string }) => p.id)).toEqual([process.id]);
    expect((await leaving.req('GET', `/api/v2/Identities/Self/DeletionProcesses/${process.id}`)).body.result).toMatchObject({ id: process.id, status: 'Approved' });
    expectError(await other.req('GET', `/api/v2/Identities/Self/DeletionProcesses/${process.id}`), 404, 'error.platform.recordNotFound');
    expect(await peer.sync()).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'PeerToBeDeleted', payload: { relationshipId, deletionDate: process.gracePeriodEndsAt } })]),
    );

    const cancelled = await leaving.req('PUT', `/api/v2/Identities/Self/DeletionProcesses/${process.id}/Cancel`);
    expect(cancelled.body.result).toMatchObject({ id: process.id, status: 'Cancelled', cancelledAt: expect.any(String) });
    expectError(await leaving.req('PUT', `/api/v2/Identities/Self/DeletionProcesses/${process.id}/Cancel`), 400, 'error.platform.validation.device.deletionProcessIsNotInRequiredStatus');
    expect((await leaving.req('GET', '/api/v2/Identities/Self')).body.result).toMatchObject({ status: 'Active', deletionGracePeriodEndsAt: null });
    expect(await peer.sync()).toEqual([expect.objectContaining({ type: 'PeerDeletionCancelled', payload: { relationshipId } })]);
    // a new process may start after a cancelled one
    expect((await leaving.req('POST', '/api/v2/Identities/Self/DeletionProcesses', { json: {} })).status).toBe(201);
  });
});

describe('deleting templates', () => {
  it('an exhausted template is deleted by its owner; afterwards it is gone for everyone', async () => {
    const [owner, b] = await Promise.all([createIdentity(base), createIdentity(base)]);
    const res = await owner.req('POST', '/api/v2/RelationshipTemplates', { json: { content: b64u('tpl'), maxNumberOfAllocations: 1 } });
    const id = res.body.result.id as string;
    expect((await b.req('GET', `/api/v2/RelationshipTemplates/${id}`)).status).toBe(200);
    expect((await owner.req('DELETE', `/api/v2/RelationshipTemplates/${id}`)).status).toBe(204);
    expectError(await owner.req('GET', `/api/v2/RelationshipTemplates/${id}`), 404, 'error.platform.recordNotFound');
    expectError(await b.req('GET', `/api/v2/RelationshipTemplates/${id}`), 404, 'error.platform.recordNotFound');
    expectError(await owner.req('DELETE', `/api/v2/RelationshipTemplates/${id}`), 404, 'error.platform.recordNotFound');
  });
});
