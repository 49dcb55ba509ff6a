/**
 * Peers by name: where a relationship holds the peer's DisplayName (an App user shares it when
 * answering our template's Request), the outputs show it beside the address. A peer that shared no
 * name has none. (The pickers show addresses: they page through the index without reading records.)
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
import { pollContext } from '../context';
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
