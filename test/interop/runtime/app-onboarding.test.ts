/**
 * Our organisation side against the enmeshed App's logic: a real, unmodified @nmshd/runtime 7.0.0 (./app-runtime.ts:
 * the runtime inside the App, with its RequestModule and DeciderModule) plays the person; our lib/protocol
 * participant plays the organisation; both talk to the local Platform.
 *
 *   1. we build an App template (buildRelationshipTemplateContent: title, our DisplayName shared, the person's
 *      DisplayName asked for, a consent) and share it as a truncated token reference;
 *   2. the runtime loads it; its RequestModule turns onNewRelationship into an incoming Request, which waits for
 *      the user (ManualDecisionRequired); the person accepts with a DisplayName from their profile, and the
 *      RequestModule sends the relationship request with a RelationshipCreationContent carrying the Response;
 *   3. we sync, read the creation content with parseRelationshipCreationContent and accept the relationship;
 *   4. the runtime sees it Active, stored our DisplayName as the peer's and names us by it; then Mails with an
 *      attachment both ways.
 * A second App (person B) first declines the whole Request, then loads the template again, types in a new
 * DisplayName and skips an optional item; we read that and reject the relationship (the App drops our attribute).
 * A third runtime does it the other way round: its App template (ShareAttribute, ReadAttribute, Consent) is
 * answered by our buildAcceptResponse, and its RequestModule validates and applies our Response.
 *
 * The steps build on each other and run in order. Each step fails when a runtime logged an error or one of its
 * event handlers threw (RequestModule, for one, only logs why it could not create the relationship), and
 * `waitForEvent` fails as soon as that happens instead of waiting for its timeout.
 * RUNTIME_PEER_LOG=1 prints the runtime's log.
 */
import type {
  AcceptReadAttributeRequestItemParametersWithExistingAttributeJSON,
  AcceptReadAttributeRequestItemParametersWithNewAttributeJSON,
  AcceptRequestItemParametersJSON,
} from '@nmshd/consumption';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../../platform/server';
import {
  acceptRelationship,
  buildAcceptResponse,
  buildMail,
  buildRelationshipTemplateContent,
  changeRelationship,
  createTemplate,
  createTemplateToken,
  downloadFile,
  getMessage,
  getRelationship,
  loadTemplate,
  parseRelationshipCreationContent,
  requestRelationship,
  sendMessage,
  sync,
  uploadFile,
  type Participant,
  type RelationshipTemplateContentJson,
} from '../../../lib/protocol';
import { inOneDay, newParticipant } from '../../helpers/participants';
import { AppRuntime, ok } from './app-runtime';

const ORG_NAME = 'Stadtwerke Musterstadt';
const PERSON_NAME = 'Jürgen Müller-Lüdenscheidt';
const CONSENT = 'Ich bin damit einverstanden, dass die Stadtwerke Musterstadt meine Daten für den Vertrag verarbeiten.';

let platform: PlatformHandle;
let org: Participant;
let app: AppRuntime;
let personAddress: string;
let templateContent: RelationshipTemplateContentJson;
let templateId: string;
let requestId: string;
let relationshipId: string;
let ownDisplayNameId: string;

/** Every App runtime launched, for the checks of `step` and for afterAll. */
const runtimes: AppRuntime[] = [];

/** A step that also fails when a runtime logged an error or an event handler of it threw. */
function step(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  test(
    name,
    async () => {
      const before = runtimes.map((r) => ({ r, logged: r.logged.length, thrown: r.handlerErrors.length }));
      for (const r of runtimes) r.markCheckpoint();
      await fn();
      for (const { r, logged, thrown } of before) {
        const errors = r.logged.slice(logged).filter((e) => e.level !== 'warn');
        expect(errors.map((e) => `${e.logger}: ${e.text}`)).toEqual([]);
        expect(r.handlerErrors.slice(thrown)).toEqual([]);
      }
    },
    timeoutMs,
  );
}


/** The App's answer: take our DisplayName, answer the query with the profile's DisplayName, agree to the consent. */
function acceptWithProfileName(): AcceptRequestItemParametersJSON[] {
  const fromProfile: AcceptReadAttributeRequestItemParametersWithExistingAttributeJSON = { accept: true, existingAttributeId: ownDisplayNameId };
  return [{ accept: true }, fromProfile, { accept: true }];
}

beforeAll(async () => {
  platform = await startPlatform({});
  org = await newParticipant(platform.baseUrl);
  app = await AppRuntime.launch({ baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
  runtimes.push(app);
  personAddress = await app.address();
}, 60_000);

afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
  await platform?.close();
});

step('the App runtime starts with its own identity on our Platform; the person has a DisplayName in the profile', async () => {
  expect(personAddress).toMatch(/^did:e:[a-z0-9.-]+:dids:[0-9a-f]{22}$/);
  expect(personAddress).not.toBe(org.address);
  const own = ok(await app.consumptionServices.attributes.createOwnIdentityAttribute({ content: { value: { '@type': 'DisplayName', value: PERSON_NAME } } }));
  ownDisplayNameId = own.id;
  expect(own.content).toMatchObject({ '@type': 'IdentityAttribute', owner: personAddress, value: { '@type': 'DisplayName', value: PERSON_NAME } });
});

step('our App template, shared as a truncated token reference, becomes an incoming Request in the runtime', async () => {
  templateContent = buildRelationshipTemplateContent({
    title: 'Kundenkonto bei den Stadtwerken',
    description: 'Verbinden Sie sich mit uns',
    ownerAddress: org.address,
    shareDisplayName: ORG_NAME,
    requestDisplayName: true,
    consent: { text: CONSENT, link: 'https://stadtwerke.example/datenschutz', linkDisplayText: 'Datenschutz' },
    expiresAt: inOneDay(),
  });
  const template = await createTemplate(org, { content: { ...templateContent }, expiresAt: inOneDay(), maxNumberOfAllocations: 1 });
  templateId = template.id;
  const token = await createTemplateToken(org, template);

  const loaded = ok(await app.transportServices.relationshipTemplates.loadPeerRelationshipTemplate({ reference: token.truncatedReference }));
  expect(loaded).toMatchObject({ id: template.id, isOwn: false, createdBy: org.address });
  expect(loaded.content).toMatchObject({ '@type': 'RelationshipTemplateContent', title: 'Kundenkonto bei den Stadtwerken' });

  // RequestModule: received → prerequisites checked → DeciderModule (no automation): the user decides; the App
  // opens the Request on this event.
  const processed = await app.waitForEvent<{ template: { id: string }; result: string; requestId?: string }>('consumption.relationshipTemplateProcessed');
  expect(processed).toMatchObject({ template: { id: template.id }, result: 'ManualRequestDecisionRequired' });
  requestId = processed.requestId!;
  const request = ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId }));
  expect(request).toMatchObject({ isOwn: false, peer: org.address, status: 'ManualDecisionRequired', source: { type: 'RelationshipTemplate', reference: template.id } });
  const items = request.content.items as unknown as Record<string, unknown>[];
  expect(items.map((i) => i['@type'])).toEqual(['ShareAttributeRequestItem', 'ReadAttributeRequestItem', 'ConsentRequestItem']);
  expect(items[2]).toMatchObject({ consent: CONSENT, link: 'https://stadtwerke.example/datenschutz', mustBeAccepted: true });
});

step('the App shows the Request as the user would see it (DVO): our name, the query for theirs, the consent', async () => {
  const request = ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId }));
  const dvo = await app.dataViewExpander.expandLocalRequestDTO(request);
  expect(dvo).toMatchObject({ type: 'LocalRequestDVO', isDecidable: true, status: 'ManualDecisionRequired' });
  const itemDvos = dvo.items as unknown as Record<string, unknown>[];
  expect(itemDvos.map((i) => i.type)).toEqual(['ShareAttributeRequestItemDVO', 'ReadAttributeRequestItemDVO', 'ConsentRequestItemDVO']);
  expect(JSON.stringify(itemDvos[0])).toContain(ORG_NAME);
  // the person's profile DisplayName is offered as the answer to our query
  expect(JSON.stringify(itemDvos[1])).toContain(PERSON_NAME);
  const canAccept = ok(await app.consumptionServices.incomingRequests.canAccept({ requestId, items: acceptWithProfileName() }));
  expect(canAccept).toMatchObject({ isSuccess: true });
});

step('the person accepts: the runtime sends the relationship request carrying the Response', async () => {
  const decided = ok(await app.consumptionServices.incomingRequests.accept({ requestId, items: acceptWithProfileName() }));
  expect(decided.status).toBe('Decided');
  // RequestModule: Decided → createRelationship(templateId, RelationshipCreationContent) → Completed
  await app.waitForEvent<{ newStatus: string }>('consumption.incomingRequestStatusChanged', (d) => d.newStatus === 'Completed');
  const completed = ok(await app.consumptionServices.incomingRequests.getRequest({ id: requestId }));
  expect(completed.response?.source?.type).toBe('Relationship');
  const relationships = ok(await app.transportServices.relationships.getRelationships({}));
  expect(relationships).toHaveLength(1);
  expect(relationships[0]).toMatchObject({ peer: org.address, status: 'Pending', templateId });
  relationshipId = relationships[0].id;
  expect(completed.response?.source?.reference).toBe(relationshipId);
  // accepting the ShareAttributeRequestItem stored our DisplayName as the peer's attribute, under our attributeId
  const shared = templateContent.onNewRelationship.items[0] as { attributeId: string };
  const peerAttributes = ok(await app.consumptionServices.attributes.getPeerAttributes({ peer: org.address }));
  expect(peerAttributes.map((a) => ({ id: a.id, value: a.content.value }))).toEqual([{ id: shared.attributeId, value: { '@type': 'DisplayName', value: ORG_NAME } }]);
});

step('we sync, read the person\'s DisplayName and consent from the creation content, and accept', async () => {
  const synced = await sync(org);
  expect(synced.newRelationships).toContain(relationshipId);
  const pending = await getRelationship(org, relationshipId);
  expect(pending).toMatchObject({ role: 'templator', peer: personAddress, status: 'Pending', templateId });

  const summary = parseRelationshipCreationContent(pending.creationContent, { request: templateContent.onNewRelationship, peerAddress: personAddress });
  expect(summary.problems).toEqual([]);
  expect(summary).toMatchObject({ type: 'RelationshipCreationContent', accepted: true, displayName: PERSON_NAME, attributes: { DisplayName: PERSON_NAME } });
  expect(summary.requestId).toBe(requestId);
  expect(summary.items.map((i) => [i.requestItemType, i.type, i.result])).toEqual([
    ['ShareAttributeRequestItem', 'AcceptResponseItem', 'Accepted'],
    ['ReadAttributeRequestItem', 'ReadAttributeAcceptResponseItem', 'Accepted'],
    ['ConsentRequestItem', 'AcceptResponseItem', 'Accepted'],
  ]);
  const read = summary.items[1];
  expect(read.attribute).toMatchObject({ kind: 'IdentityAttribute', type: 'DisplayName', value: PERSON_NAME, owner: personAddress });
  // runtime 7: no per-relationship copy any more; the id is that of the person's own (profile) attribute,
  // which now records that it was forwarded to us
  expect(read.attributeId).toBe(ownDisplayNameId);

  const accepted = await acceptRelationship(org, relationshipId);
  expect(accepted.status).toBe('Active');
});

step('the runtime sees the relationship Active and names us by our shared DisplayName', async () => {
  await app.syncUntil(async () => ok(await app.transportServices.relationships.getRelationship({ id: relationshipId })).status === 'Active');
  const identity = await app.dataViewExpander.expandAddress(org.address);
  expect(identity).toMatchObject({ type: 'IdentityDVO', name: ORG_NAME, isSelf: false });
  const withRelationship = await app.dataViewExpander.expandRelationshipDTO(ok(await app.transportServices.relationships.getRelationship({ id: relationshipId })));
  expect(withRelationship).toMatchObject({ name: ORG_NAME, relationship: { type: 'RelationshipDVO', status: 'Active', direction: 'Outgoing', templateId } });
  // the person's shared DisplayName is recorded as forwarded to us
  const sharedWithUs = ok(await app.consumptionServices.attributes.getOwnAttributesSharedWithPeer({ peer: org.address }));
  expect(sharedWithUs.map((a) => a.content.value)).toEqual([{ '@type': 'DisplayName', value: PERSON_NAME }]);
});

step('our Mail (Markdown body, one attachment) arrives in the App as a Mail with a downloadable attachment', async () => {
  const pdf = randomBytes(300 * 1024);
  const file = await uploadFile(org, { content: pdf, filename: 'Vertrag_Müller.pdf', mimetype: 'application/pdf', expiresAt: inOneDay(), title: 'Vertrag' });
  const mail = buildMail({ to: [personAddress], subject: 'Ihr Vertrag', body: 'Guten Tag,\n\nanbei **Ihr Vertrag**.', bodyFormat: 'Markdown' });
  const sent = await sendMessage(org, { recipients: [personAddress], content: mail, attachments: [file.reference] });

  await app.syncUntil(async () => ok(await app.transportServices.messages.getMessages({})).some((m) => m.id === sent.id));
  const received = ok(await app.transportServices.messages.getMessage({ id: sent.id }));
  expect(received).toMatchObject({ isOwn: false, createdBy: org.address });
  // runtime 7.0.0's Mail has no bodyFormat: it reads the Mail and leaves the field out
  expect(received.content).toEqual({ '@type': 'Mail', to: [personAddress], cc: [], subject: 'Ihr Vertrag', body: 'Guten Tag,\n\nanbei **Ihr Vertrag**.' });
  expect(received.attachments.map((a) => a.id)).toEqual([file.id]);
  expect(received.attachments[0]).toMatchObject({ filename: 'Vertrag_Müller.pdf', mimetype: 'application/pdf', title: 'Vertrag', filesize: pdf.length, isOwn: false });
  const download = ok(await app.transportServices.messages.downloadAttachment({ id: sent.id, attachmentId: file.id }));
  expect(Buffer.from(download.content).equals(pdf)).toBe(true);
  expect(download.filename).toBe('Vertrag_Müller.pdf');

  // MessageModule: the App's "new Mail" event
  const mailEvent = await app.waitForEvent<{ id: string; content: { subject?: string } }>('consumption.mailReceived', (d) => d.id === sent.id);
  expect(mailEvent.content.subject).toBe('Ihr Vertrag');
  const dvo = await app.dataViewExpander.expandMessageDTO(received);
  expect(dvo).toMatchObject({ type: 'MailDVO', name: 'Ihr Vertrag', createdBy: { name: ORG_NAME } });
});

step('the App replies with a Mail and an attachment; we read both', async () => {
  const scan = Buffer.concat([Buffer.from('%PDF-1.7 unterschrieben\n', 'utf8'), randomBytes(64 * 1024)]);
  const uploaded = ok(
    await app.transportServices.files.uploadOwnFile({ content: new Uint8Array(scan), filename: 'Unterschrift.pdf', mimetype: 'application/pdf', title: 'Unterschrift' }),
  );
  const sent = ok(
    await app.transportServices.messages.sendMessage({
      recipients: [org.address],
      content: { '@type': 'Mail', to: [org.address], subject: 'Re: Ihr Vertrag', body: 'Unterschrieben zurück.' },
      attachments: [uploaded.id],
    }),
  );

  const message = await getMessage(org, sent.id);
  expect(message).toMatchObject({ isOwn: false, createdBy: personAddress, relationshipId });
  expect(message.content).toEqual({ '@type': 'Mail', to: [org.address], cc: [], subject: 'Re: Ihr Vertrag', body: 'Unterschrieben zurück.' });
  expect(message.attachments.map((a) => a.id)).toEqual([uploaded.id]);
  const { file, content } = await downloadFile(org, message.attachments[0]);
  expect(content.equals(scan)).toBe(true);
  expect(file).toMatchObject({ filename: 'Unterschrift.pdf', mimetype: 'application/pdf', title: 'Unterschrift', filesize: scan.length });
  // (the runtime would learn of the delivery from a MessageDelivered external event, which neither the Backbone
  // nor our Platform sends; its own copy keeps receivedAt empty)
  expect(sent.recipients).toEqual([{ address: org.address, relationshipId }]);
});

describe('a second person: declines first, then enters a new DisplayName and skips the optional e-mail; we reject', () => {
  const NAME_B = 'Zoë Ångström';
  let appB: AppRuntime;
  let addressB: string;
  let contentB: RelationshipTemplateContentJson;
  let referenceB: string;
  let templateIdB: string;
  let firstRequestId: string;
  let secondRequestId: string;
  let relationshipIdB: string;

  beforeAll(async () => {
    appB = await AppRuntime.launch({ baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    runtimes.push(appB);
    addressB = await appB.address();
  }, 60_000);

  const processedRequest = async (predicate: (d: { result: string; requestId?: string }) => boolean): Promise<string> => {
    const processed = await appB.waitForEvent<{ template: { id: string }; result: string; requestId?: string }>('consumption.relationshipTemplateProcessed', predicate);
    expect(processed).toMatchObject({ template: { id: templateIdB }, result: 'ManualRequestDecisionRequired' });
    return processed.requestId!;
  };

  step('the person declines the whole Request: no relationship request reaches us', async () => {
    contentB = buildRelationshipTemplateContent({
      title: 'Newsletter',
      ownerAddress: org.address,
      shareDisplayName: ORG_NAME,
      requestDisplayName: true,
      requestAttributes: [{ valueType: 'EMailAddress', mustBeAccepted: false, description: 'Optional, für Rückfragen' }],
      consent: CONSENT,
    });
    const template = await createTemplate(org, { content: { ...contentB }, expiresAt: inOneDay() });
    templateIdB = template.id;
    referenceB = template.truncatedReference;
    // this time the template's own reference, not a token
    ok(await appB.transportServices.relationshipTemplates.loadPeerRelationshipTemplate({ reference: referenceB }));
    firstRequestId = await processedRequest(() => true);

    const rejected = ok(await appB.consumptionServices.incomingRequests.reject({ requestId: firstRequestId, items: contentB.onNewRelationship.items.map(() => ({ accept: false })) }));
    expect(rejected.response?.content).toMatchObject({ result: 'Rejected' });
    await appB.waitForEvent<{ request: { id: string }; newStatus: string }>(
      'consumption.incomingRequestStatusChanged',
      (d) => d.request.id === firstRequestId && d.newStatus === 'Completed',
    );
    expect(ok(await appB.transportServices.relationships.getRelationships({}))).toEqual([]);
    const synced = await sync(org);
    expect(synced.newRelationships).toEqual([]);
  });

  step('loading the template again gives a new Request; the person enters a new DisplayName and skips the e-mail', async () => {
    ok(await appB.transportServices.relationshipTemplates.loadPeerRelationshipTemplate({ reference: referenceB }));
    secondRequestId = await processedRequest((d) => d.requestId !== undefined && d.requestId !== firstRequestId);
    const request = ok(await appB.consumptionServices.incomingRequests.getRequest({ id: secondRequestId }));
    expect((request.content.items as { '@type': string }[]).map((i) => i['@type'])).toEqual([
      'ShareAttributeRequestItem',
      'ReadAttributeRequestItem',
      'ReadAttributeRequestItem',
      'ConsentRequestItem',
    ]);
    // the App: the person has no DisplayName yet and types one in
    const typedIn: AcceptReadAttributeRequestItemParametersWithNewAttributeJSON = {
      accept: true,
      newAttribute: { '@type': 'IdentityAttribute', owner: addressB, value: { '@type': 'DisplayName', value: NAME_B } },
    };
    ok(await appB.consumptionServices.incomingRequests.accept({ requestId: secondRequestId, items: [{ accept: true }, typedIn, { accept: false }, { accept: true }] }));
    await appB.waitForEvent<{ request: { id: string }; newStatus: string }>(
      'consumption.incomingRequestStatusChanged',
      (d) => d.request.id === secondRequestId && d.newStatus === 'Completed',
    );
    const [relationship] = ok(await appB.transportServices.relationships.getRelationships({}));
    expect(relationship).toMatchObject({ peer: org.address, status: 'Pending', templateId: templateIdB });
    relationshipIdB = relationship.id;
    // the typed-in name became an own attribute of the person's profile
    const own = ok(await appB.consumptionServices.attributes.getOwnIdentityAttributes({}));
    expect(own.map((a) => a.content.value)).toEqual([{ '@type': 'DisplayName', value: NAME_B }]);
  });

  step('we read the new DisplayName and the skipped e-mail, then reject; the App drops our shared DisplayName', async () => {
    await sync(org);
    const pending = await getRelationship(org, relationshipIdB);
    expect(pending).toMatchObject({ status: 'Pending', peer: addressB });
    const summary = parseRelationshipCreationContent(pending.creationContent, { request: contentB.onNewRelationship, peerAddress: addressB });
    expect(summary.problems).toEqual([]);
    expect(summary).toMatchObject({ accepted: true, requestId: secondRequestId, displayName: NAME_B, attributes: { DisplayName: NAME_B } });
    expect(summary.items.map((i) => [i.requestItemType, i.type, i.result])).toEqual([
      ['ShareAttributeRequestItem', 'AcceptResponseItem', 'Accepted'],
      ['ReadAttributeRequestItem', 'ReadAttributeAcceptResponseItem', 'Accepted'],
      ['ReadAttributeRequestItem', 'RejectResponseItem', 'Rejected'],
      ['ConsentRequestItem', 'AcceptResponseItem', 'Accepted'],
    ]);
    expect(summary.attributes).not.toHaveProperty('EMailAddress');
    expect(ok(await appB.consumptionServices.attributes.getPeerAttributes({ peer: org.address }))).toHaveLength(1);

    const rejected = await changeRelationship(org, relationshipIdB, 'reject');
    expect(rejected.status).toBe('Rejected');
    await appB.syncUntil(async () => ok(await appB.transportServices.relationships.getRelationship({ id: relationshipIdB })).status === 'Rejected');
    // RequestModule: a rejected relationship takes the attributes shared in it along
    await appB.waitForEvent('consumption.attributeDeleted');
    expect(ok(await appB.consumptionServices.attributes.getPeerAttributes({ peer: org.address }))).toEqual([]);
  });
});

describe('the other way round: a runtime\'s App template, answered by our buildAcceptResponse', () => {
  const NAME_C = 'Praxis Dr. Ñúñez';
  let appC: AppRuntime;
  let addressC: string;
  let templateIdC: string;
  let referenceC: string;
  let ownNameIdC: string;
  let relationshipIdC: string;
  let ourAttributeId: string;

  beforeAll(async () => {
    appC = await AppRuntime.launch({ baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    runtimes.push(appC);
    addressC = await appC.address();
  }, 60_000);

  step('the runtime creates a template sharing its DisplayName, asking for ours, with a consent', async () => {
    const own = ok(await appC.consumptionServices.attributes.createOwnIdentityAttribute({ content: { value: { '@type': 'DisplayName', value: NAME_C } } }));
    ownNameIdC = own.id;
    const template = ok(
      await appC.transportServices.relationshipTemplates.createOwnRelationshipTemplate({
        expiresAt: inOneDay(),
        maxNumberOfAllocations: 1,
        content: {
          '@type': 'RelationshipTemplateContent',
          title: 'Patientenportal',
          onNewRelationship: {
            '@type': 'Request',
            items: [
              { '@type': 'ShareAttributeRequestItem', mustBeAccepted: true, attribute: own.content, attributeId: own.id },
              { '@type': 'ReadAttributeRequestItem', mustBeAccepted: true, query: { '@type': 'IdentityAttributeQuery', valueType: 'DisplayName' } },
              { '@type': 'ReadAttributeRequestItem', mustBeAccepted: false, query: { '@type': 'IdentityAttributeQuery', valueType: 'BirthDate' } },
              { '@type': 'ConsentRequestItem', mustBeAccepted: true, consent: 'Ich stimme der Datenverarbeitung zu.' },
            ],
          },
        },
      }),
    );
    templateIdC = template.id;
    const token = ok(await appC.transportServices.relationshipTemplates.createTokenForOwnRelationshipTemplate({ templateId: template.id }));
    referenceC = token.reference.truncated;
  });

  step('we load it, answer with buildAcceptResponse and request; the runtime takes our Response as valid', async () => {
    const loaded = await loadTemplate(org, referenceC);
    expect(loaded).toMatchObject({ id: templateIdC, createdBy: addressC });
    const answer = buildAcceptResponse(loaded.content, { ownAddress: org.address, attributes: { DisplayName: ORG_NAME } });
    if (!answer.ok) throw new Error(answer.problems.join('; '));
    expect(answer.decisions.map((d) => d.decision)).toEqual(['accept', 'accept', 'reject', 'accept']);
    expect(answer.decisions[0].received).toEqual({ attribute: { '@type': 'IdentityAttribute', owner: addressC, value: { '@type': 'DisplayName', value: NAME_C } }, attributeId: ownNameIdC });
    ourAttributeId = (answer.response!.items[1] as { attributeId: string }).attributeId;
    const requested = await requestRelationship(org, loaded, { ...answer.content });
    relationshipIdC = requested.id;
    expect(requested.status).toBe('Pending');

    // the runtime (templator): RequestModule turns the creation content into a completed outgoing Request,
    // validating and applying every response item (consumption's item processors)
    await appC.syncUntil(async () => ok(await appC.transportServices.relationships.getRelationships({})).some((r) => r.id === relationshipIdC));
    const created = await appC.waitForEvent<{ id: string; status: string; response?: { source?: { reference?: string } } }>(
      'consumption.outgoingRequestFromRelationshipCreationCreatedAndCompleted',
    );
    expect(created).toMatchObject({ id: answer.response!.requestId, status: 'Completed', response: { source: { reference: relationshipIdC } } });
    // our DisplayName is now a peer attribute in the runtime, under the id we gave it
    const peerAttributes = ok(await appC.consumptionServices.attributes.getPeerAttributes({ peer: org.address }));
    expect(peerAttributes.map((a) => ({ id: a.id, value: a.content.value, owner: (a.content as { owner: string }).owner }))).toEqual([
      { id: ourAttributeId, value: { '@type': 'DisplayName', value: ORG_NAME }, owner: org.address },
    ]);
  });

  step('the runtime accepts; we see it Active and the runtime names us by the DisplayName we sent', async () => {
    const accepted = ok(await appC.transportServices.relationships.acceptRelationship({ relationshipId: relationshipIdC }));
    expect(accepted.status).toBe('Active');
    await sync(org);
    expect((await getRelationship(org, relationshipIdC)).status).toBe('Active');
    expect(await appC.dataViewExpander.expandAddress(org.address)).toMatchObject({ name: ORG_NAME });
  });
});
