/**
 * Paging (§1): pageNumber (1-based, default 1), pageSize (default 50, max 200). `pagination` is omitted when
 * totalPages ≤ 1, including for empty lists.
 */
import { ApiError, Codes, invalid } from './errors';
import type { PlatformConfig } from '../core';

export interface Paging {
  pageNumber: number;
  pageSize: number;
}

export interface Pagination {
  pageNumber: number;
  pageSize: number;
  totalPages: number;
  totalRecords: number;
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  let raw: string | null = null;
  for (const [k, v] of query) if (k.toLowerCase() === name.toLowerCase()) raw = v;
  if (raw === null || raw === '') return undefined;
  if (!/^\s*\+?\d{1,9}\s*$/.test(raw)) throw invalid(`The value '${raw.slice(0, 50)}' is not valid for ${name}.`);
  return Number(raw);
}

export function readPaging(query: URLSearchParams, config: PlatformConfig): Paging {
  const pageNumber = intParam(query, 'pageNumber') ?? 1;
  const pageSize = intParam(query, 'pageSize') ?? config.defaultPageSize;
  if (pageNumber < 1) throw invalid("'PageNumber' must be greater than or equal to '1'.");
  if (pageSize < 1) throw invalid("'PageSize' must be greater than or equal to '1'.");
  if (pageSize > config.maxPageSize)
    throw new ApiError(400, Codes.invalidPageSize, `The page size must not be greater than ${config.maxPageSize}.`);
  return { pageNumber, pageSize };
}

/** The requested page of `totalRecords` items: where it starts, how many it can hold, and `pagination` if any. */
export function pageWindow(totalRecords: number, paging: Paging): { offset: number; limit: number; pagination?: Pagination } {
  const totalPages = Math.ceil(totalRecords / paging.pageSize);
  const offset = (paging.pageNumber - 1) * paging.pageSize;
  const window = { offset, limit: paging.pageSize };
  if (totalPages <= 1) return window;
  return { ...window, pagination: { pageNumber: paging.pageNumber, pageSize: paging.pageSize, totalPages, totalRecords } };
}

export function pageOf<T>(items: T[], paging: Paging): { items: T[]; pagination?: Pagination } {
  const { offset, limit, pagination } = pageWindow(items.length, paging);
  const slice = items.slice(offset, offset + limit);
  return pagination ? { items: slice, pagination } : { items: slice };
}
