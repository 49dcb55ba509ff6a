/**
 * Reading a large datawallet from the local Platform: N modifications (default 20,000, distinct
 * objects, 200-byte payloads) pushed in batches, then every page of GET /Datawallet/Modifications
 * (pageSize 200, localIndex -1) read in order, as a new device restoring its state would.
 *
 *   node -r ts-node/register/transpile-only bench/platform-datawallet.ts [N] [--data [DIR]]
 *
 * Prints the push time and the time to read all pages; `--data` uses a database file (in DIR, or a
 * temporary folder) instead of memory. Runs on the Node it is started with (node:sqlite from Node 22.5 on, WebAssembly SQLite
 * before).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { b64u, createIdentity, DW } from '../test/platform/helpers';
import { startPlatform } from '../platform/server';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const total = Number(args.find((a) => /^\d+$/.test(a)) ?? 20_000);
  // --data alone: a temporary folder, removed afterwards.
  const dataIndex = args.indexOf('--data');
  const givenDir = dataIndex >= 0 ? args[dataIndex + 1] : undefined;
  const tempDir = dataIndex >= 0 && !givenDir ? mkdtempSync(path.join(tmpdir(), 'dw-bench-')) : undefined;
  const dataDir = givenDir ?? tempDir;
  const platform = await startPlatform({ port: 0, dataDir });
  try {
    const id = await createIdentity(platform.baseUrl);
    const payload = b64u(Buffer.alloc(200, 7));
    let t0 = performance.now();
    const batch = 1000;
    for (let start = 0; start < total; start += batch) {
      const modifications = Array.from({ length: Math.min(batch, total - start) }, (_, i) => ({
        type: 'Create',
        objectIdentifier: `bench/${start + i}`,
        collection: 'bench',
        payloadCategory: null,
        encryptedPayload: payload,
        datawalletVersion: 1,
      }));
      const res = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: start - 1, modifications }, headers: DW });
      if (res.status !== 201) throw new Error(`push: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const pushMs = performance.now() - t0;

    t0 = performance.now();
    let read = 0;
    let pages = 0;
    for (let page = 1; ; page++) {
      const res = await id.req('GET', `/api/v2/Datawallet/Modifications?localIndex=-1&pageSize=200&pageNumber=${page}`, { headers: DW });
      if (res.status !== 200) throw new Error(`read: ${res.status} ${res.text.slice(0, 300)}`);
      read += res.body.result.length;
      pages++;
      if (!res.body.pagination || page >= res.body.pagination.totalPages) break;
    }
    const readMs = performance.now() - t0;
    if (read !== total) throw new Error(`read ${read} of ${total} modifications`);
    console.log(
      `${total} modifications (Node ${process.version}${dataDir ? ', file' : ', memory'}): push ${(pushMs / 1000).toFixed(2)} s; ` +
        `read all ${pages} pages ${(readMs / 1000).toFixed(2)} s (${(readMs / pages).toFixed(1)} ms per page)`,
    );
  } finally {
    await platform.close();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

void main();
