/**
 * Enmeshed node v2, deleting: Relationship → Decompose, Relationship Template → Delete, File →
 * Delete, Identity → Start Deletion / Cancel Deletion / Get Deletion Status. Against the local
 * Platform, which behaves like the Backbone for each (test/platform).
 */
import type { INodeParameters } from 'n8n-workflow';
import {
  changeRelationship,
  createTemplate,
  getFile,
  loadTemplate,
  uploadFile,
  type Participant,
} from '../../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { inOneDay, nodeIdentity, runNode, runNodeError, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let alice: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, alice] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
});
afterAll(() => platform?.close());

const run = (parameters: INodeParameters, credentials = org.credential) => runNode({ credentials, version: 2, parameters });
const runError = (parameters: INodeParameters, credentials = org.credential) => runNodeError({ credentials, version: 2, parameters });
const rlId = (value: string) => ({ __rl: true, mode: 'id', value });

test('Relationship → Decompose: only an ended relationship; afterwards the Platform refuses it to us', async () => {
  const bob = await newParticipant(platform.baseUrl);
  const id = await relate(org.lib, bob);
  const active = await runError({ resource: 'relationship', operation: 'decompose', relationshipId: rlId(id) });
  expect(active.message).toMatch(/Cannot decompose relationship/);
  await changeRelationship(bob, id, 'terminate');
  const out = await run({ resource: 'relationship', operation: 'decompose', relationshipId: rlId(id) });
  expect(out[0].json).toMatchObject({ id, status: 'DeletionProposed', peer: bob.address });
  const gone = await runError({ resource: 'relationship', operation: 'get', relationshipId: rlId(id) });
  expect(gone.message).toContain('decomposed');
});

test('Relationship Template → Delete: ours only; then nobody can load it', async () => {
  const template = await createTemplate(org.lib, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 1 }, expiresAt: inOneDay() });
  const alices = await createTemplate(alice, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 2 }, expiresAt: inOneDay() });
  const notOurs = await runError({ resource: 'relationshipTemplate', operation: 'delete', templateId: alices.id });
  expect(notOurs.message).toContain(alices.id);
  const out = await run({ resource: 'relationshipTemplate', operation: 'delete', templateId: template.id });
  expect(out[0].json).toEqual({ id: template.id, deleted: true });
  await expect(loadTemplate(alice, template.truncatedReference)).rejects.toThrow();
});

test('File → Delete: ours only; then its reference no longer reads', async () => {
  const file = await uploadFile(org.lib, { content: Buffer.from('x'), filename: 'x.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const alices = await uploadFile(alice, { content: Buffer.from('y'), filename: 'y.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const notOurs = await runError({ resource: 'file', operation: 'delete', fileId: alices.id });
  expect(notOurs.message).toMatch(/not uploaded by this identity/);
  expect((await run({ resource: 'file', operation: 'delete', fileId: file.id }))[0].json).toEqual({ id: file.id, deleted: true });
  await expect(getFile(alice, file.reference)).rejects.toThrow();
});

test('Identity → Start Deletion, Get Deletion Status, Cancel Deletion', async () => {
  const leaving = await nodeIdentity(platform.baseUrl);
  await relate(org.lib, leaving.lib);
  const before = await run({ resource: 'identity', operation: 'getDeletionStatus' }, leaving.credential);
  expect(before[0].json).toMatchObject({ address: leaving.address, status: 'Active', toBeDeleted: false, deletionProcesses: [] });
  const started = await run({ resource: 'identity', operation: 'startDeletion', gracePeriodDays: 3 }, leaving.credential);
  expect(started[0].json).toMatchObject({ address: leaving.address, status: 'Approved', id: expect.stringMatching(/^IDP/) });
  const ends = Date.parse(started[0].json.gracePeriodEndsAt as string);
  expect(Math.abs(ends - (Date.now() + 3 * 86_400_000))).toBeLessThan(60_000);
  const status = await run({ resource: 'identity', operation: 'getDeletionStatus' }, leaving.credential);
  expect(status[0].json).toMatchObject({ status: 'ToBeDeleted', toBeDeleted: true, deletionDate: started[0].json.gracePeriodEndsAt });
  const twice = await runError({ resource: 'identity', operation: 'startDeletion' }, leaving.credential);
  expect(twice.message).toMatch(/one active deletion process/i);

  const cancelled = await run({ resource: 'identity', operation: 'cancelDeletion' }, leaving.credential);
  expect(cancelled[0].json).toMatchObject({ id: started[0].json.id, status: 'Cancelled' });
  expect((await run({ resource: 'identity', operation: 'getDeletionStatus' }, leaving.credential))[0].json).toMatchObject({ status: 'Active', toBeDeleted: false });
  const nothing = await runError({ resource: 'identity', operation: 'cancelDeletion' }, leaving.credential);
  expect(nothing.message).toBe('This identity has no running deletion process to cancel');
});
