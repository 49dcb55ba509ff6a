/**
 * Requests by message between our organisation (lib/protocol) and the enmeshed App's logic: a real, unmodified
 * @nmshd/runtime 7.0.0 (./app-runtime.ts, with RequestModule and DeciderModule) plays the person, through the local
 * Platform.
 *
 *   1. our Request (ReadAttribute of EMailAddress and GivenName, plus a Consent) reaches the runtime's RequestModule
 *      and waits for the person; the person accepts with their own attributes; the runtime answers with a
 *      ResponseWrapper; our trigger's poll emits "Request Answered" with exactly those values, and the peer's
 *      attributes list them;
 *   2. asked again, the App sends the id of the attribute shared before; we still know the value;
 *   3. the person rejects a Request; another one expires unanswered;
 *   4. the runtime sends us a Request (ReadAttribute of our DisplayName, ProposeAttribute of a Website): we accept,
 *      and the runtime holds our attributes under our ids; a second one we reject.
 *
 * Each step fails when the runtime logged an error or one of its event handlers threw.
 */
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import {
  acceptIncomingRequest,
  acceptRelationship,
  buildRelationshipTemplateContent,
  canAcceptIncomingRequest,
  checkForAnswers,
  createOwnAttribute,
  createTemplate,
  getOutgoingRequest,
  listIncomingRequests,
  listPeerAttributes,
  listSharedAttributes,
  rejectIncomingRequest,
  sendRequest,
  sync,
} from '../../../lib/protocol';
import type { IDataObject } from 'n8n-workflow';
import { inOneDay, newParticipant } from '../../helpers/participants';
import { pollContext, rl } from '../../nodes/context';
import { poll, runNode } from '../../nodes/helpers';
import { AppRuntime, ok } from './app-runtime';

const EMAIL = 'juergen.mueller@example.org';
const GIVEN_NAME = 'Jürgen';
const ORG_NAME = 'Stadtwerke Musterstadt';

let platform: PlatformHandle;
let org: Awaited<ReturnType<typeof newParticipant>>;
let app: AppRuntime;
let person: string;
let emailId: string;
let givenNameId: string;

/** A step that also fails when the runtime logged an error or an event handler of it threw. */
function step(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  test(
    name,
    async () => {
      app.markCheckpoint();
      const logged = app.logged.length;
      const thrown = app.handlerErrors.length;
      await fn();
      expect(app.logged.slice(logged).filter((e) => e.level !== 'warn').map((e) => `${e.logger}: ${e.text}`)).toEqual([]);
      expect(app.handlerErrors.slice(thrown)).toEqual([]);
    },
    timeoutMs,
  );
}

/** The runtime receives our Request message; its DeciderModule leaves it to the person. Returns the runtime's Request. */
async function received(requestId: string): Promise<{ id: string; status: string; content: { items: unknown[] } }> {
  await app.syncUntil(async () => ok(await app.consumptionServices.incomingRequests.getRequests({ query: { id: requestId } })).length > 0);
  await app.waitForEvent<{ request: { id: string }; newStatus: string }>(
    'consumption.incomingRequestStatusChanged',
    (d) => d.request.id === requestId && d.newStatus === 'ManualDecisionRequired',
  );
  return ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId })) as never;
}

/** The runtime's answer, once its RequestModule sent it. */
async function answered(requestId: string): Promise<void> {
  await app.waitForEvent<{ request: { id: string }; newStatus: string }>('consumption.incomingRequestStatusChanged', (d) => d.request.id === requestId && d.newStatus === 'Completed');
}

beforeAll(async () => {
  platform = await startPlatform({});
  org = await newParticipant(platform.baseUrl);
  app = await AppRuntime.launch({ baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
  person = await app.address();
  // the relationship: our App template (a consent), accepted in the App, then by us
  const content = buildRelationshipTemplateContent({ title: 'Kundenkonto', consent: 'Ich bin einverstanden.', expiresAt: inOneDay() });
  const template = await createTemplate(org, { content: { ...content }, expiresAt: inOneDay() });
  ok(await app.transportServices.relationshipTemplates.loadPeerRelationshipTemplate({ reference: template.truncatedReference }));
  const processed = await app.waitForEvent<{ requestId?: string }>('consumption.relationshipTemplateProcessed');
  ok(await app.consumptionServices.incomingRequests.accept({ requestId: processed.requestId!, items: [{ accept: true }] }));
  await app.waitForEvent<{ newStatus: string }>('consumption.incomingRequestStatusChanged', (d) => d.newStatus === 'Completed');
  const [relationship] = ok(await app.transportServices.relationships.getRelationships({}));
  await sync(org);
  await acceptRelationship(org, relationship.id);
  await app.syncUntil(async () => ok(await app.transportServices.relationships.getRelationship({ id: relationship.id })).status === 'Active');
  // the person's profile
  emailId = ok(await app.consumptionServices.attributes.createOwnIdentityAttribute({ content: { value: { '@type': 'EMailAddress', value: EMAIL } } })).id;
  givenNameId = ok(await app.consumptionServices.attributes.createOwnIdentityAttribute({ content: { value: { '@type': 'GivenName', value: GIVEN_NAME } } })).id;
}, 90_000);

afterAll(async () => {
  await app?.close();
  await platform?.close();
});

describe('our Request, answered in the App', () => {
  let requestId: string;
  /** The static data of our Enmeshed Trigger ("Request Answered"), as n8n keeps it between polls. */
  const triggerData: IDataObject = {};
  const triggerPoll = () => poll(pollContext({ parameters: { events: ['requestAnswered'] }, credentials: { ...org.credential }, mode: 'trigger', staticData: triggerData }));

  step('the Request reaches the RequestModule and waits for the person, item by item as we sent it', async () => {
    expect(await triggerPoll()).toBeNull(); // the trigger's first active poll: from now on
    const sent = await sendRequest(org, {
      peer: person,
      request: {
        title: 'Ihre Kontaktdaten',
        items: [
          { kind: 'readAttribute', valueType: 'EMailAddress' },
          { kind: 'readAttribute', valueType: 'GivenName' },
          { kind: 'consent', consent: 'Ich bin mit der Verarbeitung einverstanden.', link: 'https://stadtwerke.example/datenschutz' },
        ],
      },
    });
    requestId = sent.id;
    const request = await received(requestId);
    expect(request).toMatchObject({ id: requestId, status: 'ManualDecisionRequired', source: { type: 'Message', reference: sent.messageId } });
    expect(request.content.items).toEqual(sent.content.items);
    // the App shows our query with the person's attribute as the answer
    const dvo = await app.dataViewExpander.expandLocalRequestDTO(ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId })));
    expect(JSON.stringify(dvo.items[0])).toContain(EMAIL);
  });

  step('the person accepts with their attributes; our trigger emits Request Answered with exactly those values', async () => {
    const items = [{ accept: true, existingAttributeId: emailId }, { accept: true, existingAttributeId: givenNameId }, { accept: true }];
    ok(await app.consumptionServices.incomingRequests.accept({ requestId, items }));
    await answered(requestId);

    const emitted = await triggerPoll();
    expect(emitted?.map((i) => i.json)).toEqual([
      expect.objectContaining({ event: 'requestAnswered', requestId, peer: person, status: 'Completed', accepted: true, taken: true, problems: [] }),
    ]);
    expect(emitted![0].json.attributes).toEqual({ EMailAddress: EMAIL, GivenName: GIVEN_NAME });
    expect(await checkForAnswers(org)).toEqual([]); // taken by the trigger already
    const request = await getOutgoingRequest(org, requestId);
    expect(request.status).toBe('Completed');
    expect(request.response?.summary.items.map((i) => [i.requestItemType, i.type, i.attributeId])).toEqual([
      ['ReadAttributeRequestItem', 'ReadAttributeAcceptResponseItem', emailId],
      ['ReadAttributeRequestItem', 'ReadAttributeAcceptResponseItem', givenNameId],
      ['ConsentRequestItem', 'AcceptResponseItem', undefined],
    ]);
    const attributes = await listPeerAttributes(org, person);
    expect(attributes.map((a) => ({ id: a.id, value: a.content.value, owner: a.content.owner, requestId: a.source.requestId }))).toEqual([
      { id: emailId, value: { '@type': 'EMailAddress', value: EMAIL }, owner: person, requestId },
      { id: givenNameId, value: { '@type': 'GivenName', value: GIVEN_NAME }, owner: person, requestId },
    ]);
    // Attribute → Get Many of that peer, as a workflow reads them
    const listed = await runNode({
      credentials: { ...org.credential },
      version: 2,
      parameters: { resource: 'attribute', operation: 'getMany', which: 'peer', peer: rl('address', person), returnAll: true },
    });
    expect(listed.map((i) => [i.json.valueType, i.json.value, i.json.id])).toEqual([
      ['GivenName', GIVEN_NAME, givenNameId],
      ['EMailAddress', EMAIL, emailId],
    ]);
    // the runtime completed its side with the message that carried our Request
    const completed = ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId }));
    expect(completed.response?.content.result).toBe('Accepted');
  });

  step('asked again, the App sends only the id of the e-mail address shared before; we still know the value', async () => {
    const again = await sendRequest(org, { peer: person, request: { items: [{ kind: 'readAttribute', valueType: 'EMailAddress' }] } });
    await received(again.id);
    ok(await app.consumptionServices.incomingRequests.accept({ requestId: again.id, items: [{ accept: true, existingAttributeId: emailId } as never] }));
    await answered(again.id);
    await checkForAnswers(org);
    const request = await getOutgoingRequest(org, again.id);
    expect(request.response?.summary.items[0]).toMatchObject({ type: 'AttributeAlreadySharedAcceptResponseItem', attributeId: emailId });
    expect(request.response?.summary.attributes).toEqual({ EMailAddress: EMAIL });
  });

  step('the person rejects: the answer comes back Rejected, and nothing is stored', async () => {
    const before = await listPeerAttributes(org, person);
    const ask = await sendRequest(org, { peer: person, request: { items: [{ kind: 'readAttribute', valueType: 'BirthDate', mustBeAccepted: false }, { kind: 'consent', consent: 'Werbung' }] } });
    await received(ask.id);
    ok(await app.consumptionServices.incomingRequests.reject({ requestId: ask.id, items: [{ accept: false }, { accept: false }] }));
    await answered(ask.id);
    await checkForAnswers(org);
    const request = await getOutgoingRequest(org, ask.id);
    expect(request).toMatchObject({ status: 'Completed', response: { accepted: false } });
    expect(request.response?.summary.items.map((i) => [i.type, i.result])).toEqual([
      ['RejectResponseItem', 'Rejected'],
      ['RejectResponseItem', 'Rejected'],
    ]);
    expect(await listPeerAttributes(org, person)).toEqual(before);
  });

  step('a Request nobody answers expires, for us and in the App', async () => {
    const ask = await sendRequest(org, { peer: person, request: { expiresAt: new Date(Date.now() + 3000).toISOString(), items: [{ kind: 'consent', consent: 'Nur kurz' }] } });
    await received(ask.id);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect((await getOutgoingRequest(org, ask.id)).status).toBe('Expired');
    expect(ok(await app.consumptionServices.incomingRequests.getRequest({ id: ask.id })).status).toBe('Expired');
    // the App no longer lets the person decide it
    const canAccept = await app.consumptionServices.incomingRequests.canAccept({ requestId: ask.id, items: [{ accept: true }] });
    expect(canAccept.isError && canAccept.error.message).toMatch(/has to be in status 'DecisionRequired\/ManualDecisionRequired'/);
  }, 30_000);
});

describe('the App\'s runtime asks us', () => {
  let ourNameId: string;

  /** The runtime creates a Request to us and sends it by message, as the App and the Connector do. */
  async function runtimeAsks(items: unknown[]): Promise<{ id: string; messageId: string }> {
    const created = ok(await app.consumptionServices.outgoingRequests.create({ content: { items: items as never }, peer: org.address }));
    const message = ok(await app.transportServices.messages.sendMessage({ recipients: [org.address], content: created.content }));
    return { id: created.id, messageId: message.id };
  }

  async function runtimeGetsAnswer(requestId: string): Promise<{ status: string; response?: { content: { result: string; items: unknown[] } } }> {
    await app.syncUntil(async () => ok(await app.consumptionServices.outgoingRequests.getRequest({ id: requestId })).status === 'Completed');
    return ok(await app.consumptionServices.outgoingRequests.getRequest({ id: requestId })) as never;
  }

  step('a ReadAttribute of our DisplayName and a proposed Website: we accept; the runtime holds both under our ids', async () => {
    ourNameId = (await createOwnAttribute(org, { valueType: 'DisplayName', value: ORG_NAME })).attribute.id;
    const asked = await runtimeAsks([
      { '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } },
      {
        '@type': 'ProposeAttributeRequestItem',
        mustBeAccepted: false,
        query: { '@type': 'IdentityAttributeQuery', valueType: 'Website' },
        attribute: { '@type': 'IdentityAttribute', owner: '', value: { '@type': 'Website', value: 'https://stadtwerke.example' } },
      },
    ]);
    const [incoming] = await listIncomingRequests(org, { status: ['Open'] });
    expect(incoming).toMatchObject({ id: asked.id, messageId: asked.messageId, peer: person, problems: [] });
    expect(incoming.items.map((i) => [i.type, i.mustBeAccepted, i.known])).toEqual([
      ['ReadAttributeRequestItem', true, true],
      ['ProposeAttributeRequestItem', false, true],
    ]);
    expect((await canAcceptIncomingRequest(org, asked.id)).problems).toEqual([]);

    const accepted = await acceptIncomingRequest(org, asked.id);
    expect(accepted.request.status).toBe('Completed');
    const websiteId = accepted.items[1].attributeId;
    const answer = await runtimeGetsAnswer(asked.id);
    expect(answer.response?.content.result).toBe('Accepted');
    const held = ok(await app.consumptionServices.attributes.getPeerAttributes({ peer: org.address }));
    expect(held.map((a) => ({ id: a.id, value: a.content.value, owner: (a.content as { owner: string }).owner }))).toEqual([
      { id: ourNameId, value: { '@type': 'DisplayName', value: ORG_NAME }, owner: org.address },
      { id: websiteId, value: { '@type': 'Website', value: 'https://stadtwerke.example' }, owner: org.address },
    ]);
    expect((await listSharedAttributes(org, person)).map((s) => s.attributeId)).toEqual([ourNameId, websiteId]);
    // the App names us by the DisplayName we sent
    expect(await app.dataViewExpander.expandAddress(org.address)).toMatchObject({ name: ORG_NAME });
  });

  step('asked for our DisplayName again, we send its id only, and the runtime takes that', async () => {
    const asked = await runtimeAsks([{ '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } }]);
    const accepted = await acceptIncomingRequest(org, asked.messageId);
    expect(accepted.request.response?.items[0]).toEqual({ '@type': 'AttributeAlreadySharedAcceptResponseItem', result: 'Accepted', attributeId: ourNameId });
    expect((await runtimeGetsAnswer(asked.id)).response?.content.result).toBe('Accepted');
  });

  step('we reject a Request: the runtime completes it as Rejected with our reason', async () => {
    const asked = await runtimeAsks([{ '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'BirthDate' } }]);
    expect((await canAcceptIncomingRequest(org, asked.id)).problems).toEqual([expect.stringMatching(/we have no own BirthDate/)]);
    await rejectIncomingRequest(org, asked.id, { code: 'org.noBirthDate', message: 'Eine Organisation hat kein Geburtsdatum.' });
    const answer = await runtimeGetsAnswer(asked.id);
    expect(answer.response?.content).toMatchObject({ result: 'Rejected', items: [{ '@type': 'RejectResponseItem', code: 'org.noBirthDate', message: 'Eine Organisation hat kein Geburtsdatum.' }] });
  });
});
