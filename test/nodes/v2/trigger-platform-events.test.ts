/**
 * The trigger's events that only the Platform can tell (no peer signs them): Peer To Be Deleted (a
 * peer started deleting its identity) and Template Allocations Exhausted (one of our templates
 * reached its Max Number of Allocations). Each starts the workflow once, whichever worker's sync
 * consumed the Backbone's event, and an event type added to a running trigger replays nothing.
 */
import type { IDataObject } from 'n8n-workflow';
import { cancelIdentityDeletion, createTemplate, loadTemplate, openParticipant, startIdentityDeletion, sync, type Participant } from '../../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { pollContext } from '../context';
import { inOneDay, nodeIdentity, poll, runNode, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;

beforeAll(async () => {
  platform = await startPlatform({});
  org = await nodeIdentity(platform.baseUrl);
});
afterAll(() => platform?.close());

const trigger = (events: string[], staticData: IDataObject) => () =>
  poll(pollContext({ parameters: { events }, credentials: org.credential, mode: 'trigger', staticData }));

test('Peer To Be Deleted: once, with the deletion date, even when another worker consumed the event; a cancellation starts nothing', async () => {
  const staticData: IDataObject = {};
  const run = trigger(['peerToBeDeleted', 'relationshipStatusChanged'], staticData);
  const leaving: Participant = await newParticipant(platform.baseUrl);
  const id = await relate(org.lib, leaving);
  expect(await run()).toBeNull(); // activation: the cursor starts now
  const started = await startIdentityDeletion(leaving, 5);
  // Another worker of the organisation takes the Backbone's event first.
  const otherWorker = await openParticipant(org.credential, { shared: false });
  expect((await sync(otherWorker)).events.map((e) => e.type)).toContain('PeerToBeDeleted');
  const items = (await run())!;
  expect(items.map((i) => i.json)).toEqual([
    expect.objectContaining({
      event: 'peerToBeDeleted',
      id,
      peer: leaving.address,
      status: 'Active',
      deletionDate: started.gracePeriodEndsAt,
      peerDeletionInfo: { deletionStatus: 'ToBeDeleted', deletionDate: started.gracePeriodEndsAt },
    }),
  ]);
  expect(await run()).toBeNull();
  // Relationship → Get shows it too, as the Connector's DTO does; a cancellation removes it.
  const get = () => runNode({ credentials: org.credential, version: 2, parameters: { resource: 'relationship', operation: 'get', relationshipId: { __rl: true, mode: 'id', value: id } } });
  expect((await get())[0].json.peerDeletionInfo).toEqual({ deletionStatus: 'ToBeDeleted', deletionDate: started.gracePeriodEndsAt });
  await cancelIdentityDeletion(leaving);
  expect(await run()).toBeNull();
  expect((await get())[0].json.peerDeletionInfo).toBeUndefined();
});

test('Template Allocations Exhausted: once, when the last allocation is taken; added to a running trigger it replays nothing', async () => {
  const staticData: IDataObject = {};
  const messagesOnly = trigger(['messageReceived'], staticData);
  expect(await messagesOnly()).toBeNull();
  const old = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'old' }, expiresAt: inOneDay(), maxNumberOfAllocations: 1 });
  await loadTemplate(await newParticipant(platform.baseUrl), old.truncatedReference); // exhausted before the event type is added
  const run = trigger(['messageReceived', 'templateAllocationsExhausted'], staticData);
  expect(await run()).toBeNull(); // the new part starts now: the old template is not reported

  const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 'two' }, expiresAt: inOneDay(), maxNumberOfAllocations: 2 });
  await loadTemplate(await newParticipant(platform.baseUrl), template.truncatedReference);
  expect(await run()).toBeNull(); // one allocation left
  await loadTemplate(await newParticipant(platform.baseUrl), template.truncatedReference);
  const items = (await run())!;
  expect(items.map((i) => i.json)).toEqual([{ event: 'templateAllocationsExhausted', templateId: template.id, at: expect.any(String) }]);
  expect(await run()).toBeNull();
});
