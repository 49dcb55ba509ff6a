/**
 * One Enmeshed Trigger poll with Download Attachments over N Mails with an attachment each, against
 * a local Platform that answers every request after D ms (a Platform at a distance: a real Backbone
 * is tens of milliseconds away, loopback is not). Each attachment costs two requests (metadata,
 * blob), so a poll that downloads one at a time pays 2 × N × D. Not part of `npm run bench`; to
 * compare code versions, run it on each (a worktree for the older one):
 *   node -r ts-node/register/transpile-only bench/trigger-attachments.ts [mails=40] [delayMs=20] [kib=64]
 */
import { randomBytes } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';
import { buildMail, sendMessage, uploadFile } from '../lib/protocol';
import type { EnmeshedTrigger as Trigger } from '../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { startPlatform } from '../platform/server';
import { pollContext } from '../test/nodes/context';
import { inOneDay, now, ourPair } from './setup';

// By path with its extension: outside jest, Node resolves the codex (EnmeshedTrigger.node.json) first.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { EnmeshedTrigger } = require('../nodes/EnmeshedTrigger/EnmeshedTrigger.node.ts') as { EnmeshedTrigger: typeof Trigger };

async function main(): Promise<void> {
  const mails = Number(process.argv[2] ?? 40);
  const delayMs = Number(process.argv[3] ?? 20);
  const kib = Number(process.argv[4] ?? 64);
  const platform = await startPlatform({ maxUnreceivedMessages: 1_000_000 });
  const { a: org, b: peer } = await ourPair(platform.baseUrl);
  const parameters = { events: ['messageReceived'], options: { downloadAttachments: true } };
  const staticData: IDataObject = {};
  const trigger = new EnmeshedTrigger();
  const poll = () => trigger.poll.call(pollContext({ parameters, credentials: { ...org.credential }, mode: 'trigger', staticData, description: trigger.description }));
  await poll(); // seed
  for (let i = 0; i < mails; i++) {
    const file = await uploadFile(peer, { content: randomBytes(kib * 1024), filename: `f${i}.bin`, mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    await sendMessage(peer, { recipients: [org.address], content: buildMail({ to: [org.address], subject: `m${i}`, body: 'b' }), attachments: [file.reference] });
  }
  let requests = 0;
  platform.setFaults(() => {
    requests++;
    return { delayMs };
  });
  const t = now();
  const out = await poll();
  const ms = now() - t;
  platform.setFaults(undefined);
  const items = out?.[0] ?? [];
  const files = items.filter((item) => Object.keys(item.binary ?? {}).length === 1).length;
  if (items.length !== mails || files !== mails) throw new Error(`expected ${mails} items with a file, got ${items.length} items, ${files} with a file`);
  console.log(`${mails} Mails with a ${kib} KiB attachment, every request answered after ${delayMs} ms: one poll ${ms.toFixed(0)} ms, ${requests} requests (one at a time would take at least ${requests * delayMs} ms)`);
  console.log(JSON.stringify({ mails, delayMs, kib, pollMs: Math.round(ms), requests }));
  await platform.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
