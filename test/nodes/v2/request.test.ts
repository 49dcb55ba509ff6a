/**
 * Enmeshed node v2, resources Request and Attribute, and the trigger's Request events: the
 * organisation runs the nodes through its credential; the peer is a lib/protocol participant that
 * answers and asks with the same decision logic. (Against the enmeshed App's runtime:
 * test/interop/runtime/app-requests.test.ts.)
 */
import { NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import { acceptIncomingRequest, createOwnAttribute, getOutgoingRequest, sendMessage, sendRequest, type Participant } from '../../../lib/protocol';
import { Enmeshed } from '../../../nodes/Enmeshed/Enmeshed.node';
import { newParticipant } from '../../helpers/participants';
import { relate } from '../../helpers/relate';
import { pollContext, rl } from '../context';
import { nodeIdentity, poll, runNode, runNodeError, type NodeIdentity } from '../helpers';

let platform: PlatformHandle;
let org: NodeIdentity;
let person: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  [org, person] = await Promise.all([nodeIdentity(platform.baseUrl), newParticipant(platform.baseUrl)]);
  await relate(org.lib, person);
  await createOwnAttribute(person, { valueType: 'EMailAddress', value: 'jane@example.org' });
  await createOwnAttribute(person, { valueType: 'GivenName', value: 'Jane' });
});
afterAll(() => platform?.close());

const run = (parameters: INodeParameters) => runNode({ credentials: org.credential, version: 2, parameters });
const runError = (parameters: INodeParameters) => runNodeError({ credentials: org.credential, version: 2, parameters });
const trigger = (events: string[], staticData: IDataObject) => poll(pollContext({ parameters: { events }, credentials: org.credential, mode: 'trigger', staticData }));

test('v2 offers Request and Attribute; v1 does not change', () => {
  const resources = (v: 1 | 2) =>
    ((new Enmeshed().nodeVersions[v].description.properties.find((p) => p.name === 'resource')!.options ?? []) as { value: string }[]).map((o) => o.value);
  expect(resources(2)).toEqual(expect.arrayContaining(['request', 'attribute']));
  expect(resources(1)).not.toContain('request');
  expect(new Enmeshed().nodeVersions[2].description.usableAsTool).toBe(true);
});

describe('Attribute', () => {
  test('Create (a text and a StreetAddress as JSON), Get, Update to a new version, Get Many', async () => {
    const [name] = await run({ resource: 'attribute', operation: 'create', valueType: 'DisplayName', value: 'Stadtwerke Musterstadt' });
    expect(name.json).toMatchObject({ kind: 'own', valueType: 'DisplayName', value: 'Stadtwerke Musterstadt', owner: org.address, isCurrent: true, created: true });
    const [again] = await run({ resource: 'attribute', operation: 'create', valueType: 'DisplayName', value: 'Stadtwerke Musterstadt' });
    expect(again.json).toMatchObject({ id: name.json.id, created: false });
    const [address] = await run({
      resource: 'attribute',
      operation: 'create',
      valueType: 'StreetAddress',
      value: '{"recipient":"Stadtwerke","street":"Am Markt","houseNo":"1","zipCode":"12345","city":"Musterstadt","country":"DE"}',
    });
    expect(address.json.value).toEqual({ recipient: 'Stadtwerke', street: 'Am Markt', houseNo: '1', zipCode: '12345', city: 'Musterstadt', country: 'DE' });

    const [got] = await run({ resource: 'attribute', operation: 'get', attributeId: address.json.id as string });
    expect(got.json).toMatchObject({ id: address.json.id, valueType: 'StreetAddress' });
    const [updated] = await run({ resource: 'attribute', operation: 'update', attributeId: name.json.id as string, value: 'Stadtwerke Musterstadt GmbH' });
    expect(updated.json).toMatchObject({ value: 'Stadtwerke Musterstadt GmbH', succeeds: name.json.id, isCurrent: true });

    const current = await run({ resource: 'attribute', operation: 'getMany', which: 'own', returnAll: true });
    expect(current.map((i) => i.json.value)).toEqual([updated.json.value, address.json.value]);
    const all = await run({ resource: 'attribute', operation: 'getMany', which: 'own', returnAll: true, options: { versions: true } });
    expect(all).toHaveLength(3);
  });

  test('bad input is a clear error', async () => {
    const invalid = await runError({ resource: 'attribute', operation: 'create', valueType: 'EMailAddress', value: 'nobody' });
    expect(invalid).toBeInstanceOf(NodeOperationError);
    expect(invalid.description).toMatch(/not an e-mail address/);
    expect((await runError({ resource: 'attribute', operation: 'get', attributeId: 'x' })).message).toMatch(/Attribute ID "x" is not a valid ID/);
    expect((await runError({ resource: 'attribute', operation: 'get', attributeId: 'ATTnothing0000000000' })).message).toMatch(/There is no attribute/);
  });
});

describe('Request sent by us', () => {
  const staticData: IDataObject = {};
  let requestId: string;

  test('the builder\'s items go out as a Request; the trigger reports the answer with one field per value type', async () => {
    expect(await trigger(['requestAnswered'], staticData)).toBeNull(); // the first active poll seeds
    const [sent] = await run({
      resource: 'request',
      operation: 'send',
      to: rl('list', person.address),
      itemsUi: {
        item: [
          { itemType: 'readAttribute', valueType: 'EMailAddress' },
          { itemType: 'readAttribute', valueType: 'GivenName' },
          { itemType: 'consent', consent: 'Ich bin einverstanden.', link: 'https://stadtwerke.example/datenschutz' },
          { itemType: 'freeText', title: 'Anmerkungen', multiline: true, mustBeAccepted: false },
          { itemType: 'formField', title: 'Wann erreichen wir Sie?', formType: 'selection', choices: 'Vormittags, Nachmittags' },
        ],
      },
      options: { title: 'Ihre Kontaktdaten', expiresInHours: 24 },
    });
    requestId = sent.json.id as string;
    expect(sent.json).toMatchObject({ direction: 'outgoing', peer: person.address, status: 'Open', title: 'Ihre Kontaktdaten' });
    expect((sent.json.items as IDataObject[]).map((i) => i.type)).toEqual([
      'ReadAttributeRequestItem',
      'ReadAttributeRequestItem',
      'ConsentRequestItem',
      'FormFieldRequestItem',
      'FormFieldRequestItem',
    ]);
    expect(Date.parse(sent.json.expiresAt as string) - Date.now()).toBeGreaterThan(23 * 3_600_000);

    await acceptIncomingRequest(person, requestId, [
      { accept: true },
      { accept: true },
      { accept: true },
      { accept: true, response: 'Bitte nur per E-Mail' },
      { accept: true, response: 'Nachmittags' },
    ]);
    const answered = await trigger(['requestAnswered'], staticData);
    expect(answered).toHaveLength(1);
    expect(answered![0].json).toMatchObject({
      event: 'requestAnswered',
      requestId,
      peer: person.address,
      status: 'Completed',
      accepted: true,
      taken: true,
      attributes: { EMailAddress: 'jane@example.org', GivenName: 'Jane' },
      problems: [],
    });
    expect((answered![0].json.items as IDataObject[]).map((i) => i.response ?? i.value ?? i.result)).toEqual(['jane@example.org', 'Jane', 'Accepted', 'Bitte nur per E-Mail', 'Nachmittags']);
    expect(await trigger(['requestAnswered'], staticData)).toBeNull(); // exactly once
  });

  test('Get shows the answer, Get Many lists it, and the peer\'s attributes are listed with their Request', async () => {
    const [got] = await run({ resource: 'request', operation: 'get', direction: 'outgoing', requestId });
    expect(got.json).toMatchObject({ status: 'Completed', attributes: { EMailAddress: 'jane@example.org', GivenName: 'Jane' } });
    const many = await run({ resource: 'request', operation: 'getMany', direction: 'outgoing', returnAll: true, filters: { status: ['Completed'] } });
    expect(many.map((i) => i.json.id)).toContain(requestId);
    const attributes = await run({ resource: 'attribute', operation: 'getMany', which: 'peer', peer: rl('list', person.address), returnAll: true });
    expect(attributes.map((a) => [a.json.valueType, a.json.value, (a.json.source as IDataObject).requestId])).toEqual([
      ['GivenName', 'Jane', requestId],
      ['EMailAddress', 'jane@example.org', requestId],
    ]);
  });

  test('JSON mode: any item of @nmshd/content 7.0.0; what the App cannot read is refused before sending', async () => {
    const [sent] = await run({
      resource: 'request',
      operation: 'send',
      to: rl('address', person.address),
      itemsMode: 'json',
      requestJson: JSON.stringify([{ '@type': 'RequestItemGroup', title: 'Daten', items: [{ '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'BirthDate' } }] }]),
    });
    expect(sent.json.content).toMatchObject({ items: [{ '@type': 'RequestItemGroup', title: 'Daten' }] });
    const unknown = await runError({
      resource: 'request',
      operation: 'send',
      to: rl('address', person.address),
      itemsMode: 'json',
      requestJson: '{"items":[{"@type":"FreeTextRequestItem","mustBeAccepted":true,"title":"?"}]}',
    });
    expect(unknown.description).toMatch(/must be a known RequestItem type/);
    expect((await runError({ resource: 'request', operation: 'send', to: rl('address', person.address), itemsMode: 'json', requestJson: '{' })).message).toMatch(/Request \(JSON\) is not valid JSON/);
    expect((await runError({ resource: 'request', operation: 'send', to: rl('address', person.address) })).message).toMatch(/has no items/);
    expect((await runError({ resource: 'request', operation: 'get', direction: 'outgoing', requestId: 'nope' })).message).toMatch(/Request ID "nope" is not a valid ID/);
  });
});

describe('Request received', () => {
  const staticData: IDataObject = {};

  test('the trigger reports it; Get Many, Can Accept and Accept answer it with our own attribute', async () => {
    expect(await trigger(['requestReceived'], staticData)).toBeNull();
    const asked = await sendRequest(person, {
      peer: org.address,
      request: { items: [{ kind: 'readAttribute', valueType: 'DisplayName' }, { kind: 'consent', consent: 'AGB akzeptiert?' }] },
    });
    const received = await trigger(['requestReceived'], staticData);
    expect(received?.map((i) => i.json)).toEqual([
      expect.objectContaining({ event: 'requestReceived', id: asked.id, peer: person.address, status: 'Open', messageId: asked.messageId }),
    ]);
    expect((received![0].json.items as IDataObject[]).map((i) => [i.type, i.valueType ?? i.consent])).toEqual([
      ['ReadAttributeRequestItem', 'DisplayName'],
      ['ConsentRequestItem', 'AGB akzeptiert?'],
    ]);

    const open = await run({ resource: 'request', operation: 'getMany', direction: 'incoming', returnAll: true, filters: { status: ['Open'] } });
    expect(open.map((i) => i.json.id)).toEqual([asked.id]);
    const [check] = await run({ resource: 'request', operation: 'canAccept', requestId: asked.id });
    expect(check.json).toMatchObject({ canAccept: true, problems: [] });
    expect((check.json.decisions as IDataObject[])[0]).toMatchObject({ accepted: true, valueType: 'DisplayName', value: 'Stadtwerke Musterstadt GmbH' });

    const [accepted] = await run({ resource: 'request', operation: 'accept', requestId: asked.id });
    expect(accepted.json).toMatchObject({ status: 'Completed', response: { result: 'Accepted' } });
    expect((await getOutgoingRequest(person, asked.id)).response?.summary.attributes).toEqual({ DisplayName: 'Stadtwerke Musterstadt GmbH' });
    const shared = await run({ resource: 'attribute', operation: 'getMany', which: 'shared', peer: rl('list', person.address), returnAll: true });
    expect(shared.map((s) => s.json.value)).toEqual(['Stadtwerke Musterstadt GmbH']);
  });

  test('decisions as JSON; what cannot be accepted is a clear error; Reject says why', async () => {
    const asked = await sendRequest(person, { peer: org.address, request: { items: [{ kind: 'readAttribute', valueType: 'Website' }, { kind: 'freeText', title: 'Warum?' }] } });
    const refused = await runError({ resource: 'request', operation: 'accept', requestId: asked.id });
    expect(refused.message).toMatch(/cannot be accepted: request\.items\[0\] \(ReadAttributeRequestItem\): we have no own Website/);
    const [accepted] = await run({
      resource: 'request',
      operation: 'accept',
      requestId: asked.messageId,
      decideMode: 'json',
      decisions: '[{"accept":true,"value":"https://stadtwerke.example"},{"accept":true,"response":"Darum."}]',
    });
    expect((accepted.json.decisions as IDataObject[]).map((d) => d.effect ?? d.accepted)).toEqual(['shared', true]);
    expect((await runError({ resource: 'request', operation: 'accept', requestId: asked.id })).message).toMatch(/already answered/);

    const another = await sendRequest(person, { peer: org.address, request: { items: [{ kind: 'consent', consent: 'Werbung?' }] } });
    const [rejected] = await run({ resource: 'request', operation: 'reject', requestId: another.id, options: { code: 'org.noAds', message: 'Keine Werbung' } });
    expect(rejected.json).toMatchObject({ status: 'Completed', response: { result: 'Rejected', items: [{ code: 'org.noAds', message: 'Keine Werbung' }] } });
  });

  test('a message the trigger cannot take apart never stops it: unknown content is listed raw', async () => {
    const own: IDataObject = {};
    expect(await trigger(['requestReceived', 'requestAnswered'], own)).toBeNull();
    const weird = { '@type': 'Request', id: 'REQweird000000000000', items: [{ '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: false, offer: { x: 1 } }] };
    await sendMessage(person, { recipients: [org.address], content: weird });
    await sendMessage(person, { recipients: [org.address], content: { '@type': 'ResponseWrapper', requestId: 'REQnever000000000000', response: { result: 'Accepted', items: [] } } });
    const received = await trigger(['requestReceived', 'requestAnswered'], own);
    expect(received?.map((i) => i.json.event)).toEqual(['requestReceived', 'requestAnswered']);
    expect(received![0].json.items).toEqual([{ path: [0], type: 'ShareCredentialOfferRequestItem', mustBeAccepted: false, unknown: true, raw: weird.items[0] }]);
    expect(received![1].json).toMatchObject({ taken: false, problems: ['It answers no Request we sent to this peer'] });
  });
});
