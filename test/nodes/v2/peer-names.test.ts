/**
 * Peers by name: where a relationship holds the peer's DisplayName (an App user shares it when
 * answering our template's Request), the outputs and the pickers show it beside the address, and a
 * picker search finds the peer by it. A peer that shared no name has none. The pickers read only the
 * index: the name is kept in the relationship's entry when we accept, or when an output first reads it.
 */
import type { IDataObject } from 'n8n-workflow';
import {
  acceptRelationship,
  buildAcceptResponse,
  buildMail,
  buildRelationshipTemplateContent,
  createTemplate,
  loadTemplate,
  requestRelationship,
  sendMessage,
  sync,
  type Participant,
} from '../../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { loadOptionsContext, pollContext } from '../context';
import { searchPeers, searchRelationships } from '../../../nodes/Enmeshed/v1/methods/listSearch';
import { openParticipant } from '../../../lib/protocol';
import { entryChange } from '../../../lib/state/relationship-entries';
import { inOneDay, nodeIdentity, poll, runNode, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let dana: Participant; // answered our App template with her display name
let erik: Participant; // a plain relationship: no name
let danaRelationship: string;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, dana, erik] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl), newParticipant(platform.baseUrl)]);
  const content = buildRelationshipTemplateContent({ title: 'Portal', ownerAddress: org.address, requestDisplayName: true, expiresAt: inOneDay() });
  const template = await createTemplate(org.lib, { content: content as never, expiresAt: inOneDay() });
  const loaded = await loadTemplate(dana, template.truncatedReference);
  const answer = buildAcceptResponse(loaded.content, { ownAddress: dana.address, attributes: { DisplayName: 'Dana Beispiel' } });
  if (!answer.ok) throw new Error(answer.problems.join('; '));
  danaRelationship = (await requestRelationship(dana, loaded, answer.content as never)).id;
  await sync(org.lib);
  await acceptRelationship(org.lib, danaRelationship);
  await relate(org.lib, erik);
});
afterAll(() => platform?.close());

test('relationship outputs carry peerDisplayName (Get, Get Many); none where the peer shared no name', async () => {
  const got = await runNode({ credentials: org.credential, version: 2, parameters: { resource: 'relationship', operation: 'get', relationshipId: { __rl: true, mode: 'id', value: danaRelationship } } });
  expect(got[0].json).toMatchObject({ peer: dana.address, peerDisplayName: 'Dana Beispiel' });
  const many = await runNode({ credentials: org.credential, version: 2, parameters: { resource: 'relationship', operation: 'getMany', returnAll: true } });
  const byPeer = Object.fromEntries(many.map((i) => [i.json.peer as string, i.json.peerDisplayName]));
  expect(byPeer[dana.address]).toBe('Dana Beispiel');
  expect(byPeer[erik.address]).toBeUndefined();
});

test('received messages carry the sender\'s peerDisplayName (Get Many, trigger)', async () => {
  const staticData: IDataObject = {};
  const trigger = () => poll(pollContext({ parameters: { events: ['messageReceived'] }, credentials: org.credential, mode: 'trigger', staticData }));
  await trigger();
  await sendMessage(dana, { recipients: [org.address], content: buildMail({ to: [org.address], subject: 'hello', body: '' }) });
  await sendMessage(erik, { recipients: [org.address], content: buildMail({ to: [org.address], subject: 'hi', body: '' }) });
  const events = (await trigger())!;
  expect(events.map((e) => [e.json.from, e.json.peerDisplayName])).toEqual([
    [dana.address, 'Dana Beispiel'],
    [erik.address, undefined],
  ]);
  const listed = await runNode({ credentials: org.credential, version: 2, parameters: { resource: 'message', operation: 'getMany', limit: 2 } });
  expect(listed.map((e) => [e.json.from, e.json.peerDisplayName])).toEqual([
    [erik.address, undefined],
    [dana.address, 'Dana Beispiel'],
  ]);
});

test('the pickers show the name beside the address, and a search finds the peer by it; the address stays the value', async () => {
  const picker = loadOptionsContext({ credentials: { ...org.credential }, version: 2 });
  const peers = await searchPeers.call(picker);
  const dana_ = peers.results.find((r) => r.value === dana.address);
  expect(dana_?.name).toBe(`Dana Beispiel — ${dana.address} (${danaRelationship})`);
  expect(peers.results.find((r) => r.value === erik.address)?.name).toMatch(new RegExp(`^${erik.address} \\(REL`));
  expect((await searchPeers.call(picker, 'dana beisp')).results.map((r) => r.value)).toEqual([dana.address]);
  expect((await searchRelationships.call(picker, 'BEISPIEL')).results.map((r) => r.value)).toEqual([danaRelationship]);
});

test('a name found by reading the record (accepted by an earlier version) is kept in the index for the pickers of every worker', async () => {
  // Remove the name from the entry, as an entry written before names were kept.
  const entry = org.lib.registry.get(danaRelationship)!;
  const { peerName, ...withoutName } = entry;
  expect(peerName).toBe('Dana Beispiel');
  await org.lib.store.update(() => ({ changes: [entryChange(withoutName, 'keep')], result: undefined }));
  const worker = await openParticipant(org.credential, { shared: false });
  const picker = loadOptionsContext({ credentials: { ...org.credential }, version: 2 });
  expect((await searchPeers.call(picker, 'dana')).results).toEqual([]);
  await runNode({ credentials: org.credential, version: 2, parameters: { resource: 'relationship', operation: 'getMany', returnAll: true } });
  expect((await searchPeers.call(picker, 'dana')).results.map((r) => r.value)).toEqual([dana.address]);
  await worker.store.refresh();
  expect(worker.registry.get(danaRelationship)?.peerName).toBe('Dana Beispiel');
});
