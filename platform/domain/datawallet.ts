/**
 * Datawallet helpers (§5.1): the supported-version header, modification parsing, gapless index allocation, and
 * the indexed read of the current modifications.
 */
import type { Platform } from '../core';
import type { PlatformDb } from '../db';
import type { Ctx } from '../http/router';
import { ApiError, badRequest, Codes, invalid } from '../http/errors';
import { pageWindow, type Paging, type Pagination } from '../http/paging';
import type { In } from '../http/input';
import { b64u, newId } from '../util';

export const MODIFICATION_TYPES = ['Create', 'Update', 'Delete', 'CacheChanged'] as const;

export interface NewModification {
  type: string;
  objectIdentifier: string;
  collection: string;
  payloadCategory: string | null;
  encryptedPayload: Buffer | null;
  datawalletVersion: number;
}

/** X-Supported-Datawallet-Version; `required` = missing/0 is 400 invalidPropertyValue. Returns 0 when absent. */
export function supportedVersion(ctx: Ctx, required: boolean): number {
  const raw = ctx.header('x-supported-datawallet-version');
  const v = raw !== undefined && /^\s*\d{1,5}\s*$/.test(raw) ? Number(raw) : raw === undefined ? 0 : NaN;
  if (Number.isNaN(v) || v > 65535) throw invalid("The header 'X-Supported-Datawallet-Version' is invalid.");
  if (required && v === 0) throw invalid("The header 'X-Supported-Datawallet-Version' is required and must be greater than 0.");
  return v;
}

export function walletVersion(p: Platform, address: string): number | null {
  const row = p.db.get<{ datawallet_version: number | null }>('SELECT datawallet_version FROM identities WHERE address = ?', address);
  return row?.datawallet_version ?? null;
}

export function checkSupportedVersion(supported: number, wallet: number): void {
  if (supported < wallet)
    throw badRequest(
      Codes.datawallet.insufficientSupportedDatawalletVersion,
      `Your supported datawallet version (${supported}) is lower than the version of the datawallet (${wallet}).`,
    );
}

export function parseModifications(items: In[] | undefined): NewModification[] {
  return (items ?? []).map((m) => ({
    type: m.enumOf('type', MODIFICATION_TYPES, { required: true }) as string,
    objectIdentifier: m.str('objectIdentifier', { required: true, max: 100 }) as string,
    collection: m.str('collection', { required: true, max: 50 }) as string,
    payloadCategory: m.str('payloadCategory', { max: 50 }) ?? null,
    encryptedPayload: m.bytes('encryptedPayload', { max: 10 * 1024 * 1024 }) ?? null,
    datawalletVersion: m.int('datawalletVersion', { min: 0, max: 65535 }) ?? 0,
  }));
}

export function latestIndex(p: Platform, address: string): number | null {
  return p.db.get<{ m: number | null }>('SELECT MAX(idx) m FROM datawallet_modifications WHERE owner = ?', address)?.m ?? null;
}

/** Appends in request order with consecutive indexes (max+1, starting at 0). */
export function appendModifications(
  p: Platform,
  address: string,
  deviceId: string,
  mods: NewModification[],
): { id: string; index: number; createdAt: string }[] {
  const wallet = walletVersion(p, address) ?? 0;
  for (const m of mods)
    if (m.datawalletVersion > wallet)
      throw new ApiError(
        400,
        Codes.datawallet.versionOfModificationTooHigh,
        `The datawallet version of a modification (${m.datawalletVersion}) is higher than the datawallet version (${wallet}).`,
      );
  let next = (latestIndex(p, address) ?? -1) + 1;
  const createdAt = p.nowIso();
  const out: { id: string; index: number; createdAt: string }[] = [];
  for (const m of mods) {
    const id = newId('DWM');
    // The modification it replaces (same objectIdentifier, type and payloadCategory) is no longer current.
    p.db.run(
      'UPDATE datawallet_modifications SET superseded = 1 WHERE owner = ? AND object_identifier = ? AND type = ? AND payload_category IS ? AND superseded = 0',
      address,
      m.objectIdentifier,
      m.type,
      m.payloadCategory,
    );
    p.db.run(
      'INSERT INTO datawallet_modifications(id, owner, idx, datawallet_version, object_identifier, payload_category, collection, type, encrypted_payload, created_at, created_by_device) VALUES(?,?,?,?,?,?,?,?,?,?,?)',
      id,
      address,
      next,
      m.datawalletVersion,
      m.objectIdentifier,
      m.payloadCategory,
      m.collection,
      m.type,
      m.encryptedPayload,
      createdAt,
      deviceId,
    );
    out.push({ id, index: next, createdAt });
    next++;
  }
  return out;
}

export interface ModificationRow {
  id: string;
  idx: number;
  datawallet_version: number;
  object_identifier: string;
  payload_category: string | null;
  collection: string;
  type: string;
  encrypted_payload: Buffer | null;
  created_at: string;
  created_by_device: string;
}

export const modificationDto = (m: ModificationRow) => ({
  id: m.id,
  datawalletVersion: m.datawallet_version,
  index: m.idx,
  objectIdentifier: m.object_identifier,
  payloadCategory: m.payload_category,
  createdAt: m.created_at,
  createdByDevice: m.created_by_device,
  collection: m.collection,
  type: m.type,
  encryptedPayload: b64u(m.encrypted_payload),
});

/**
 * Positions of the current modifications with index > localIndex, per owner: reading a wallet page by page
 * would otherwise count and skip the rows before each page again (quadratic in the number of pages). The list
 * is valid while the owner's latest index is unchanged (modifications are only ever appended), and is kept
 * for the last localIndex read of the last few owners.
 */
interface CurrentIndexes {
  localIndex: number;
  latest: number | null;
  indexes: number[];
}
const currentCache = new WeakMap<PlatformDb, Map<string, CurrentIndexes>>();
const CACHED_OWNERS = 16;

function currentIndexes(p: Platform, owner: string, localIndex: number): number[] {
  let cache = currentCache.get(p.db);
  if (!cache) currentCache.set(p.db, (cache = new Map()));
  const latest = latestIndex(p, owner);
  const hit = cache.get(owner);
  cache.delete(owner); // re-inserted below: the Map's order is the least recently used first
  if (hit && hit.localIndex === localIndex && hit.latest === latest) {
    cache.set(owner, hit);
    return hit.indexes;
  }
  const indexes = p.db
    .all<{ idx: number }>('SELECT idx FROM datawallet_modifications WHERE owner = ? AND superseded = 0 AND idx > ? ORDER BY idx', owner, localIndex)
    .map((r) => r.idx);
  cache.set(owner, { localIndex, latest, indexes });
  if (cache.size > CACHED_OWNERS) cache.delete(cache.keys().next().value as string);
  return indexes;
}

/**
 * One page of GET /Datawallet/Modifications: the newest modification per (objectIdentifier, type,
 * payloadCategory) among those with index > localIndex, sorted by index (as the Backbone's ROW_NUMBER() query).
 */
export function readModifications(p: Platform, owner: string, localIndex: number, paging: Paging): { rows: ModificationRow[]; pagination?: Pagination } {
  const indexes = currentIndexes(p, owner, localIndex);
  const { offset, limit, pagination } = pageWindow(indexes.length, paging);
  const page = indexes.slice(offset, offset + limit);
  const rows =
    page.length === 0
      ? []
      : p.db.all<ModificationRow>(
          'SELECT * FROM datawallet_modifications WHERE owner = ? AND superseded = 0 AND idx BETWEEN ? AND ? ORDER BY idx',
          owner,
          page[0],
          page[page.length - 1],
        );
  return { rows, pagination };
}
