/**
 * Requests by message between two participants of our own, through the local Platform: an
 * organisation asks, a second participant answers with our own decision logic, and both keep the
 * attributes in their datawallets. (The same against the enmeshed App's runtime: test/interop/runtime.)
 */
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  acceptIncomingRequest,
  canAcceptIncomingRequest,
  checkForAnswers,
  createOwnAttribute,
  getIncomingRequest,
  getOutgoingRequest,
  listIncomingRequests,
  listOutgoingRequests,
  listPeerAttributes,
  listRelationshipAttributes,
  listSharedAttributes,
  openParticipant,
  rejectIncomingRequest,
  sendMessage,
  sendRequest,
  succeedOwnAttribute,
  takeAnswer,
  getMessage,
  type Participant,
} from '../../lib/protocol';
import { relate } from '../helpers/relate';
import { newParticipant } from '../helpers/participants';

let platform: PlatformHandle;
let org: Participant & { credential: Parameters<typeof openParticipant>[0] };
let person: Participant;

beforeAll(async () => {
  platform = await startPlatform({});
  org = await newParticipant(platform.baseUrl);
  person = await newParticipant(platform.baseUrl);
  await relate(org, person);
});
afterAll(() => platform.close());

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

const inSeconds = (s: number): string => new Date(Date.now() + s * 1000).toISOString();

describe('an organisation asks for attributes; the peer answers', () => {
  let requestId: string;
  let emailId: string;

  test('the Request arrives as an Open incoming Request, item by item', async () => {
    emailId = (await createOwnAttribute(person, { valueType: 'EMailAddress', value: 'jane@example.org' })).attribute.id;
    await createOwnAttribute(person, { valueType: 'GivenName', value: 'Jane' });
    const sent = await sendRequest(org, {
      peer: person.address,
      request: {
        title: 'Ihre Kontaktdaten',
        items: [
          { kind: 'readAttribute', valueType: 'EMailAddress' },
          { kind: 'readAttribute', valueType: 'GivenName' },
          { kind: 'consent', consent: 'Ich bin einverstanden.' },
        ],
      },
    });
    requestId = sent.id;
    expect(sent).toMatchObject({ peer: person.address, status: 'Open', content: { '@type': 'Request', id: requestId, title: 'Ihre Kontaktdaten' } });
    expect(sent.messageId).toMatch(/^MSG/);

    const incoming = await listIncomingRequests(person, { status: ['Open'] });
    expect(incoming.map((r) => r.id)).toEqual([requestId]);
    expect(incoming[0]).toMatchObject({ peer: org.address, messageId: sent.messageId, title: 'Ihre Kontaktdaten', problems: [] });
    expect(incoming[0].items.map((i) => [i.type, i.mustBeAccepted, i.known])).toEqual([
      ['ReadAttributeRequestItem', true, true],
      ['ReadAttributeRequestItem', true, true],
      ['ConsentRequestItem', true, true],
    ]);
  });

  test('canAccept says how each item would be answered, and changes nothing', async () => {
    const check = await canAcceptIncomingRequest(person, requestId);
    expect(check.problems).toEqual([]);
    expect(check.items.map((i) => [i.type, i.accepted, i.effect, (i.attribute?.value as { value?: string })?.value])).toEqual([
      ['ReadAttributeRequestItem', true, 'shared', 'jane@example.org'],
      ['ReadAttributeRequestItem', true, 'shared', 'Jane'],
      ['ConsentRequestItem', true, undefined, undefined],
    ]);
    expect(await listSharedAttributes(person, org.address)).toEqual([]);
  });

  test('accepting sends the Response; the organisation takes it and keeps the values as the peer\'s', async () => {
    const accepted = await acceptIncomingRequest(person, requestId);
    expect(accepted.request).toMatchObject({ status: 'Completed', response: { result: 'Accepted', requestId } });
    expect((await listSharedAttributes(person, org.address)).map((s) => s.content?.value)).toEqual([
      { '@type': 'EMailAddress', value: 'jane@example.org' },
      { '@type': 'GivenName', value: 'Jane' },
    ]);

    const taken = await checkForAnswers(org);
    expect(taken).toHaveLength(1);
    expect(taken[0].problems).toEqual([]);
    const request = await getOutgoingRequest(org, requestId);
    expect(request.status).toBe('Completed');
    expect(request.response?.accepted).toBe(true);
    expect(request.response?.summary.attributes).toEqual({ EMailAddress: 'jane@example.org', GivenName: 'Jane' });
    const attributes = await listPeerAttributes(org, person.address);
    expect(attributes.map((a) => [a.id === emailId, a.content.value, a.source])).toEqual([
      [true, { '@type': 'EMailAddress', value: 'jane@example.org' }, { via: 'response', requestId, messageId: request.response!.messageId }],
      [false, { '@type': 'GivenName', value: 'Jane' }, { via: 'response', requestId, messageId: request.response!.messageId }],
    ]);
    // the same message again: nothing new
    expect(await checkForAnswers(org)).toEqual([]);
  });

  test('a second accept is refused; asking again gives the id only, and we still know the value', async () => {
    expect(await failure(acceptIncomingRequest(person, requestId))).toMatchObject({ code: 'protocol.request.alreadyAnswered' });
    const again = await sendRequest(org, { peer: person.address, request: { items: [{ kind: 'readAttribute', valueType: 'EMailAddress' }] } });
    await acceptIncomingRequest(person, again.messageId);
    await checkForAnswers(org);
    const answered = await getOutgoingRequest(org, again.id, { checkAnswers: false });
    expect(answered.response?.summary.items[0]).toMatchObject({ type: 'AttributeAlreadySharedAcceptResponseItem', attributeId: emailId });
    expect(answered.response?.summary.attributes).toEqual({ EMailAddress: 'jane@example.org' });
  });

  test('a new value of the peer arrives as a succession: the old one is kept as a replaced version', async () => {
    const { successor } = await succeedOwnAttribute(person, emailId, { value: 'jane.doe@example.org' });
    const ask = await sendRequest(org, { peer: person.address, request: { items: [{ kind: 'readAttribute', valueType: 'EMailAddress' }] } });
    await acceptIncomingRequest(person, ask.id);
    await checkForAnswers(org);
    expect((await getOutgoingRequest(org, ask.id)).response?.summary.items[0]).toMatchObject({
      type: 'AttributeSuccessionAcceptResponseItem',
      predecessorId: emailId,
      attributeId: successor.id,
    });
    const current = await listPeerAttributes(org, person.address);
    expect(current.filter((a) => a.content.value['@type'] === 'EMailAddress').map((a) => a.content.value)).toEqual([{ '@type': 'EMailAddress', value: 'jane.doe@example.org' }]);
    const all = await listPeerAttributes(org, person.address, { versions: true });
    expect(all.find((a) => a.id === emailId)).toMatchObject({ succeededBy: successor.id });
  });

  test('a rejection comes back with the code and message of every item', async () => {
    const ask = await sendRequest(org, {
      peer: person.address,
      request: { items: [{ kind: 'readAttribute', valueType: 'BirthDate' }, { kind: 'consent', consent: 'Newsletter' }] },
    });
    const check = await canAcceptIncomingRequest(person, ask.id);
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([expect.stringMatching(/items\[0\] \(ReadAttributeRequestItem\): we have no own BirthDate/)]);
    expect((await failure(acceptIncomingRequest(person, ask.id))).code).toBe('protocol.request.cannotAnswer');
    await rejectIncomingRequest(person, ask.id, { code: 'n8n.declined', message: 'Kein Interesse' });
    const [answered] = (await listOutgoingRequests(org, { peer: person.address })).filter((r) => r.id === ask.id);
    expect(answered.status).toBe('Completed');
    expect(answered.response?.accepted).toBe(false);
    expect(answered.response?.summary.items.map((i) => [i.result, i.code, i.message])).toEqual([
      ['Rejected', 'n8n.declined', 'Kein Interesse'],
      ['Rejected', 'n8n.declined', 'Kein Interesse'],
    ]);
  });

  test('an unanswered Request expires: Expired for both, and it can no longer be accepted', async () => {
    const ask = await sendRequest(org, { peer: person.address, request: { expiresAt: inSeconds(2), items: [{ kind: 'consent', consent: 'Kurz gültig' }] } });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await getOutgoingRequest(org, ask.id)).status).toBe('Expired');
    expect((await getIncomingRequest(person, ask.id)).status).toBe('Expired');
    expect((await failure(acceptIncomingRequest(person, ask.messageId))).message).toMatch(/expired/);
  });

  test('another worker of the organisation (a fresh process) sees the same requests and attributes', async () => {
    const fresh = await openParticipant(org.credential, { shared: false });
    expect((await listOutgoingRequests(fresh, { checkAnswers: false })).map((r) => r.id)).toEqual((await listOutgoingRequests(org, { checkAnswers: false })).map((r) => r.id));
    expect(await listPeerAttributes(fresh, person.address)).toEqual(await listPeerAttributes(org, person.address));
  });
});

describe('every item kind, decided', () => {
  test('share, create, propose, relationship attributes, form fields, groups and deletion', async () => {
    const website = (await createOwnAttribute(org, { valueType: 'Website', value: 'https://stadtwerke.example' })).attribute;
    const sent = await sendRequest(org, {
      peer: person.address,
      request: {
        items: [
          { kind: 'shareAttribute', attributeId: website.id },
          { kind: 'createAttribute', valueType: 'PhoneNumber', value: '+49 30 1234567' },
          { kind: 'proposeAttribute', valueType: 'StreetAddress', value: { recipient: 'Jane Doe', street: 'Hauptstr.', houseNo: '1', zipCode: '10115', city: 'Berlin', country: 'DE' } },
          { kind: 'createRelationshipAttribute', key: 'customerNumber', valueType: 'ProprietaryString', value: { title: 'Kundennummer', value: 'K-4711' } },
          { kind: 'readRelationshipAttribute', key: 'meterReading', valueType: 'ProprietaryInteger', title: 'Zählerstand' },
          {
            title: 'Fragen',
            items: [
              { kind: 'freeText', title: 'Anmerkungen', multiline: true, mustBeAccepted: false },
              { kind: 'formField', title: 'Zufrieden?', settings: { '@type': 'BooleanFormFieldSettings' } },
            ],
          },
        ],
      },
    });
    const check = await canAcceptIncomingRequest(person, sent.id);
    // automatic decisions cannot invent a meter reading or answer a form field
    expect(check.problems).toEqual([
      expect.stringMatching(/items\[4\] \(ReadAttributeRequestItem\): the peer asks for a new ProprietaryInteger "Zählerstand": decide with its value/),
      expect.stringMatching(/items\[5\]\.items\[1\] \(FormFieldRequestItem\): the form field "Zufrieden\?" needs an answer/),
    ]);
    await acceptIncomingRequest(person, sent.id, [
      { accept: true },
      { accept: true },
      { accept: true },
      { accept: true },
      { accept: true, value: 1234 },
      { items: [{ accept: true, response: 'Bitte vormittags' }, { accept: true, response: true }] },
    ]);
    await checkForAnswers(org);
    const answered = await getOutgoingRequest(org, sent.id);
    expect(answered.response?.summary.problems).toEqual([]);
    expect(answered.response?.summary.items.map((i) => i.type)).toEqual([
      'AcceptResponseItem',
      'CreateAttributeAcceptResponseItem',
      'ProposeAttributeAcceptResponseItem',
      'CreateAttributeAcceptResponseItem',
      'ReadAttributeAcceptResponseItem',
      'FormFieldAcceptResponseItem',
      'FormFieldAcceptResponseItem',
    ]);
    expect(answered.response?.summary.items.slice(5).map((i) => i.response)).toEqual(['Bitte vormittags', true]);
    expect(answered.response?.summary.attributes).toMatchObject({
      PhoneNumber: '+49 30 1234567',
      StreetAddress: { recipient: 'Jane Doe', city: 'Berlin', country: 'DE' },
      ProprietaryInteger: { title: 'Zählerstand', value: 1234 },
    });

    // the person: our website as ours (received), the phone number and address as its own, the relationship attributes
    expect((await listPeerAttributes(person, org.address)).map((a) => [a.id, a.content.value])).toEqual([[website.id, website.content.value]]);
    const relationshipAttributes = await listRelationshipAttributes(person, org.address);
    expect(relationshipAttributes.map((r) => [r.content.key, r.content.owner === person.address])).toEqual([
      ['customerNumber', true],
      ['meterReading', true],
    ]);
    // the organisation: what it shared, and the same relationship attributes under the same ids
    expect((await listSharedAttributes(org, person.address)).map((s) => s.attributeId)).toEqual([website.id]);
    expect((await listRelationshipAttributes(org, person.address)).map((r) => r.id)).toEqual(relationshipAttributes.map((r) => r.id));

    // sharing it again is refused before anything is sent; then the organisation asks to delete the copy
    expect((await failure(sendRequest(org, { peer: person.address, request: { items: [{ kind: 'shareAttribute', attributeId: website.id }] } }))).message).toMatch(
      /already shared/,
    );
    const deletion = await sendRequest(org, { peer: person.address, request: { items: [{ kind: 'deleteAttribute', attributeId: website.id }] } });
    await acceptIncomingRequest(person, deletion.id);
    expect(await listPeerAttributes(person, org.address)).toEqual([]);
    await checkForAnswers(org);
    expect((await getOutgoingRequest(org, deletion.id)).response?.summary.items[0]).toMatchObject({ type: 'DeleteAttributeAcceptResponseItem' });
    expect(await listSharedAttributes(org, person.address)).toEqual([]);
  });
});

describe('tolerance: what a newer App or a malicious peer sends', () => {
  test('a Request with an item type we do not know is listed; optional it is rejected, mandatory it cannot be accepted', async () => {
    const unknownItem = { '@type': 'ShareCredentialOfferRequestItem', mustBeAccepted: false, credentialOffer: { x: 1 } };
    const request = { '@type': 'Request', id: 'REQnewerAppItem00001', items: [unknownItem, { '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'ok' }] };
    const sent = await sendMessage(org, { recipients: [person.address], content: request });
    const incoming = await getIncomingRequest(person, sent.id);
    expect(incoming.items.map((i) => [i.type, i.known])).toEqual([
      ['ShareCredentialOfferRequestItem', false],
      ['ConsentRequestItem', true],
    ]);
    expect(incoming.items[0].raw).toEqual(unknownItem);
    const answered = await acceptIncomingRequest(person, sent.id);
    expect(answered.request.response?.items[0]).toMatchObject({ '@type': 'RejectResponseItem', message: expect.stringMatching(/not known to this version/) });

    const mandatory = await sendMessage(org, { recipients: [person.address], content: { ...request, id: 'REQnewerAppItem00002', items: [{ ...unknownItem, mustBeAccepted: true }] } });
    expect((await canAcceptIncomingRequest(person, mandatory.id)).problems).toEqual([expect.stringMatching(/ShareCredentialOfferRequestItem is not known to this version/)]);
    await rejectIncomingRequest(person, mandatory.id);
  });

  test('an answer of a newer App keeps unknown items and value types raw; nothing of it is stored', async () => {
    const ask = await sendRequest(org, { peer: person.address, request: { items: [{ kind: 'readAttribute', valueType: 'DisplayName', mustBeAccepted: false }] } });
    const bank = { '@type': 'IdentityAttribute', owner: person.address, value: { '@type': 'BankAccount', iban: 'DE02120300000000202051', accountHolder: 'Jane' } };
    await sendMessage(person, {
      recipients: [org.address],
      content: {
        '@type': 'ResponseWrapper',
        requestId: ask.id,
        requestSourceReference: ask.messageId,
        requestSourceType: 'Message',
        response: { result: 'Accepted', requestId: ask.id, items: [{ '@type': 'ReadAttributeAcceptResponseItem', result: 'Accepted', attributeId: 'ATTbank0000000000000', attribute: bank }] },
      },
    });
    const [taken] = await checkForAnswers(org);
    expect(taken.summary.items[0]).toMatchObject({ invalid: true, attribute: { type: 'BankAccount', unknownType: true, value: { iban: 'DE02120300000000202051', accountHolder: 'Jane' } } });
    expect(taken.summary.problems).toEqual([expect.stringMatching(/sends a BankAccount, but a DisplayName was asked for/)]);
    expect((await listPeerAttributes(org, person.address)).some((a) => a.content.value['@type'] === 'BankAccount')).toBe(false);
  });

  test('an answer from someone else, or to a Request never sent, is reported and not taken', async () => {
    const ask = await sendRequest(org, { peer: person.address, request: { items: [{ kind: 'consent', consent: 'x' }] } });
    const third = await newParticipant(platform.baseUrl);
    await relate(org, third);
    const forged = await sendMessage(third, {
      recipients: [org.address],
      content: { '@type': 'ResponseWrapper', requestId: ask.id, requestSourceReference: ask.messageId, requestSourceType: 'Message', response: { result: 'Accepted', requestId: ask.id, items: [{ '@type': 'AcceptResponseItem', result: 'Accepted' }] } },
    });
    const taken = await takeAnswer(org, await getMessage(org, forged.id));
    expect(taken).toMatchObject({ taken: false, problems: [expect.stringMatching(/answers Request .* which was sent to .*, not to/)] });
    const neverSent = await sendMessage(person, {
      recipients: [org.address],
      content: { '@type': 'ResponseWrapper', requestId: 'REQneverSent00000000', requestSourceReference: 'MSGneverSent00000000', requestSourceType: 'Message', response: { result: 'Rejected', requestId: 'REQneverSent00000000', items: [] } },
    });
    expect(await takeAnswer(org, await getMessage(org, neverSent.id))).toMatchObject({ taken: false, problems: ['It answers no Request we sent to this peer'] });
    expect(await checkForAnswers(org)).toEqual([]);
    expect((await getOutgoingRequest(org, ask.id)).status).toBe('Open');
  });
});
