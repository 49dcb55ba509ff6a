/**
 * `npm run bench:n8n-burst`: a burst of Mails with an attachment through a real n8n 2.41.1 (the
 * packed package installed as the Community Nodes UI installs it, as test/e2e does), end to end.
 *
 * One `n8n start` holds two published workflows:
 *  - Burst (sender A): Webhook → Code (N items, each with a 1 KiB binary) → Enmeshed v2 Message →
 *    Send (to B, the binary as attachment). One execution with N items: the node sends them one
 *    after the other, as n8n runs a node over its items.
 *  - Inbox (recipient B): Enmeshed Instant Trigger (Message Received, Download Attachments) → HTTP
 *    Request, which posts each message's id to a server in this process.
 *
 * Timed: the Platform's clock of the first and last `POST /Messages` (the send rate), and the
 * arrival of the last id at the server (end to end: first send → last message through the trigger).
 * Run twice by default: with the Platform's limit of unreceived messages per sender raised (the
 * sender never waits), and with the real limit of 20, where the sender's "Full Inbox: Wait Up To"
 * retries while the trigger fetches to make room.
 *
 *   npm run bench:n8n-burst [-- --messages=200 --limits=1000000,20]
 */
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPlatform, type PlatformHandle } from '../platform/server';
import { cli, createHome, freePort, importJson, packPackage, start, type N8nHome, type Running } from '../scripts/lib/n8n';
import { ourPair, round, type OurParticipant } from './setup';
import { until } from '../scripts/lib/wait';

/** until()'s options here: checked every 20 ms; n8n's log is shown when it times out. */
const logOnTimeout = (running: Running) => ({ everyMs: 20, onTimeout: () => void process.stderr.write(`--- n8n log ---\n${running.log().slice(-6000)}\n`) });

const ROOT = path.join(__dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ATTACHMENT_BYTES = 1024;

interface BurstResult {
  limit: number;
  messages: number;
  sendMs: number;
  endToEndMs: number;
  webhookToFirstSendMs: number;
  fullInboxRefusals: number;
}

const credential = (id: string, name: string, c: OurParticipant['credential']) => ({
  id,
  name,
  type: 'enmeshedApi',
  data: { platformUrl: c.platformUrl, clientId: c.clientId, clientSecret: c.clientSecret, identity: c.identity },
});

function burstWorkflow(to: string, n: number) {
  const code = `const out = [];
for (let i = 0; i < ${n}; i++) {
  const data = Buffer.alloc(${ATTACHMENT_BYTES}, i % 256);
  out.push({ json: { i }, binary: { data: await this.helpers.prepareBinaryData(data, 'part-' + i + '.bin', 'application/octet-stream') } });
}
return out;`;
  return {
    id: 'benchBurstA00001',
    name: 'Burst: N Mails with an attachment',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: {
      Go: { main: [[{ node: 'Make items', type: 'main', index: 0 }]] },
      'Make items': { main: [[{ node: 'Send', type: 'main', index: 0 }]] },
    },
    nodes: [
      { id: 'b1', name: 'Go', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: 'b7c1d2e3-0000-4000-8000-00000000b001', parameters: { httpMethod: 'POST', path: 'burst', responseMode: 'onReceived' } },
      { id: 'b2', name: 'Make items', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: code } },
      {
        id: 'b3',
        name: 'Send',
        type: 'n8n-nodes-enmeshed.enmeshed',
        typeVersion: 2,
        position: [400, 0],
        parameters: {
          resource: 'message',
          operation: 'send',
          to: { __rl: true, mode: 'address', value: to },
          contentType: 'mail',
          subject: '=Part {{ $json.i }}',
          body: 'One part of the burst.',
          attachmentsUi: { attachmentsBinary: [{ property: 'data' }] },
          options: { fullInboxWaitSeconds: 600 },
        },
        credentials: { enmeshedApi: { id: 'benchCredA000001', name: 'A' } },
      },
    ],
  };
}

function inboxWorkflow(sinkPort: number) {
  return {
    id: 'benchInboxB00001',
    name: 'Inbox: every message to a web hook',
    active: false,
    settings: { executionOrder: 'v1' },
    connections: { 'New Message': { main: [[{ node: 'Tell', type: 'main', index: 0 }]] } },
    nodes: [
      {
        id: 'i1',
        name: 'New Message',
        type: 'n8n-nodes-enmeshed.enmeshedInstantTrigger',
        typeVersion: 1,
        position: [0, 0],
        parameters: { events: ['messageReceived'], options: { downloadAttachments: true, keepAliveSeconds: 30 } },
        credentials: { enmeshedApi: { id: 'benchCredB000001', name: 'B' } },
      },
      {
        id: 'i2',
        name: 'Tell',
        type: 'n8n-nodes-base.httpRequest',
        typeVersion: 4.2,
        position: [300, 0],
        parameters: {
          method: 'POST',
          url: `http://127.0.0.1:${sinkPort}/hit`,
          sendBody: true,
          bodyParameters: { parameters: [{ name: 'id', value: '={{ $json.id }}' }, { name: 'file', value: '={{ $binary.attachment_0?.fileName ?? "" }}' }] },
        },
      },
    ],
  };
}


async function burst(limit: number, n: number, tgz: string, dirs: string[]): Promise<BurstResult> {
  const dataDir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'burst-platform-'));
  dirs.push(dataDir);
  const platform: PlatformHandle = await startPlatform({ dataDir, maxUnreceivedMessages: limit, sseKeepAliveMs: 30_000 });
  const sends: number[] = [];
  let refusals = 0;
  let streams = 0;
  platform.setFaults((req) => {
    if (req.method === 'POST' && /\/api\/v2\/Messages$/.test(req.path)) sends.push(Date.now());
    if (/\/sse$/.test(req.path)) streams++;
    return undefined;
  });
  const hits = new Map<string, number>();
  let withAttachment = 0;
  const sink: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const { id, file } = JSON.parse(body || '{}') as { id?: string; file?: string };
      if (id && !hits.has(id)) {
        hits.set(id, Date.now());
        if (/^part-\d+\.bin$/.test(file ?? '')) withAttachment++;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  let running: Running | undefined;
  try {
    const { a, b } = await ourPair(platform.baseUrl);
    const home: N8nHome = await createHome('burst', tgz, { port: await freePort(), broker: await freePort() });
    dirs.push(home.dir);
    await importJson(home, 'credentials', [credential('benchCredA000001', 'A', a.credential), credential('benchCredB000001', 'B', b.credential)]);
    await importJson(home, 'workflow', [burstWorkflow(b.address, n), inboxWorkflow((sink.address() as AddressInfo).port)]);
    await cli(home, ['publish:workflow', '--id=benchBurstA00001']);
    await cli(home, ['publish:workflow', '--id=benchInboxB00001']);
    running = await start(home);
    await until("the trigger's event stream", () => streams > 0, 120_000, logOnTimeout(running));
    await sleep(3_000); // the catch-up poll after the stream opened

    const webhookAt = Date.now();
    const res = await fetch(`http://127.0.0.1:${home.env.N8N_PORT}/webhook/burst`, { method: 'POST' });
    if (!res.ok) throw new Error(`the burst's webhook answered ${res.status}: ${await res.text()}`);
    await until(`${n} messages through the trigger`, () => hits.size >= n, 30 * 60_000, logOnTimeout(running));
    const last = Math.max(...hits.values());
    if (withAttachment !== n) throw new Error(`${n - withAttachment} of ${n} messages reached the trigger without their attachment`);
    // A refused send (full inbox) is retried: every POST beyond n was one.
    refusals = sends.length - n;
    return {
      limit,
      messages: n,
      sendMs: sends[sends.length - 1] - sends[0],
      endToEndMs: last - sends[0],
      webhookToFirstSendMs: sends[0] - webhookAt,
      fullInboxRefusals: refusals,
    };
  } finally {
    await running?.stop();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    await platform.close();
  }
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const n = Number(arg('messages') ?? 200);
  const limits = (arg('limits') ?? '1000000,20').split(',').map(Number);
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const packStarted = Date.now();
  const tgz = packPackage();
  console.log(`packed ${path.basename(tgz)} in ${((Date.now() - packStarted) / 1000).toFixed(0)} s`);
  const dirs: string[] = [];
  const results: BurstResult[] = [];
  try {
    for (const limit of limits) results.push(await burst(limit, n, tgz, dirs));
  } finally {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${n} Mails with a ${ATTACHMENT_BYTES} B attachment in one execution (Enmeshed v2 Send over ${n} items) → Enmeshed Instant Trigger (Download Attachments) → HTTP Request`);
  console.log('unreceived limit   send (first → last POST)     end to end (first send → last at the trigger)   webhook → first send   message POSTs refused');
  const summary: Record<string, unknown> = { date: new Date().toISOString(), node_of_bench: process.version, n8n: '2.41.1', cores: os.cpus().length, load_average: os.loadavg().map((l) => round(l, 1)), messages: n, attachment_bytes: ATTACHMENT_BYTES };
  for (const r of results) {
    const rate = (ms: number) => (r.messages / (ms / 1000)).toFixed(1);
    console.log(
      `${String(r.limit).padStart(15)}   ${rate(r.sendMs).padStart(6)} msg/s ${String(r.sendMs).padStart(7)} ms   ${rate(r.endToEndMs).padStart(12)} msg/s ${String(r.endToEndMs).padStart(7)} ms   ${String(r.webhookToFirstSendMs).padStart(17)} ms   ${String(r.fullInboxRefusals).padStart(8)}`,
    );
    const k = `n8n_burst_limit_${r.limit}`;
    summary[`${k}_send_per_s`] = round(r.messages / (r.sendMs / 1000), 1);
    summary[`${k}_end_to_end_per_s`] = round(r.messages / (r.endToEndMs / 1000), 1);
    summary[`${k}_send_ms`] = r.sendMs;
    summary[`${k}_end_to_end_ms`] = r.endToEndMs;
    summary[`${k}_refused_posts`] = r.fullInboxRefusals;
  }
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
