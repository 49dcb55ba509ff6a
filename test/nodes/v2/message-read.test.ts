/**
 * Enmeshed node v2: Message → Mark as Read / Mark as Unread, Get Many with Unread Only, and the
 * trigger's Mark as Read. The read state lives in the datawallet: another worker of the same
 * credential (a second Participant, as in another process) sees it.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';
import { buildMail, loadReadState, openParticipant, sendMessage, type Participant } from '../../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { pollContext } from '../context';
import { nodeIdentity, poll, runNode, runNodeError, sleep, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(org.lib, alice);
});
afterAll(() => platform?.close());

const run = (parameters: INodeParameters) => runNode({ credentials: org.credential, version: 2, parameters: { resource: 'message', ...parameters } });
const ids = (items: { json: IDataObject }[]) => items.map((i) => i.json.id);

async function mailFromAlice(subject: string): Promise<string> {
  const sent = await sendMessage(alice, { recipients: [org.address], content: buildMail({ to: [org.address], subject, body: '' }) });
  await sleep(3);
  return sent.id;
}

test('Mark as Read / Unread: Get Many says read per message and Unread Only leaves the read ones out; another worker sees the same', async () => {
  const [m1, m2, m3] = [await mailFromAlice('one'), await mailFromAlice('two'), await mailFromAlice('three')];
  const before = await run({ operation: 'getMany', returnAll: true, filters: { unreadOnly: true } });
  expect(ids(before)).toEqual(expect.arrayContaining([m1, m2, m3]));
  expect(before.every((i) => i.json.read === false)).toBe(true);

  const marked = await run({ operation: 'markAsRead', messageId: m2 });
  expect(marked[0].json).toMatchObject({ id: m2, subject: 'two', read: true });
  await run({ operation: 'markAsRead', messageId: m3 });
  const unread = await run({ operation: 'getMany', returnAll: true, filters: { unreadOnly: true } });
  expect(ids(unread)).toContain(m1);
  expect(ids(unread)).not.toContain(m2);
  expect(ids(unread)).not.toContain(m3);
  const all = await run({ operation: 'getMany', returnAll: true, filters: { peers: alice.address } });
  expect(Object.fromEntries(all.map((i) => [i.json.id, i.json.read]))).toMatchObject({ [m1]: false, [m2]: true, [m3]: true });

  // a fresh process of the same credential (another worker, or after a restart)
  const other = await openParticipant(org.credential, { shared: false });
  const state = await loadReadState(other);
  const dto = async (id: string) => other.client.getMessage(id);
  expect(state.isRead(await dto(m2))).toBe(true);
  expect(state.isRead(await dto(m1))).toBe(false);

  const back = await run({ operation: 'markAsUnread', messageId: m2 });
  expect(back[0].json).toMatchObject({ id: m2, read: false });
  expect(ids(await run({ operation: 'getMany', returnAll: true, filters: { unreadOnly: true } }))).toContain(m2);
});

test('sent messages have no read state and are never "unread"', async () => {
  const sent = await run({ operation: 'send', to: { __rl: true, mode: 'address', value: alice.address }, subject: 'ours', body: '' });
  const both = await run({ operation: 'getMany', limit: 5, filters: { direction: 'both' } });
  const ours = both.find((i) => i.json.id === sent[0].json.id)!;
  expect(ours.json.read).toBeUndefined();
  expect(ids(await run({ operation: 'getMany', returnAll: true, filters: { direction: 'both', unreadOnly: true } }))).not.toContain(sent[0].json.id);
});

test('marking a message that is not ours to see: an error, nothing marked', async () => {
  const error = await runNodeError({ credentials: org.credential, version: 2, parameters: { resource: 'message', operation: 'markAsRead', messageId: 'MSGaaaaaaaaaaaaaaaaa' } });
  expect(error.message).toContain('MSGaaaaaaaaaaaaaaaaa');
});

test('trigger option Mark as Read: what started the workflow is read; without it, nothing is marked', async () => {
  const staticData: IDataObject = {};
  const trigger = (options: IDataObject) => poll(pollContext({ parameters: { events: ['messageReceived'], options: options as INodeParameters }, credentials: org.credential, mode: 'trigger', staticData }));
  await trigger({ markAsRead: true }); // seeds
  const plain = await mailFromAlice('not marked');
  expect(ids((await trigger({}))!)).toEqual([plain]);
  const marked = await mailFromAlice('marked');
  expect(ids((await trigger({ markAsRead: true }))!)).toEqual([marked]);
  const unread = ids(await run({ operation: 'getMany', returnAll: true, filters: { unreadOnly: true } }));
  expect(unread).toContain(plain);
  expect(unread).not.toContain(marked);
});
