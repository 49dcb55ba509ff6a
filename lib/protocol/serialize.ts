import type { JsonObject } from '../crypto';
import { ProtocolError, type ProtocolErrorCode } from './errors';

/**
 * JSON text of transport objects, byte-identical to @nmshd/transport (ts-serval): keys of transport
 * classes sorted (so "@type" comes first), undefined omitted, arrays kept; but crypto objects keep
 * the key order of their class ({"pub","alg"}, {"id","pub","alg"}, {"key","alg"}…). Objects built by
 * lib/crypto's toJson functions are marked with `cryptoJson()` so the serializer leaves their order.
 *
 * Byte-identity is not needed for interop (signatures cover the exact string that travels and
 * receivers never re-serialize), but it lets us prove our output against the reference vectors.
 */

const KEEP_ORDER = new WeakSet<object>();

/** Marks a crypto object (and nothing below it) as written in its own key order. */
export function cryptoJson<T extends JsonObject>(json: T): T {
  KEEP_ORDER.add(json);
  return json;
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalize(v)));
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  const object = value as Record<string, unknown>;
  const keys = KEEP_ORDER.has(object) ? Object.keys(object) : Object.keys(object).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (object[key] !== undefined) out[key] = normalize(object[key]);
  }
  return out;
}

export function transportStringify(value: unknown): string {
  return JSON.stringify(normalize(value));
}

/** A JSON object from text, or a ProtocolError with `code` saying that `what` is not one. */
export function parseJsonText(text: string, what: string, code: ProtocolErrorCode, objectId?: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProtocolError(code, `${what} is not a JSON object`, objectId);
}
