/**
 * Enmeshed node, resource Relationship: create (auto answer / JSON) / getMany / get / accept / reject /
 * revoke / terminate, and the list searches (recipient and relationship pickers).
 */
import { RelationshipCreationContent } from '@nmshd/content';
import { NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  acceptRelationship,
  changeRelationship,
  createTemplate,
  createTemplateToken,
  getRelationship,
  loadTemplate,
  requestRelationship,
  sync,
  type Participant,
} from '../../lib/protocol';
import { buildRelationshipTemplateContent } from '../../lib/protocol';
import { searchPeers, searchRelationships } from '../../nodes/Enmeshed/v1/methods/listSearch';
import { newParticipant } from '../helpers/participants';
import { loadOptionsContext, rl } from './context';
import { relate } from '../helpers/relate';
import { inOneDay, nodeIdentity, runNode, runNodeError, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;

beforeAll(async () => {
  platform = await startPlatform({});
  org = await nodeIdentity(platform.baseUrl);
});
afterAll(() => platform?.close());

const run = (operation: string, parameters: INodeParameters, identity = org) =>
  runNode({ credentials: identity.credential, parameters: { resource: 'relationship', operation, ...parameters } }).then((out) => {
    expect(out).toHaveLength(1);
    return out[0].json;
  });
const fail = (operation: string, parameters: INodeParameters, identity = org) =>
  runNodeError({ credentials: identity.credential, parameters: { resource: 'relationship', operation, ...parameters } });

/** A template of `owner` (lib), given as the token link its QR code would carry. */
async function templateOf(owner: Participant, content: Record<string, unknown>, maxNumberOfAllocations?: number): Promise<string> {
  const template = await createTemplate(owner, { content, expiresAt: inOneDay(), maxNumberOfAllocations });
  return (await createTemplateToken(owner, template)).url;
}
const arbitraryTemplate = { '@type': 'ArbitraryRelationshipTemplateContent', value: { shop: 'peer' } };

/** A request by `requestor` (lib) on a fresh template of the node's identity; returns the relationship id. */
async function requestOnOrg(requestor: Participant, identity = org): Promise<string> {
  const template = await createTemplate(identity.lib, { content: arbitraryTemplate, expiresAt: inOneDay() });
  const request = await requestRelationship(requestor, await loadTemplate(requestor, template.truncatedReference), {
    '@type': 'ArbitraryRelationshipCreationContent',
    value: { hello: 'org' },
  });
  return request.id;
}

describe('create', () => {
  test("auto answer to an App template: our display name, consent and the peer's attribute accepted; the peer reads it", async () => {
    const peer = await newParticipant(platform.baseUrl);
    const content = buildRelationshipTemplateContent({
      title: 'Lieferantenportal',
      ownerAddress: peer.address,
      shareDisplayName: 'Peer AG',
      requestDisplayName: true,
      consent: 'Wir verarbeiten Ihre Daten gemäß …',
      expiresAt: inOneDay(),
    });
    const json = await run('create', { reference: await templateOf(peer, content as never), displayName: 'Example Lab' });
    expect(json).toMatchObject({ id: expect.stringMatching(/^REL/), status: 'Pending', role: 'Requestor', peer: peer.address });
    const creation = json.creationContent as { '@type': string; response: { result: string; items: IDataObject[] } };
    expect(creation['@type']).toBe('RelationshipCreationContent');
    expect(creation.response.result).toBe('Accepted');
    expect(creation.response.items.map((i) => i['@type'])).toEqual(['AcceptResponseItem', 'ReadAttributeAcceptResponseItem', 'AcceptResponseItem']);
    expect(creation.response.items[1]).toMatchObject({
      result: 'Accepted',
      attribute: { '@type': 'IdentityAttribute', owner: org.address, value: { '@type': 'DisplayName', value: 'Example Lab' } },
    });
    expect(() => RelationshipCreationContent.from(creation as never)).not.toThrow(); // what the App's runtime parses

    await sync(peer);
    const seen = await getRelationship(peer, json.id as string);
    expect(seen).toMatchObject({ status: 'Pending', role: 'templator', peer: org.address });
    expect(seen.creationContent).toEqual(creation);
    await acceptRelationship(peer, json.id as string);
    expect(await run('get', { relationshipId: rl('id', json.id as string) })).toMatchObject({ status: 'Active', peer: peer.address });
  });

  test('auto answer: a required item we cannot answer is a clear error that points to JSON mode; nothing is requested', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const content = buildRelationshipTemplateContent({ title: 'KYC', ownerAddress: peer.address, requestAttributes: ['GivenName'], requestDisplayName: true });
    const reference = await templateOf(peer, content as never);
    const error = await fail('create', { reference, displayName: 'Example Lab' });
    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('The template asks for something that cannot be answered automatically');
    expect(error.description).toContain('GivenName');
    expect(error.description).toContain('Answer: JSON');
    const noName = await fail('create', { reference: await templateOf(peer, buildRelationshipTemplateContent({ title: 'x', requestDisplayName: true }) as never) });
    expect(noName.description).toContain('DisplayName');
    expect((await sync(peer)).newRelationships).toEqual([]);
  });

  test('JSON answer: sent as given; "Load" first does not use up a single-use template', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const reference = await templateOf(peer, arbitraryTemplate, 1);
    const [preview] = await runNode({ credentials: org.credential, parameters: { resource: 'relationshipTemplate', operation: 'load', reference } });
    expect(preview.json).toMatchObject({ createdBy: peer.address, content: arbitraryTemplate });
    const answer = { '@type': 'ArbitraryRelationshipCreationContent', value: { customer: 42 } };
    const json = await run('create', { reference, answerMode: 'json', jsonContent: JSON.stringify(answer) });
    expect(json).toMatchObject({ status: 'Pending', peer: peer.address, creationContent: answer });
    await sync(peer);
    expect((await getRelationship(peer, json.id as string)).creationContent).toEqual(answer);
    // the auto answer to an ArbitraryRelationshipTemplateContent is an ArbitraryRelationshipCreationContent
    const other = await newParticipant(platform.baseUrl);
    const auto = await run('create', { reference: await templateOf(other, arbitraryTemplate) });
    expect(auto.creationContent).toEqual({ '@type': 'ArbitraryRelationshipCreationContent', value: {} });
  });

  test('a single-use template that someone else already used: an error that says so', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const first = await newParticipant(platform.baseUrl);
    const reference = await templateOf(peer, arbitraryTemplate, 1);
    await loadTemplate(first, reference);
    const error = await fail('create', { reference });
    expect(error.description).toContain('already used as often as allowed');
  });

  test('JSON answer: invalid JSON and content without "@type" are clear errors', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const reference = await templateOf(peer, arbitraryTemplate, 5);
    const notJson = await fail('create', { reference, answerMode: 'json', jsonContent: '{"value": ' });
    expect(notJson).toBeInstanceOf(NodeOperationError);
    expect(notJson.message).toMatch(/JSON/);
    expect(notJson.context.itemIndex).toBe(0);
    const noType = await fail('create', { reference, answerMode: 'json', jsonContent: '{"value": 1}' });
    expect(noType.message).toContain('"@type"');
    const own = await fail('create', { reference: await templateOf(org.lib, arbitraryTemplate) });
    expect(own.message).toContain('your own');
  });
});

describe('accept, reject, revoke, terminate, get', () => {
  test('accept a request to our template (picked by ID or from the list): Active on both sides; then terminate', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const id = await requestOnOrg(peer);
    const pending = await runNode({ credentials: org.credential, parameters: { resource: 'relationship', operation: 'getMany', returnAll: true, status: ['Pending'] } });
    expect(pending.map((o) => o.json.id)).toContain(id);
    const accepted = await run('accept', { relationshipId: rl('list', id) });
    expect(accepted).toMatchObject({ id, status: 'Active', role: 'Templator', peer: peer.address, peerIdentity: { address: peer.address } });
    expect((await getRelationship(peer, id)).status).toBe('Active');

    const got = await run('get', { relationshipId: rl('id', id) });
    expect(got).toMatchObject({ id, status: 'Active', creationContent: { '@type': 'ArbitraryRelationshipCreationContent', value: { hello: 'org' } } });
    expect((got.auditLog as IDataObject[]).map((e) => e.newStatus)).toEqual(['Pending', 'Active']);
    expect(JSON.stringify(got)).not.toMatch(/"keys"|"key"/);

    const terminated = await run('terminate', { relationshipId: rl('id', id) });
    expect(terminated).toMatchObject({ id, status: 'Terminated' });
    expect((await getRelationship(peer, id)).status).toBe('Terminated');
  });

  test('reject a request; revoke our own request', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const id = await requestOnOrg(peer);
    await sync(org.lib);
    expect(await run('reject', { relationshipId: rl('id', id) })).toMatchObject({ id, status: 'Rejected' });
    expect((await getRelationship(peer, id)).status).toBe('Rejected');

    const other = await newParticipant(platform.baseUrl);
    const mine = await run('create', { reference: await templateOf(other, arbitraryTemplate) });
    expect(await run('revoke', { relationshipId: rl('id', mine.id as string) })).toMatchObject({ id: mine.id, status: 'Revoked' });
    await sync(other);
    expect((await getRelationship(other, mine.id as string)).status).toBe('Revoked');
  });

  test('the wrong state, the wrong side or an unknown relationship: NodeOperationError saying why', async () => {
    const peer = await newParticipant(platform.baseUrl);
    const active = await relate(org.lib, peer);
    const again = await fail('accept', { relationshipId: rl('id', active) });
    expect(again).toBeInstanceOf(NodeOperationError);
    expect(again.message).toContain('not Pending');
    expect(again.description).toContain('protocol.relationship.wrongState');
    const revokeActive = await fail('revoke', { relationshipId: rl('id', active) });
    expect(revokeActive).toBeInstanceOf(NodeOperationError);
    expect(revokeActive.message).toContain(`Cannot revoke relationship ${active}`);

    const other = await newParticipant(platform.baseUrl);
    const mine = await run('create', { reference: await templateOf(other, arbitraryTemplate) });
    const acceptOwn = await fail('accept', { relationshipId: rl('id', mine.id as string) });
    expect(acceptOwn.message).toContain('requested by you');
    const terminatePending = await fail('terminate', { relationshipId: rl('id', mine.id as string) });
    expect(terminatePending.message).toContain('Cannot terminate');

    const unknown = await fail('get', { relationshipId: rl('id', 'RELAAAAAAAAAAAAAAAAA') });
    expect(unknown.message).toContain('RELAAAAAAAAAAAAAAAAA');
    expect(unknown.description).toContain('Create a relationship');
  });

  test('an empty relationship (e.g. an expression that gave nothing) is a NodeOperationError naming the parameter', async () => {
    const empty = await fail('get', { relationshipId: rl('list', '') });
    expect(empty).toBeInstanceOf(NodeOperationError);
    expect(empty.message).toMatch(/relationship/i);
  });
});

describe('getMany and the list searches', () => {
  let me: NodeIdentity;
  const peers: Record<string, Participant> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    me = await nodeIdentity(platform.baseUrl);
    for (const name of ['active', 'pending', 'rejected', 'terminated', 'revoked']) peers[name] = await newParticipant(platform.baseUrl);
    ids.active = await relate(me.lib, peers.active);
    ids.pending = await requestOnOrg(peers.pending, me);
    ids.rejected = await requestOnOrg(peers.rejected, me);
    await sync(me.lib);
    await changeRelationship(me.lib, ids.rejected, 'reject');
    ids.terminated = await relate(peers.terminated, me.lib);
    await changeRelationship(peers.terminated, ids.terminated, 'terminate');
    const template = await createTemplate(peers.revoked, { content: arbitraryTemplate, expiresAt: inOneDay() });
    ids.revoked = (await requestRelationship(me.lib, await loadTemplate(me.lib, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 1 })).id;
    await changeRelationship(me.lib, ids.revoked, 'revoke');
  });

  const getMany = (parameters: INodeParameters) =>
    runNode({ credentials: me.credential, parameters: { resource: 'relationship', operation: 'getMany', ...parameters } });

  test('all, newest first; Limit; status filter', async () => {
    const all = await getMany({ returnAll: true });
    expect(all.map((o) => o.json.id)).toEqual([ids.revoked, ids.terminated, ids.rejected, ids.pending, ids.active]);
    expect(all.map((o) => o.json.status)).toEqual(['Revoked', 'Terminated', 'Rejected', 'Pending', 'Active']);
    expect(all.every((o) => JSON.stringify(o.pairedItem) === '{"item":0}')).toBe(true);
    expect((await getMany({ limit: 2 })).map((o) => o.json.id)).toEqual([ids.revoked, ids.terminated]);
    expect((await getMany({ returnAll: true, status: ['Pending'] })).map((o) => o.json.id)).toEqual([ids.pending]);
    expect((await getMany({ returnAll: true, status: ['Active', 'Terminated'] })).map((o) => o.json.id)).toEqual([ids.terminated, ids.active]);
    expect(await getMany({ returnAll: true, status: ['DeletionProposed'] })).toEqual([]);
  });

  test('a request that only arrived as an event is listed (getMany syncs first)', async () => {
    const late = await newParticipant(platform.baseUrl);
    const id = await requestOnOrg(late, me);
    const pending = await getMany({ returnAll: true, status: ['Pending'] });
    expect(pending.map((o) => o.json.id)).toEqual([id, ids.pending]);
    await changeRelationship(late, id, 'revoke');
  });

  test('searchPeers: the peers of Active relationships only, as addresses; filtered by the search text', async () => {
    const ctx = loadOptionsContext({ credentials: me.credential });
    const { results } = await searchPeers.call(ctx);
    expect(results).toEqual([{ name: `${peers.active.address} (${ids.active})`, value: peers.active.address }]);
    expect((await searchPeers.call(ctx, peers.active.address.slice(-6).toUpperCase())).results).toHaveLength(1);
    expect((await searchPeers.call(ctx, 'no-such-peer')).results).toEqual([]);
  });

  test('searchRelationships: every relationship with its status, newest first; filtered by status or address', async () => {
    const ctx = loadOptionsContext({ credentials: me.credential });
    const { results } = await searchRelationships.call(ctx);
    expect(results.map((r) => r.value)).toEqual(expect.arrayContaining([ids.revoked, ids.terminated, ids.rejected, ids.pending, ids.active]));
    expect(results.findIndex((r) => r.value === ids.revoked)).toBeLessThan(results.findIndex((r) => r.value === ids.active));
    expect(results.find((r) => r.value === ids.rejected)?.name).toBe(`Rejected: ${peers.rejected.address} (${ids.rejected})`);
    expect((await searchRelationships.call(ctx, 'pending')).results.map((r) => r.value)).toEqual([ids.pending]);
    expect((await searchRelationships.call(ctx, peers.terminated.address)).results.map((r) => r.value)).toEqual([ids.terminated]);
  });

  test('the list searches fail clearly without a usable credential', async () => {
    const ctx = loadOptionsContext({ credentials: { ...me.credential, identity: '{"v":1}' } });
    await expect(searchPeers.call(ctx)).rejects.toThrow(/identity is not usable/);
  });
});
