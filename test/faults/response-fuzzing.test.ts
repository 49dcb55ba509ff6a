/**
 * Malformed Platform ANSWERS: nothing crashes or hangs; a broken answer yields a typed error.
 *
 * B reads through a rewriting proxy (test/helpers/proxy.ts) in front of the local
 * Platform. For each read — a message, the message list (through the trigger's poll), a
 * relationship, the relationship list, file metadata, a file's blob, a template, a token — the
 * clean answer is captured once, and then every variant of ./mutations.ts is served in its place,
 * one call each: truncated JSON, empty and non-JSON bodies, wrong envelope types, and for every
 * field (also inside base64 JSON: cipher objects, creation contents, public crypto…) removed /
 * null / number / boolean / string / [] / {} / huge values, invalid base64, cut strings, unknown
 * algorithm numbers, negative and huge numbers.
 *
 * Every call must settle within 15 s with a result or a PlatformError / ProtocolError /
 * CryptoError — never a TypeError or the like. A trigger poll may also settle with an error EVENT
 * (a ProtocolError for the one message that cannot be opened: reported, not dropped). And the
 * variants that break what the API promises — any whole-body variant, and a required field of the
 * record missing, null or of another type — must be errors, not results. Variants of fields we do
 * not read (modifiedAt, ownershipIsLocked, the @type of a cipher…) or of nullable ones may pass.
 */
import { CryptoError } from '../../lib/crypto';
import { PlatformError } from '../../lib/backbone';
import {
  ProtocolError,
  buildMail,
  createTemplate,
  createTemplateToken,
  downloadFile,
  getFile,
  getMessage,
  getRelationship,
  listRelationships,
  loadTemplate,
  openParticipant,
  sendMessage,
  uploadFile,
  type FileReference,
  type Participant,
} from '../../lib/protocol';
import { poll, seed, type TriggerEvent, type TriggerState } from '../../nodes/EnmeshedTrigger/poller';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';
import { blobVariants, jsonVariants, type Variant } from './mutations';
import { relate } from '../helpers/relate';

jest.setTimeout(120_000);

let platform: PlatformHandle;
let proxy: TestProxy;
let b: Participant;
let ids: { message: string; relationship: string; file: FileReference; template: string; token: string; state: string };

beforeAll(async () => {
  platform = await startPlatform({});
  proxy = await startProxy(platform.baseUrl);
  const a = await newParticipant(platform.baseUrl);
  const direct = await newParticipant(platform.baseUrl);
  const relationship = await relate(a, direct);
  b = await openParticipant({ ...direct.credential, platformUrl: proxy.baseUrl }, { shared: false, http: { timeoutMs: 5_000, maxAttempts: 2, backoffMs: 5 } });
  const file = await uploadFile(a, { content: Buffer.from('attachment '.repeat(100)), filename: 'f.txt', mimetype: 'text/plain', expiresAt: inOneDay() });
  const state = JSON.stringify(await seed(b, { events: ['messageReceived'] }));
  const message = await sendMessage(a, { recipients: [b.address], content: buildMail({ to: [b.address], subject: 's', body: 'b' }), attachments: [file.reference] });
  const template = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 1 }, expiresAt: inOneDay() });
  const token = await createTemplateToken(a, template);
  ids = { message: message.id, relationship, file: file.reference, template: template.truncatedReference, token: token.truncatedReference, state };
});
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

/** B without its in-memory caches (relationship keys); `Object.create` keeps its login and datawallet view. */
const fresh = (): Participant => Object.create(b) as Participant;

interface Target {
  name: string;
  method: string;
  path: RegExp;
  blob?: boolean;
  /** A list answer: an empty list is a valid answer. */
  list?: boolean;
  /** Fields of the record that the API promises and we read: breaking them must be an error. */
  required: string[];
  run: (p: Participant) => Promise<unknown>;
}

const message = ['id', 'createdAt', 'createdBy', 'createdByDevice', 'body', 'attachments', 'recipients', 'recipients[0].address', 'recipients[0].encryptedKey'];
const relationship = ['id', 'relationshipTemplateId', 'from', 'to', 'createdAt', 'status', 'auditLog', 'auditLog[0].createdAt', 'auditLog[0].newStatus'];
const fields = (prefix: string, names: string[]): string[] => names.map((n) => `${prefix}.${n}`.replace('.[', '['));

const targets = (): Target[] => [
  { name: 'message read', method: 'GET', path: /^\/api\/v2\/Messages\/MSG/, required: fields('result', message), run: (p) => getMessage(p, ids.message) },
  {
    name: 'message list (trigger poll)',
    method: 'GET',
    path: /^\/api\/v2\/Messages$/,
    list: true,
    required: fields('result[0]', message),
    run: (p) => poll(p, JSON.parse(ids.state) as TriggerState, { events: ['messageReceived'] }),
  },
  { name: 'relationship read', method: 'GET', path: /^\/api\/v2\/Relationships\/REL/, required: fields('result', relationship), run: (p) => getRelationship(p, ids.relationship) },
  { name: 'relationship list', method: 'GET', path: /^\/api\/v2\/Relationships$/, list: true, required: fields('result[0]', relationship), run: (p) => listRelationships(p) },
  {
    name: 'file metadata',
    method: 'GET',
    path: /^\/api\/v2\/Files\/FIL[A-Za-z0-9]+\/Metadata$/,
    required: fields('result', ['id', 'createdAt', 'createdBy', 'owner', 'expiresAt', 'cipherSize', 'encryptedProperties']),
    run: (p) => getFile(p, ids.file),
  },
  { name: 'file download', method: 'GET', path: /^\/api\/v2\/Files\/FIL[A-Za-z0-9]+$/, blob: true, required: [], run: (p) => downloadFile(p, ids.file) },
  { name: 'template read', method: 'GET', path: /^\/api\/v2\/RelationshipTemplates\/RLT/, required: fields('result', ['id', 'createdBy', 'createdAt', 'content']), run: (p) => loadTemplate(p, ids.template) },
  { name: 'token read', method: 'GET', path: /^\/api\/v2\/Tokens\/TOK/, required: fields('result', ['id', 'createdAt', 'expiresAt', 'content']), run: (p) => loadTemplate(p, ids.token) },
];

/** Changes that break a required field, by the type the field had. */
const BREAKING: Record<string, string[]> = {
  string: ['removed', 'null', '= 42', '= true', '= []', '= {}', 'invalid base64 characters', 'huge (4 MiB)'],
  number: ['removed', 'null', '= true', '= "x"', '= []', '= {}', '= -1', '= 1e308', '= "3"'],
  array: ['removed', 'null', '= 42', '= true', '= "x"', '= {}'],
};

function mustFail(target: Target, variant: Variant): boolean {
  if (!variant.field) return !(target.list && variant.name === 'result an empty array');
  if (!target.required.includes(variant.field)) return false;
  return (BREAKING[variant.was ?? ''] ?? []).includes(variant.op ?? '');
}

type Outcome = { kind: 'ok' } | { kind: 'typed'; error: Error } | { kind: 'untyped'; error: unknown } | { kind: 'hang' };

const typed = (error: unknown): error is Error => error instanceof PlatformError || error instanceof ProtocolError || error instanceof CryptoError;

async function outcomeOf(promise: Promise<unknown>, ms = 15_000): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'hang' }), ms)));
  const settled = promise.then(
    (value): Outcome => {
      // A trigger poll reports a message it cannot open as an error event.
      const events = (value as { events?: TriggerEvent[] } | undefined)?.events;
      const failed = events?.find((e): e is Extract<TriggerEvent, { error: unknown }> => 'error' in e);
      if (failed) return typed(failed.error) ? { kind: 'typed', error: failed.error } : { kind: 'untyped', error: failed.error };
      return { kind: 'ok' };
    },
    (error: unknown): Outcome => (typed(error) ? { kind: 'typed', error } : { kind: 'untyped', error }),
  );
  const result = await Promise.race([settled, hang]);
  clearTimeout(timer);
  return result;
}

const figures: Record<string, Record<string, number>> = {};
afterAll(() => void process.stderr.write(`[faults] response fuzzing: ${JSON.stringify(figures)}\n`));

describe.each(targets().map((t) => [t.name, t] as const))('%s', (_name, target) => {
  test('every malformed answer settles with a result or a typed error; broken records are errors', async () => {
    let clean: Buffer | undefined;
    proxy.rewrite(target.method, target.path, (response) => void (clean = response.body), { times: 1 });
    const baseline = await outcomeOf(target.run(fresh()));
    proxy.clear();
    expect(baseline).toEqual({ kind: 'ok' });
    expect(clean).toBeDefined();

    const variants = target.blob ? blobVariants(clean!) : jsonVariants(clean!);
    const problems: string[] = [];
    const tally = { variants: variants.length, typedErrors: 0, results: 0, mustFail: 0 };
    for (const variant of variants) {
      let served = false;
      // Every answer of the call is the malformed one (a poll reads the list twice when something is new).
      proxy.rewrite(target.method, target.path, (response) => ((served = true), variant.apply(response.body)));
      const outcome = await outcomeOf(target.run(fresh()));
      proxy.clear();
      if (!served) problems.push(`${variant.name}: the variant was never served`);
      if (outcome.kind === 'typed') tally.typedErrors++;
      if (outcome.kind === 'ok') tally.results++;
      if (outcome.kind === 'hang') problems.push(`${variant.name}: did not settle in 15 s`);
      if (outcome.kind === 'untyped') problems.push(`${variant.name}: untyped ${String((outcome.error as Error)?.stack ?? outcome.error).split('\n').slice(0, 2).join(' ')}`);
      if (mustFail(target, variant)) {
        tally.mustFail++;
        if (outcome.kind === 'ok') problems.push(`${variant.name}: accepted`);
      }
    }
    figures[target.name] = tally;
    expect(problems).toEqual([]);
    expect(tally.mustFail).toBeGreaterThan(0);
  });
});
