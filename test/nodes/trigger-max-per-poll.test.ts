/**
 * Enmeshed Trigger option Max Messages per Poll: a backlog comes in order, that many per poll, each
 * message once; the option is visible with n8n's default of 100.
 */
import type { IDataObject } from 'n8n-workflow';
import { buildMail, sendMessage, type Participant } from '../../lib/protocol';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';
import { pollContext } from './context';
import { nodeIdentity, poll, sleep, type NodeIdentity } from './helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(org.lib, alice);
});
afterAll(() => platform?.close());

test('the option is offered, 100 by default', () => {
  const options = new EnmeshedTrigger().description.properties.find((p) => p.name === 'options')!.options as { name: string; default: unknown }[];
  expect(options.find((o) => o.name === 'maxMessages')?.default).toBe(100);
});

test('a backlog of 5 with a maximum of 2: 2, 2, 1, then nothing — in order, each once', async () => {
  const staticData: IDataObject = {};
  const trigger = () => poll(pollContext({ parameters: { events: ['messageReceived'], options: { maxMessages: 2 } }, credentials: org.credential, mode: 'trigger', staticData }));
  expect(await trigger()).toBeNull(); // seeds
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) {
    ids.push((await sendMessage(alice, { recipients: [org.address], content: buildMail({ to: [org.address], subject: `m${n}`, body: '' }) })).id);
    await sleep(3);
  }
  const polls = [await trigger(), await trigger(), await trigger()].map((items) => (items ?? []).map((i) => i.json.id));
  expect(polls).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  expect(await trigger()).toBeNull();
});
