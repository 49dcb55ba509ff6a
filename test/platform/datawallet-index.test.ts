/**
 * GET /Datawallet/Modifications as an indexed read (a `superseded` flag kept on insert, a cached list of
 * the current indexes) answers exactly what the former full scan did: every modification with
 * index > localIndex, keeping only the newest per (objectIdentifier, type, payloadCategory), sorted by
 * index, then paged. The full scan is kept below as the reference, and the two are compared on a
 * random mix of pushes, sync-run finalizations, reads between writes, and a database migrated from
 * the schema without the flag.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformDb } from '../../platform/db';
import { b64u, createIdentity, DW, getToken, request, startPlatform, type Identity } from './helpers';

interface Mod {
  index: number;
  objectIdentifier: string;
  type: string;
  payloadCategory: string | null;
  encryptedPayload: string;
}

/** The former implementation: all rows in the range, newest per key, then the page. */
function reference(all: Mod[], localIndex: number, pageSize: number, pageNumber: number) {
  const range = all.filter((m) => m.index > localIndex).sort((a, b) => a.index - b.index);
  const newest = new Map<string, number>();
  for (const m of range) newest.set(JSON.stringify([m.objectIdentifier, m.type, m.payloadCategory]), m.index);
  const deduped = range.filter((m) => newest.get(JSON.stringify([m.objectIdentifier, m.type, m.payloadCategory])) === m.index);
  const totalPages = Math.ceil(deduped.length / pageSize);
  const result = deduped.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return totalPages <= 1 ? { result } : { result, pagination: { pageNumber, pageSize, totalPages, totalRecords: deduped.length } };
}

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TYPES = ['Create', 'Update', 'Delete', 'CacheChanged'];
const CATEGORIES = [null, 'Content', 'Metadata', 'TechnicalData'];

function randomMods(rnd: () => number, count: number, tag: string) {
  return Array.from({ length: count }, (_, i) => ({
    type: TYPES[Math.floor(rnd() * TYPES.length)],
    objectIdentifier: `obj/${Math.floor(rnd() * 12)}`,
    collection: 'Test',
    payloadCategory: CATEGORIES[Math.floor(rnd() * CATEGORIES.length)],
    encryptedPayload: b64u(`${tag}-${i}`),
    datawalletVersion: 1,
  }));
}

async function page(id: Identity, localIndex: number | undefined, pageSize: number, pageNumber: number) {
  const q = `${localIndex === undefined ? '' : `localIndex=${localIndex}&`}pageSize=${pageSize}&pageNumber=${pageNumber}`;
  const res = await id.req('GET', `/api/v2/Datawallet/Modifications?${q}`, { headers: DW });
  expect(res.status).toBe(200);
  const body = res.body as { result: any[]; pagination?: unknown };
  return {
    result: body.result.map((m) => ({
      index: m.index,
      objectIdentifier: m.objectIdentifier,
      type: m.type,
      payloadCategory: m.payloadCategory,
      encryptedPayload: m.encryptedPayload,
    })),
    ...(body.pagination ? { pagination: body.pagination } : {}),
  };
}

/** Every page for a few localIndex values and page sizes equals the reference. */
async function compareAll(id: Identity, all: Mod[], rnd: () => number): Promise<void> {
  const latest = all.length - 1;
  const localIndexes = [undefined, -1, 0, Math.floor(rnd() * (latest + 1)), latest - 1, latest, latest + 5];
  for (const localIndex of localIndexes) {
    const pageSize = [1, 3, 7, 50][Math.floor(rnd() * 4)];
    const first = reference(all, localIndex ?? -1, pageSize, 1);
    const pages = (first.pagination?.totalPages ?? 1) + 1; // and one past the end
    for (let n = 1; n <= pages; n++) expect(await page(id, localIndex, pageSize, n)).toEqual(reference(all, localIndex ?? -1, pageSize, n));
  }
}

describe('indexed datawallet reads', () => {
  it('answer as the full scan did, across pushes, sync-run finalizations and interleaved reads', async () => {
    const platform = await startPlatform({ port: 0 });
    try {
      const id = await createIdentity(platform.baseUrl);
      const other = await createIdentity(platform.baseUrl); // another owner's rows must never show
      await other.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: -1, modifications: randomMods(prng(99), 20, 'x') }, headers: DW });
      const rnd = prng(20261202);
      const all: Mod[] = [];
      const record = (sent: ReturnType<typeof randomMods>, added: { index: number }[]) =>
        sent.forEach((m, i) => all.push({ index: added[i].index, objectIdentifier: m.objectIdentifier, type: m.type, payloadCategory: m.payloadCategory, encryptedPayload: m.encryptedPayload }));

      for (let round = 0; round < 6; round++) {
        const mods = randomMods(rnd, 1 + Math.floor(rnd() * 25), `push${round}`);
        const res = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: all.length - 1, modifications: mods }, headers: DW });
        expect(res.status).toBe(201);
        record(mods, res.body.result.modifications);

        // A sync run's finalization appends too (without the localIndex check).
        const run = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'ExternalEventSync' }, headers: DW });
        if (run.status === 201) {
          const fin = randomMods(rnd, 3, `sync${round}`);
          const res2 = await id.req('PUT', `/api/v2/SyncRuns/${run.body.result.syncRun.id}/FinalizeExternalEventSync`, {
            json: { externalEventResults: [], datawalletModifications: fin },
            headers: DW,
          });
          expect(res2.status).toBe(200);
          record(fin, res2.body.result.datawalletModifications);
        }
        await compareAll(id, all, rnd);
      }

      // Page 1, then a push, then page 2: page 2 is computed on the new state (as the full scan did).
      const before = await page(id, -1, 5, 1);
      expect(before).toEqual(reference(all, -1, 5, 1));
      const mods = randomMods(rnd, 4, 'late');
      const res = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: all.length - 1, modifications: mods }, headers: DW });
      record(mods, res.body.result.modifications);
      expect(await page(id, -1, 5, 2)).toEqual(reference(all, -1, 5, 2));
      expect(all.length).toBeGreaterThan(60);
    } finally {
      await platform.close();
    }
  });

  it('a database from before the index (schema version 1) is migrated to the same answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-dw-'));
    try {
      let platform = await startPlatform({ port: 0, dataDir: dir });
      const id = await createIdentity(platform.baseUrl);
      const all: Mod[] = [];
      const rnd = prng(7);
      for (let round = 0; round < 3; round++) {
        const mods = randomMods(rnd, 30, `r${round}`);
        const res = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: all.length - 1, modifications: mods }, headers: DW });
        mods.forEach((m, i) =>
          all.push({ index: res.body.result.modifications[i].index, objectIdentifier: m.objectIdentifier, type: m.type, payloadCategory: m.payloadCategory, encryptedPayload: m.encryptedPayload }),
        );
      }
      await platform.close();

      // Back to schema version 1: migrations 2 (the flag and its indexes), 3 (devices.push_platform) and 4 (the unreceived index) undone.
      const db = new PlatformDb(dir);
      db.run('DROP INDEX message_recipients_unreceived');
      db.run('DROP INDEX datawallet_modifications_key');
      db.run('DROP INDEX datawallet_modifications_current');
      db.run('ALTER TABLE datawallet_modifications DROP COLUMN superseded');
      db.run('ALTER TABLE devices DROP COLUMN push_platform');
      db.run('PRAGMA user_version = 1');
      db.close();

      platform = await startPlatform({ port: 0, dataDir: dir });
      try {
        const token = (await getToken(platform.baseUrl, id.username, id.password)).body.access_token as string;
        const moved = Object.assign(Object.create(Object.getPrototypeOf(id)) as Identity, id, { base: platform.baseUrl, token });
        expect((await request(platform.baseUrl, 'GET', '/api/v2/Datawallet', { token })).status).toBe(200);
        await compareAll(moved, all, rnd);
      } finally {
        await platform.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
