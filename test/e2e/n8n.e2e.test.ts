/**
 * End to end on a real n8n 2.41.1 with the package installed as the Community Nodes UI does:
 *  1. B's n8n runs (`n8n start`) with an active workflow: Enmeshed Trigger (Message Received, Download
 *     Attachments) → Enmeshed (Send a reply to the sender with the same two attachments).
 *  2. A's n8n runs a workflow with `n8n execute`: Manual Trigger → Code (two binary files, one with a
 *     non-Latin name) → Enmeshed (Send a Mail with both as attachments to B).
 *  3. B's trigger polls, gets the Mail with its attachments as binary, and replies.
 *  4. A (through lib/) reads the reply: both files are byte-identical to what it sent.
 * B's cursor is then in the workflow's static data, exported after n8n stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import {
  acceptRelationship,
  createTemplate,
  downloadFile,
  getMessage,
  loadTemplate,
  messagesNewestFirst,
  requestRelationship,
  sync,
} from '../../lib/protocol';
import { newParticipant, inOneDay } from '../helpers/participants';
import { cli, createHome, execute, importJson, packPackage, start, type N8nHome } from '../../scripts/lib/n8n';
import { waitFor } from '../../scripts/lib/wait';

jest.setTimeout(15 * 60_000);

let platform: PlatformHandle;
type Peer = Awaited<ReturnType<typeof newParticipant>>;
let a: Peer;
let b: Peer;
const report = randomBytes(300_000);
const scan = Buffer.from('Prüfbericht — 检验报告 — résultat ✓\n'.repeat(100), 'utf8');

beforeAll(async () => {
  fs.mkdirSync(path.join(__dirname, '..', '..', '.tmp'), { recursive: true });
  platform = await startPlatform({});
  a = await newParticipant(platform.baseUrl);
  b = await newParticipant(platform.baseUrl);
  const template = await createTemplate(a, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: {} }, expiresAt: inOneDay() });
  const request = await requestRelationship(b, await loadTemplate(b, template.truncatedReference), { '@type': 'ArbitraryRelationshipCreationContent', value: {} });
  await sync(a);
  await acceptRelationship(a, request.id);
});

const homes: string[] = [];
afterAll(async () => {
  await platform?.close();
  for (const dir of homes) fs.rmSync(dir, { recursive: true, force: true });
});

const credential = (id: string, name: string, data: Peer['credential']) => ({
  id,
  name,
  type: 'enmeshedApi',
  data: { platformUrl: data.platformUrl, clientId: data.clientId, clientSecret: data.clientSecret, identity: data.identity },
});

function sendWorkflow(to: string) {
  const code = `return [{ json: { note: 'two files' }, binary: {
    report: { data: ${JSON.stringify(report.toString('base64'))}, mimeType: 'application/pdf', fileName: 'report.pdf' },
    scan: { data: ${JSON.stringify(scan.toString('base64'))}, mimeType: 'text/plain', fileName: 'Prüfbericht_检验.txt' },
  } }];`;
  return {
    id: 'e2eSendMailA0001',
    name: 'A sends a Mail with two attachments',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: {
      Start: { main: [[{ node: 'Make files', type: 'main', index: 0 }]] },
      'Make files': { main: [[{ node: 'Send Mail', type: 'main', index: 0 }]] },
    },
    nodes: [
      { id: 'n1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
      { id: 'n2', name: 'Make files', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
      {
        id: 'n3',
        name: 'Send Mail',
        type: 'n8n-nodes-enmeshed.enmeshed',
        typeVersion: 1,
        position: [400, 0],
        parameters: {
          resource: 'message',
          operation: 'send',
          to: { __rl: true, mode: 'address', value: to },
          contentType: 'mail',
          subject: 'Lab report',
          body: 'Please find **two** files attached.',
          attachments: 'report, scan',
          options: { bodyFormat: 'Markdown' },
        },
        credentials: { enmeshedApi: { id: 'credA00000000001', name: 'A' } },
      },
    ],
  };
}

function replyWorkflow() {
  return {
    id: 'e2eReplyB0000001',
    name: 'B replies to every Mail with its attachments',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: { 'New Mail': { main: [[{ node: 'Reply', type: 'main', index: 0 }]] } },
    nodes: [
      {
        id: 'm1',
        name: 'New Mail',
        type: 'n8n-nodes-enmeshed.enmeshedTrigger',
        typeVersion: 1,
        position: [0, 0],
        parameters: { events: ['messageReceived'], options: { downloadAttachments: true }, pollTimes: { item: [{ mode: 'everyMinute' }] } },
        credentials: { enmeshedApi: { id: 'credB00000000001', name: 'B' } },
      },
      {
        id: 'm2',
        name: 'Reply',
        type: 'n8n-nodes-enmeshed.enmeshed',
        typeVersion: 1,
        position: [300, 0],
        parameters: {
          resource: 'message',
          operation: 'send',
          to: { __rl: true, mode: 'address', value: '={{ $json.from }}' },
          contentType: 'mail',
          subject: '=Re: {{ $json.subject }}',
          body: '=Received {{ $json.attachmentFiles.length }} files.',
          attachments: 'attachment_0, attachment_1',
        },
        credentials: { enmeshedApi: { id: 'credB00000000001', name: 'B' } },
      },
    ],
  };
}


test('A sends with `n8n execute`, B\'s active trigger receives and replies, files round-trip byte-identical', async () => {
  const tgz = packPackage();
  const homeB: N8nHome = await createHome('b', tgz, { port: 45678, broker: 45679 });
  const homeA: N8nHome = await createHome('a', tgz, { port: 45680, broker: 45681 });
  homes.push(homeA.dir, homeB.dir);

  // B: the replying workflow, published, then n8n start (the activation poll seeds the cursor).
  await importJson(homeB, 'credentials', [credential('credB00000000001', 'B', b.credential)]);
  await importJson(homeB, 'workflow', [replyWorkflow()]);
  await cli(homeB, ['publish:workflow', '--id=e2eReplyB0000001']);
  const nodes = await cli(homeB, ['export:nodes', `--output=${path.join(homeB.dir, 'nodes.json')}`]).then(() =>
    JSON.parse(fs.readFileSync(path.join(homeB.dir, 'nodes.json'), 'utf8')) as { name: string }[],
  );
  expect(nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['n8n-nodes-enmeshed.enmeshed', 'n8n-nodes-enmeshed.enmeshedTrigger', 'n8n-nodes-enmeshed.enmeshedTool']));
  // Only B's n8n talks to the Platform until A runs: its first message-list read is the seeding poll.
  let messageReads = 0;
  platform.setFaults((req) => {
    if (req.method === 'GET' && /\/api\/v2\/Messages\?/i.test(req.url)) messageReads++;
    return undefined;
  });
  const running = await start(homeB);
  try {
    await waitFor('the activation poll of B', 90_000, async () => (messageReads > 0 ? true : undefined), { everyMs: 2_000 });
    await new Promise((r) => setTimeout(r, 3_000)); // let the seeding poll finish

    // A: send with n8n execute.
    await importJson(homeA, 'credentials', [credential('credA00000000001', 'A', a.credential)]);
    await importJson(homeA, 'workflow', [sendWorkflow(b.address)]);
    const result = JSON.stringify(await execute(homeA, 'e2eSendMailA0001'));
    expect(result).toContain('Lab report');

    // B's next scheduled poll (every minute) receives it and replies; A reads the reply.
    const reply = await waitFor('B\'s reply', 200_000, async () => {
      for await (const dto of messagesNewestFirst(a)) {
        if (dto.createdBy === b.address) return dto.id;
        break;
      }
      return undefined;
    }, { everyMs: 2_000 });
    const message = await getMessage(a, reply);
    expect(message.content).toMatchObject({ '@type': 'Mail', subject: 'Re: Lab report', body: 'Received 2 files.' });
    expect(message.attachments).toHaveLength(2);
    const files = await Promise.all(message.attachments.map((ref) => downloadFile(a, ref)));
    const byName = new Map(files.map((f) => [f.file.filename, f]));
    expect(byName.get('report.pdf')?.content.equals(report)).toBe(true);
    expect(byName.get('report.pdf')?.file.mimetype).toBe('application/pdf');
    expect(byName.get('Prüfbericht_检验.txt')?.content.equals(scan)).toBe(true);
  } catch (error) {
    // The n8n log is the only way to see what went wrong inside n8n.
    process.stderr.write(`--- n8n (B) log ---\n${running.log().slice(-5000)}\n`);
    throw error;
  } finally {
    await running.stop();
  }

  // The trigger's cursor was saved with the execution it started.
  const exported = path.join(homeB.dir, 'exported.json');
  await cli(homeB, ['export:workflow', '--id=e2eReplyB0000001', `--output=${exported}`]);
  const [workflow] = JSON.parse(fs.readFileSync(exported, 'utf8')) as { staticData?: Record<string, { cursor?: { messages?: { total: number; seen: [string, string][] } } }> }[];
  const cursor = workflow.staticData?.['node:New Mail']?.cursor;
  expect(cursor?.messages?.total).toBeGreaterThanOrEqual(1);
  expect(cursor?.messages?.seen.length).toBeGreaterThanOrEqual(1);
});
