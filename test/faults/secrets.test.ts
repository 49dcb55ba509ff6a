/**
 * No secret in any log line, error message or output.
 *
 * A representative flow — onboarding of two identities, a password-protected template shared by a
 * token, relationship request and acceptance, files, Mails with attachments both ways, trigger seed
 * and polls, "Fetch Test Event" — runs through a proxy in front of the local Platform, with request
 * logging on (every `onRequest` event and every onboarding progress line is a log line). Along the
 * way a series of failures is provoked (bad references, wrong password, unknown ids, a tampered
 * message body and file blob, a refused login, a lost send answer, a damaged identity record); of
 * each error we keep its message, stack, `util.inspect` (what a logger prints, causes included),
 * its JSON, and the n8n error the nodes make of it (`toNodeError`). The node outputs are the JSON
 * shapes of nodes/shared/output.ts for everything the flow produced.
 *
 * Secrets (each as base64url, base64, unpadded base64, hex, and as raw bytes the way JSON and util.inspect
 * print them; strings as they are): both identity
 * secrets, identity and device private keys, device passwords, the OAuth client secret, every access
 * token the Platform handed out (captured from /connect/token answers by the proxy), the datawallet
 * key, the template password and its hash, every relationship key (transmit, receive, own
 * signature, exchange/ephemeral private keys of both roles), the template exchange private key,
 * every message key and every file content key. None may appear anywhere.
 *
 * Keys that are MEANT to be shared — a template's or token's key, a file's metadata key — travel
 * inside references, which are node outputs by design (truncatedReference / url). They (and the
 * references themselves) must still appear in no log line and no error.
 */
import { inspect } from 'node:util';
import type { INode } from 'n8n-workflow';
import { decrypt, fromUtf8, parseCipher, parseSecretKey, toBase64Url, type SecretKey } from '../../lib/crypto';
import type { RequestEvent } from '../../lib/backbone';
import {
  acceptRelationship,
  buildMail,
  createIdentity,
  createTemplate,
  createTemplateToken,
  downloadFile,
  getFile,
  getMessage,
  getRelationship,
  listOwnFiles,
  listRelationships,
  loadTemplate,
  openParticipant,
  parseIdentityRecord,
  passwordHashFor,
  readOwnTemplate,
  requestRelationship,
  sendMessage,
  sync,
  uploadFile,
  type Message,
  type Participant,
  type Relationship,
} from '../../lib/protocol';
import { fileToJson, messageToJson, relationshipToJson, simplifyMessage, templateToJson } from '../../nodes/shared/output';
import { toNodeError } from '../../nodes/shared/errors';
import { poll, sample, seed, type PollOptions, type TriggerEvent, type TriggerState } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { inOneDay } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';

const CLIENT_ID = 'n8n-secrets-test';
const CLIENT_SECRET = `cs-${toBase64Url(Buffer.from('a client secret nobody may log, 0123456789'))}`;
const TEMPLATE_PASSWORD = 'Template-Passw0rd-Nobody-May-Log!';
const node: INode = { id: 'n', name: 'Enmeshed', type: 'n8n-nodes-enmeshed.enmeshed', typeVersion: 1, position: [0, 0], parameters: {} };

let platform: PlatformHandle;
let proxy: TestProxy;
const logLines: string[] = [];
const errorTexts: string[] = [];
const outputs: string[] = [];
const accessTokens: string[] = [];

const onRequest = (event: RequestEvent): void => void logLines.push(JSON.stringify(event));

function keepError(error: unknown): void {
  if (!(error instanceof Error)) {
    errorTexts.push(String(error));
    return;
  }
  errorTexts.push(error.message, error.stack ?? '', inspect(error, { depth: 10 }));
  try {
    errorTexts.push(JSON.stringify(error));
  } catch {
    // circular: inspect covers it
  }
  const nodeError = toNodeError(node, error);
  errorTexts.push(nodeError.message, String(nodeError.description ?? ''), inspect(nodeError, { depth: 10 }));
}

/** Runs a call that must fail, and keeps everything its error says. */
async function fails(call: () => Promise<unknown>): Promise<unknown> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  keepError(error);
  return error;
}

/** The forms key bytes take in text: base64url, base64 (padded or not), hex, and raw bytes as JSON or util.inspect print them. */
function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const head = [...b.subarray(0, 12)];
  return [
    b.toString('base64url'),
    b.toString('base64'),
    b.toString('base64').replace(/=+$/, ''),
    b.toString('hex'),
    head.join(','), // Buffer#toJSON, JSON of an array
    head.map((v, i) => `"${i}":${v}`).join(','), // JSON of a Uint8Array
    head.join(', '), // util.inspect of a Uint8Array
    head.map((v) => v.toString(16).padStart(2, '0')).join(' '), // util.inspect of a Buffer
  ];
}

beforeAll(async () => {
  platform = await startPlatform({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
  proxy = await startProxy(platform.baseUrl);
  proxy.rewrite('POST', /^\/connect\/token$/, (response) => {
    const token = (JSON.parse(response.body.toString('utf8')) as { access_token?: string }).access_token;
    if (token) accessTokens.push(token);
    return undefined;
  });
});
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

test('a representative flow leaks no secret into logs, errors or node outputs', async () => {
  // --- onboarding, with its progress lines as log lines
  const onboard = (): ReturnType<typeof createIdentity> =>
    createIdentity({ platformUrl: proxy.baseUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onRequest, progress: (line) => logLines.push(line) });
  const [ca, cb] = [(await onboard()).credential, (await onboard()).credential];
  const a = await openParticipant(ca, { shared: false, http: { onRequest } });
  const b = await openParticipant(cb, { shared: false, http: { onRequest } });

  // --- relationship through a password-protected template, shared by a token
  const template = await createTemplate(a, {
    content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { hello: 'B' } },
    expiresAt: inOneDay(),
    password: { password: TEMPLATE_PASSWORD, passwordType: 'pw' },
  });
  const token = await createTemplateToken(a, template);
  await fails(() => loadTemplate(b, token.truncatedReference));
  await fails(() => loadTemplate(b, token.truncatedReference, 'wrong password'));
  const loaded = await loadTemplate(b, token.truncatedReference, TEMPLATE_PASSWORD);
  outputs.push(JSON.stringify(templateToJson(loaded, b.address)));
  const request = await requestRelationship(b, loaded, { '@type': 'ArbitraryRelationshipCreationContent', value: { hi: 'A' } });
  await sync(a);
  await acceptRelationship(a, request.id);
  const relationships: Relationship[] = [await getRelationship(a, request.id), await getRelationship(b, request.id), ...(await listRelationships(a))];
  for (const r of relationships) outputs.push(JSON.stringify(relationshipToJson(r)));

  // --- trigger seeded before the traffic
  const triggerOptions: PollOptions = { events: ['messageReceived', 'relationshipRequestReceived', 'relationshipStatusChanged'] };
  let state = JSON.stringify(await seed(b, triggerOptions));

  // --- files and Mails with attachments, both ways
  const fa = await uploadFile(a, { content: Buffer.from('report from A '.repeat(500)), filename: 'a.txt', mimetype: 'text/plain', expiresAt: inOneDay(), title: 'A' });
  const fb = await uploadFile(b, { content: Buffer.from('answer from B '.repeat(300)), filename: 'b.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const messages: Message[] = [];
  messages.push(await sendMessage(a, { recipients: [b.address], content: buildMail({ to: [b.address], subject: 'To B', body: 'see file' }), attachments: [fa.reference] }));
  messages.push(await sendMessage(b, { recipients: [a.address], content: buildMail({ to: [a.address], subject: 'To A', body: 'see file' }), attachments: [fb.reference] }));
  messages.push(await getMessage(b, messages[0].id), await getMessage(a, messages[1].id), await getMessage(a, messages[0].id));
  const downloads = [await downloadFile(b, messages[2].attachments[0]), await downloadFile(a, messages[3].attachments[0]), await downloadFile(a, fa.id)];
  const files = [fa, fb, await getFile(a, fa.id), ...downloads.map((d) => d.file), ...(await listOwnFiles(a)).files];
  for (const f of files) outputs.push(JSON.stringify(fileToJson(f, a.address)));
  for (const m of messages) outputs.push(JSON.stringify(messageToJson(m, () => request.id)), JSON.stringify(simplifyMessage(m)));

  // --- trigger polls and "Fetch Test Event"
  const events: TriggerEvent[] = [];
  for (let i = 0; i < 2; i++) {
    const result = await poll(b, JSON.parse(state) as TriggerState, triggerOptions);
    events.push(...result.events);
    state = JSON.stringify(result.state);
  }
  events.push(...(await sample(b, triggerOptions)));
  expect(events.some((e) => 'message' in e)).toBe(true);
  for (const e of events) {
    if ('message' in e) outputs.push(JSON.stringify({ event: e.event, ...simplifyMessage(e.message) }), JSON.stringify(messageToJson(e.message)));
    else if ('relationship' in e) outputs.push(JSON.stringify({ event: e.event, ...relationshipToJson(e.relationship) }));
    else if ('error' in e) outputs.push(JSON.stringify({ event: e.event, id: 'dto' in e ? e.dto.id : 'relationshipId' in e ? e.relationshipId : e.templateId, error: e.error.message, errorCode: e.error.code }));
  }
  outputs.push(state); // the cursor n8n stores

  // --- failures
  await fails(() => loadTemplate(b, 'not a reference'));
  await fails(() => loadTemplate(b, `${template.truncatedReference.slice(0, -4)}AAAA`));
  await fails(() => getMessage(b, 'MSGaaaaaaaaaaaaaaaaa'));
  await fails(() => getFile(b, 'FILaaaaaaaaaaaaaaaaa'));
  await fails(() => getRelationship(b, 'RELaaaaaaaaaaaaaaaaa'));
  proxy.rewriteJson('GET', /^\/api\/v2\/Messages\/MSG/, (json: { result: { body: string } }) => {
    const body = Buffer.from(json.result.body, 'base64').toString('utf8').replace(/"cph":"(.)/, (_m, c: string) => `"cph":"${c === 'A' ? 'B' : 'A'}`);
    json.result.body = Buffer.from(body, 'utf8').toString('base64');
  }, { times: 1 });
  await fails(() => getMessage(b, messages[0].id));
  proxy.rewrite('GET', /^\/api\/v2\/Files\/FIL[A-Za-z0-9]{17}$/, (response) => Buffer.concat([response.body.subarray(0, 30), Buffer.from('x'), response.body.subarray(31)]), { times: 1 });
  await fails(() => downloadFile(b, messages[2].attachments[0]));
  proxy.rewrite('POST', /^\/api\/v2\/Messages$/, (response) => ({ ...response, status: 502, body: Buffer.from('') }), { times: 1, status: 201 });
  const lost = await fails(() => sendMessage(a, { recipients: [b.address], content: buildMail({ to: [b.address], subject: 'lost', body: 'answer' }) }));
  expect((lost as { outcomeUnknown?: boolean }).outcomeUnknown).toBe(true);
  const wrongClient = await openParticipant({ ...ca, clientSecret: 'definitely-not-the-secret' }, { shared: false, http: { onRequest } });
  await fails(() => wrongClient.client.getIdentity());
  const record = JSON.parse(ca.identity) as { secret: string };
  const damaged = JSON.stringify({ ...record, secret: `${record.secret.slice(0, -2)}AA` });
  await fails(async () => parseIdentityRecord(damaged, ca.platformUrl));
  await fails(async () => parseIdentityRecord(ca.identity.replace(/"v":\d/, '"v":3'), ca.platformUrl));
  await fails(() => openParticipant({ ...ca, identity: damaged }, { shared: false }));

  // --- the secrets
  const secret: string[] = [CLIENT_SECRET, TEMPLATE_PASSWORD, ...accessTokens];
  const shared: string[] = [template.truncatedReference, template.url, token.truncatedReference, token.url];
  const add = (list: string[], bytes: Uint8Array | undefined): void => {
    if (bytes) list.push(...encodings(bytes));
  };
  const addKey = (list: string[], key: SecretKey | undefined): void => add(list, key?.key);
  expect(accessTokens.length).toBeGreaterThanOrEqual(4);
  secret.push(passwordHashFor(template.reference, TEMPLATE_PASSWORD)!);
  for (const p of [a, b] as Participant[]) {
    add(secret, p.identity.secret);
    add(secret, p.identity.keys.identity.prv.prv);
    add(secret, p.identity.keys.identity.prv.prv.subarray(0, 32));
    add(secret, p.identity.keys.device.prv.prv);
    add(secret, p.identity.keys.device.prv.prv.subarray(0, 32));
    secret.push(p.identity.keys.devicePassword);
    addKey(secret, p.own.datawallet());
  }
  for (const r of relationships) {
    if (!r.keys) continue;
    addKey(secret, r.keys.transmit.key);
    addKey(secret, r.keys.receive.key);
    add(secret, r.keys.ownSignature.prv.prv);
  }
  const atB = await getRelationship(b, request.id);
  const requestor = b.own.requestor(atB.keys!.transmit.baseNonce);
  const templator = a.own.templator((await getRelationship(a, request.id)).keys!.transmit.baseNonce);
  for (const kp of [requestor.exchange, requestor.ephemeral, templator.exchange]) add(secret, kp.prv.prv);
  for (const kp of [requestor.signature, templator.signature]) add(secret, kp.prv.prv);
  add(secret, (await readOwnTemplate(a, template.id)).exchangePrivate);
  addKey(shared, template.reference.key);
  addKey(shared, token.reference.key);
  for (const p of [a, b] as Participant[]) {
    for (const dto of await p.client.all(p.client.messages())) {
      if (dto.createdBy === p.address) addKey(secret, p.own.message(parseCipher(dto.body).nnc!));
    }
    for (const dto of await p.client.all(p.client.files())) {
      const metadataKey = p.own.fileMetadataKey(parseCipher(dto.encryptedProperties).nnc!);
      const metadata = JSON.parse(fromUtf8(decrypt(parseCipher(dto.encryptedProperties), metadataKey))) as { secretKey: unknown };
      addKey(secret, parseSecretKey(metadata.secretKey));
      addKey(shared, metadataKey);
    }
  }
  for (const f of files) shared.push(f.truncatedReference, f.url);

  const haystacks = { 'log lines': logLines, 'errors': errorTexts, 'node outputs': outputs };
  const leaks: string[] = [];
  for (const [where, texts] of Object.entries(haystacks)) {
    const all = texts.join('\n');
    for (const s of secret) if (all.includes(s)) leaks.push(`secret ${s.slice(0, 6)}… in ${where}`);
    if (where !== 'node outputs') for (const s of shared) if (all.includes(s)) leaks.push(`shareable key/reference ${s.slice(0, 6)}… in ${where}`);
  }
  process.stderr.write(
    `[faults] secrets: ${secret.length} secret encodings, ${shared.length} shareable ones; ${logLines.length} log lines, ${errorTexts.length} error texts, ${outputs.length} outputs; ${leaks.length} leaks\n`,
  );
  expect(leaks).toEqual([]);
  // the checks looked at real material
  expect(logLines.length).toBeGreaterThan(50);
  expect(errorTexts.length).toBeGreaterThan(40);
  expect(outputs.join('\n')).toContain(messages[0].id);
});
