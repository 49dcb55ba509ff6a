/**
 * Enmeshed Instant Trigger: n8n's trigger() life cycle driven by hand (test/nodes/context.ts) against
 * the local Platform's SSE server. Activation seeds the cursor; a message starts the workflow within
 * a second with the item the poll trigger gives; exactly once, also across a reactivation; one
 * stream per identity for all workflows; fallback polling (and a warning) without an SseServer; a
 * failed poll is recorded once and retried; "Listen for test event" samples, or waits through the
 * production stream without opening its own.
 */
import type { IDataObject, INodeExecutionData, INodeParameters, ITriggerResponse } from 'n8n-workflow';
import { buildMail, sendMessage, type Participant } from '../../lib/protocol';
import { EnmeshedInstantTrigger } from '../../nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { newParticipant } from '../helpers/participants';
import { relate } from '../helpers/relate';
import { triggerContext, type TestTriggerFunctions } from './context';
import { nodeIdentity, poll as pollTrigger, sleep, type NodeIdentity } from './helpers';
import { until } from '../../scripts/lib/wait';

jest.setTimeout(60_000);

let platform: PlatformHandle;
let alice: Participant;
let sseRequests: number;
let messagesFault: (() => '500' | { delayMs: number } | undefined) | undefined;
const running: { close: () => Promise<void> }[] = [];

const MESSAGES: INodeParameters = { events: ['messageReceived'] };
const description = new EnmeshedInstantTrigger().description;

beforeAll(async () => {
  platform = await startPlatform({});
  alice = await newParticipant(platform.baseUrl);
  platform.setFaults((req) => {
    if (/\/sse$/.test(req.path)) sseRequests++;
    if (req.method === 'GET' && req.path === '/api/v2/Messages') return messagesFault?.();
    return undefined;
  });
});
beforeEach(() => {
  sseRequests = 0;
  messagesFault = undefined;
  platform.configure({ sse: true });
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
});
afterAll(() => platform?.close());

/** An identity of its own per test: the hub keeps one stream per identity for 10 s after its last workflow. */
async function organisation(): Promise<NodeIdentity> {
  const org = await nodeIdentity(platform.baseUrl);
  await relate(org.lib, alice);
  return org;
}

async function mail(to: NodeIdentity, subject: string): Promise<string> {
  return (await sendMessage(alice, { recipients: [to.address], content: buildMail({ to: [to.address], subject, body: `${subject} body` }) })).id;
}

/** Activates the trigger as n8n does: trigger() on a new node instance; closeFunction on deactivation. */
async function activate(
  org: NodeIdentity,
  parameters: INodeParameters = MESSAGES,
  staticData: IDataObject = {},
  mode: 'trigger' | 'manual' = 'trigger',
): Promise<{ ctx: TestTriggerFunctions; response: ITriggerResponse; close: () => Promise<void> }> {
  const ctx = triggerContext({ parameters, credentials: org.credential, mode, staticData, description, nodeType: 'n8n-nodes-enmeshed.enmeshedInstantTrigger' });
  const response = await new EnmeshedInstantTrigger().trigger.call(ctx);
  const handle = { ctx, response, close: async () => response.closeFunction?.() };
  running.push(handle);
  return handle;
}

const idsOf = (emitted: INodeExecutionData[][][]) => emitted.flatMap((data) => data[0].map((i) => i.json.id));


const streamOpen = (ctx: TestTriggerFunctions) => ctx.logs.some((l) => l.level === 'info' && /event stream is open/.test(l.message));

test('activation seeds and emits nothing old; a new message starts the workflow within a second with the poll trigger\'s item; exactly once, cursor saved with it', async () => {
  const org = await organisation();
  await mail(org, 'before activation');
  const staticData: IDataObject = {};
  const { ctx } = await activate(org, MESSAGES, staticData);
  expect(staticData.cursor).toMatchObject({ v: 1, messages: { total: 1 } });
  await until('the stream', () => streamOpen(ctx));
  expect(ctx.emitted).toEqual([]);

  const sent = Date.now();
  const next = ctx.nextEmit(2_000);
  const id = await mail(org, 'instant');
  const [items] = await next;
  expect(Date.now() - sent).toBeLessThan(1_000);
  expect(items.map((i) => [i.json.event, i.json.id, i.json.subject])).toEqual([['messageReceived', id, 'instant']]);
  // The same item as the Enmeshed Trigger's (its "Fetch Test Event" returns the newest message).
  const polled = await pollTrigger({ parameters: MESSAGES, credentials: org.credential, mode: 'manual', staticData: {} });
  expect(items[0].json).toEqual(polled![0].json);
  // n8n saves static data when emit is called: the cursor in it already covers the message.
  expect((JSON.parse(ctx.saved[0]) as { cursor: { messages: { seen: [string, string][] } } }).cursor.messages.seen.map(([seen]) => seen)).toContain(id);

  const more = [await mail(org, 'a'), await mail(org, 'b'), await mail(org, 'c')];
  await until('three more', () => idsOf(ctx.emitted).length === 4);
  await sleep(500);
  expect(idsOf(ctx.emitted)).toEqual([id, ...more]);
  expect(ctx.failedExecutions).toEqual([]);
});

test('two workflows with one credential share one stream and both start; a reactivation catches up on what came while it was off, exactly once', async () => {
  const org = await organisation();
  const firstData: IDataObject = {};
  const first = await activate(org, MESSAGES, firstData);
  const second = await activate(org, { events: ['messageReceived'], options: { simplify: false } });
  await until('the streams', () => streamOpen(first.ctx) && streamOpen(second.ctx));
  const id = await mail(org, 'for both');
  await until('both', () => first.ctx.emitted.length === 1 && second.ctx.emitted.length === 1, 2_000);
  expect(sseRequests).toBe(1);

  // Deactivated (n8n calls closeFunction), a message arrives, activated again from the saved static data.
  await first.close();
  const missed = await mail(org, 'while off');
  await until('the other workflow', () => second.ctx.emitted.length === 2, 2_000);
  const again = await activate(org, MESSAGES, JSON.parse(first.ctx.saved[first.ctx.saved.length - 1]) as IDataObject);
  await until('the catch-up', () => again.ctx.emitted.length === 1);
  await sleep(500);
  expect(idsOf(again.ctx.emitted)).toEqual([missed]);
  expect(idsOf(first.ctx.emitted)).toEqual([id]);
  expect(sseRequests).toBe(1); // the stream outlived the short deactivation
});

test('without an SseServer: says so, polls at the fallback interval, and still emits exactly once', async () => {
  platform.configure({ sse: false });
  const org = await organisation();
  const { ctx } = await activate(org, { ...MESSAGES, fallbackPollSeconds: 5 });
  await until('the warning', () => ctx.logs.some((l) => l.level === 'warn'));
  expect(ctx.logs.find((l) => l.level === 'warn')?.message).toMatch(/no instant events — no event stream at \/api\/v1\/sse or \/api\/v2\/sse \(404\).*Polling every 5 s instead/);
  const id = await mail(org, 'polled');
  await until('the fallback poll', () => ctx.emitted.length === 1, 7_000);
  expect(idsOf(ctx.emitted)).toEqual([id]);
});

test('a failing poll: one failed execution, retried, the message emitted once the Platform answers again', async () => {
  const org = await organisation();
  const { ctx } = await activate(org);
  await until('the stream', () => streamOpen(ctx));
  let failing = true;
  messagesFault = () => (failing ? '500' : undefined);
  const id = await mail(org, 'during an outage');
  await until('the failure', () => ctx.failedExecutions.length === 1, 10_000);
  failing = false;
  await until('the retry', () => ctx.emitted.length === 1, 10_000);
  expect(idsOf(ctx.emitted)).toEqual([id]);
  expect(ctx.failedExecutions).toHaveLength(1);
  expect(ctx.fatalErrors).toEqual([]);
});

test('deactivated while a poll runs: nothing emitted, the cursor where it was', async () => {
  const org = await organisation();
  const staticData: IDataObject = {};
  const { ctx, close } = await activate(org, MESSAGES, staticData);
  await until('the stream', () => streamOpen(ctx));
  const cursor = JSON.stringify(staticData.cursor);
  let reads = 0;
  messagesFault = () => (reads++ === 0 ? { delayMs: 1_000 } : undefined);
  await mail(org, 'in flight');
  await until('the poll reading', () => reads > 0, 2_000);
  await close();
  await sleep(2_500);
  expect(ctx.emitted).toEqual([]);
  expect(JSON.stringify(staticData.cursor)).toBe(cursor);
});

describe('"Listen for test event" (manual)', () => {
  /** n8n's manual run: trigger(), then manualTriggerFunction, then the first emit is the result. */
  async function listen(org: NodeIdentity) {
    const handle = await activate(org, MESSAGES, {}, 'manual');
    const first = handle.ctx.nextEmit(10_000);
    await handle.response.manualTriggerFunction?.();
    return { ...handle, first };
  }

  test('the newest event at once; no stream of its own, static data untouched', async () => {
    const org = await organisation();
    const id = await mail(org, 'newest');
    const { ctx, first } = await listen(org);
    const [items] = await first;
    expect(items.map((i) => i.json.id)).toEqual([id]);
    expect(sseRequests).toBe(0);
    expect(ctx.staticData).toEqual({});
  });

  test('nothing there yet: waits for the first message, hearing the production stream of this process without a second one (which would silence it)', async () => {
    const org = await organisation();
    const production = await activate(org);
    await until('the production stream', () => streamOpen(production.ctx));
    const manual = await listen(org);
    await sleep(300);
    const id = await mail(org, 'first ever');
    const started = Date.now();
    const [items] = await manual.first;
    expect(Date.now() - started).toBeLessThan(2_000); // through the stream, not the 5-second poll
    expect(items.map((i) => i.json.id)).toEqual([id]);
    await until('production', () => production.ctx.emitted.length === 1, 2_000);
    expect(sseRequests).toBe(1);
    // Production still hears its stream afterwards.
    const later = await mail(org, 'later');
    await until('production again', () => production.ctx.emitted.length === 2, 2_000);
    expect(idsOf(production.ctx.emitted)).toEqual([id, later]);
  });
});
