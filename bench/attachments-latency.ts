/**
 * Files through the nodes from a Platform at a distance: the local Platform answers every request
 * after D ms (a real Backbone is tens of milliseconds away, loopback is not).
 *   - Message → Send (v2) of one Mail with K attachments from binary data: one upload each;
 *   - one Enmeshed Trigger poll with Download Attachments over N Mails with a file each: two
 *     requests per file (metadata, blob).
 * Each runs the node's own code with the test contexts. One at a time, the files alone would cost
 * K × D and 2 × N × D. Not part of `npm run bench`; to compare code versions, run it on each (a
 * worktree for the older one):
 *   node -r ts-node/register/transpile-only bench/attachments-latency.ts [files=40] [delayMs=20] [kib=64] [sendFiles=8]
 */
import { randomBytes } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';
import { buildMail, sendMessage, uploadFile } from '../lib/protocol';
import type { Enmeshed as Action } from '../nodes/Enmeshed/Enmeshed.node';
import type { EnmeshedTrigger as Trigger } from '../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { startPlatform } from '../platform/server';
import { binaryItem, executeContext, pollContext } from '../test/nodes/context';
import { inOneDay, now, ourPair } from './setup';

// By path with the extension: outside jest, Node resolves the codex (<Node>.node.json) first.
/* eslint-disable @typescript-eslint/no-require-imports */
const { EnmeshedTrigger } = require('../nodes/EnmeshedTrigger/EnmeshedTrigger.node.ts') as { EnmeshedTrigger: typeof Trigger };
const { Enmeshed } = require('../nodes/Enmeshed/Enmeshed.node.ts') as { Enmeshed: typeof Action };
/* eslint-enable @typescript-eslint/no-require-imports */

async function main(): Promise<void> {
  const mails = Number(process.argv[2] ?? 40);
  const delayMs = Number(process.argv[3] ?? 20);
  const kib = Number(process.argv[4] ?? 64);
  const sendFiles = Number(process.argv[5] ?? 8);
  const platform = await startPlatform({ maxUnreceivedMessages: 1_000_000 });
  const { a: org, b: peer } = await ourPair(platform.baseUrl);
  let requests = 0;
  const distant = (on: boolean) => platform.setFaults(on ? () => (requests++, { delayMs }) : undefined);

  // Message → Send with K attachments, once warm (the first send of a process reads its state).
  const action = new Enmeshed().nodeVersions[2];
  const files = Object.fromEntries(Array.from({ length: sendFiles }, (_, f) => [`f${f}`, { data: randomBytes(kib * 1024), fileName: `f${f}.bin`, mimeType: 'application/octet-stream' }]));
  const sendOnce = (attachments: string) =>
    action.execute!.call(
      executeContext({
        version: 2,
        description: action.description,
        credentials: { ...org.credential },
        items: [binaryItem({}, files)],
        parameters: { resource: 'message', operation: 'send', to: { __rl: true, mode: 'address', value: peer.address }, subject: 's', body: 'b', attachmentsUi: { attachmentsBinary: [{ property: attachments }] } },
      }),
    );
  await sendOnce('f0');
  distant(true);
  requests = 0;
  let t = now();
  await sendOnce(Object.keys(files).join(','));
  const sendMs = now() - t;
  const sendRequests = requests;
  distant(false);

  // One trigger poll with Download Attachments.
  const trigger = new EnmeshedTrigger();
  const staticData: IDataObject = {};
  const parameters = { events: ['messageReceived'], options: { downloadAttachments: true } };
  const poll = () => trigger.poll.call(pollContext({ parameters, credentials: { ...org.credential }, mode: 'trigger', staticData, description: trigger.description }));
  await poll(); // seed
  for (let i = 0; i < mails; i++) {
    const file = await uploadFile(peer, { content: randomBytes(kib * 1024), filename: `f${i}.bin`, mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    await sendMessage(peer, { recipients: [org.address], content: buildMail({ to: [org.address], subject: `m${i}`, body: 'b' }), attachments: [file.reference] });
  }
  distant(true);
  requests = 0;
  t = now();
  const out = await poll();
  const pollMs = now() - t;
  const pollRequests = requests;
  distant(false);
  const items = out?.[0] ?? [];
  const withFile = items.filter((item) => Object.keys(item.binary ?? {}).length === 1).length;
  if (items.length !== mails || withFile !== mails) throw new Error(`expected ${mails} items with a file, got ${items.length} items, ${withFile} with a file`);

  console.log(`every request answered after ${delayMs} ms, files of ${kib} KiB`);
  console.log(`  Message → Send, ${sendFiles} attachments: ${sendMs.toFixed(0)} ms, ${sendRequests} requests (the uploads one at a time: at least ${sendFiles * delayMs} ms for them alone)`);
  console.log(`  trigger poll, ${mails} Mails with a file: ${pollMs.toFixed(0)} ms, ${pollRequests} requests (the files one at a time: at least ${2 * mails * delayMs} ms for them alone)`);
  console.log(JSON.stringify({ delayMs, kib, sendFiles, sendMs: Math.round(sendMs), sendRequests, mails, pollMs: Math.round(pollMs), pollRequests }));
  await platform.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
