import type { JsonObject } from './types';

/**
 * Small checks of untyped JSON that validation, building and reading share. Problems are collected
 * as words a user can act on.
 */

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function typeOf(value: unknown): string | undefined {
  return isObject(value) && typeof value['@type'] === 'string' ? value['@type'] : undefined;
}

export function includes<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? 'an object' : String(value);
}

export function isoDate(value: string | Date, what: string, problems: string[], now: Date): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || !Number.isFinite(date.getTime()) || (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(value))) {
    problems.push(`${what} must be an ISO date such as 2030-01-31T12:00:00.000Z`);
    return undefined;
  }
  if (date.getTime() <= now.getTime()) problems.push(`${what} (${date.toISOString()}) is in the past`);
  return date.toISOString();
}

export function checkText(value: unknown, what: string, problems: string[], opts: { required?: boolean; min?: number; max: number }): value is string {
  if (value === undefined && !opts.required) return false;
  if (typeof value !== 'string') {
    problems.push(`${what} must be text, but is ${describe(value)}`);
    return false;
  }
  if (opts.required && value.trim() === '') {
    problems.push(`${what} must not be empty`);
    return false;
  }
  if (opts.min !== undefined && value.length < opts.min) problems.push(`${what} must have at least ${opts.min} characters`);
  if (value.length > opts.max) problems.push(`${what} has ${value.length} characters; at most ${opts.max} are allowed`);
  return true;
}

export function checkOptionalObject(value: unknown, what: string, problems: string[]): void {
  if (value !== undefined && !isObject(value)) problems.push(`${what} must be a JSON object, but is ${describe(value)}`);
}

/** The ConsentRequestItem.link pattern of @nmshd/content 7.0.0, in substance: scheme://host… or www.host… */
export const LINK = /^(?:[A-Za-z]{3,9}:(?:\/\/)?(?:[-;:&=+$,\w]+@)?[A-Za-z0-9.-]+|(?:www\.|[-;:&=+$,\w]+@)[A-Za-z0-9.-]+)(?:\/[+~%/.\w-]*)?\??[-+=&;%@.\w]*#?[.!/\\\w]*$/;
