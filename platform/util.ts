/**
 * Small value helpers shared by the local Platform: IDs, base64, dates, address derivation.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Backbone ID prefixes (§0). `DPI`/`ERR`/`TIR` are our own choices for push ids, error ids and the tier id. */
export type IdPrefix =
  | 'CHL' | 'USR' | 'DVC' | 'RLT' | 'REL' | 'RAL' | 'MSG' | 'FIL' | 'TOK' | 'SYR' | 'SYI' | 'DWM' | 'IDP' | 'DPI';

export function randomString(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** prefix + 17 chars from [A-Za-z0-9] = 20 characters. */
export function newId(prefix: IdPrefix): string {
  return prefix + randomString(17);
}

export function isId(value: unknown, prefix: IdPrefix): value is string {
  return typeof value === 'string' && value.length === 20 && value.startsWith(prefix) && /^[A-Za-z0-9]{17}$/.test(value.slice(3));
}

/** Error ids look like ERRK7QZ2MXW9T4HBNC3P in the spec (upper case + digits). */
export function newErrorId(): string {
  return 'ERR' + randomString(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
}

export const OWNERSHIP_TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()_-+=<>?/{}[]|~';
export function newOwnershipToken(): string {
  return randomString(20, OWNERSHIP_TOKEN_ALPHABET);
}
export function isValidOwnershipTokenSyntax(v: string): boolean {
  return v.length >= 1 && v.length <= 20 && /^[A-Za-z0-9!@#$%^&*()_\-+=<>?/{}[\]|~]+$/.test(v);
}

/** Output encoding for every byte[] field: base64url without padding. */
export function b64u(buf: Buffer | Uint8Array | null | undefined): string | null {
  if (buf === null || buf === undefined) return null;
  return Buffer.from(buf).toString('base64url');
}

/**
 * Input decoding for byte[]: base64url (padding optional) or standard base64 (§0). Returns undefined when the
 * text is not valid in either alphabet (mixing alphabets is refused, as .NET's decoders would).
 */
export function decodeBase64Loose(s: string): Buffer | undefined {
  if (s.length === 0) return Buffer.alloc(0);
  const urlOk = /^[A-Za-z0-9\-_]*={0,2}$/.test(s);
  const stdOk = /^[A-Za-z0-9+/]*={0,2}$/.test(s);
  if (!urlOk && !stdOk) return undefined;
  const bare = s.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  if (s.includes('=') && s.length % 4 !== 0) return undefined;
  return Buffer.from(bare, urlOk ? 'base64url' : 'base64');
}

/** Strict standard base64 (used for `password` query parameters, which the server reads as standard base64). */
export function decodeBase64Std(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  return Buffer.from(s, 'base64');
}

/** Output date format yyyy-MM-ddTHH:mm:ss.fffZ (== Date#toISOString for years 0..9999). */
export function iso(d: Date | number): string {
  return new Date(d).toISOString();
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** Parses an ISO-8601 input date; a missing offset is taken as UTC. Returns undefined for anything else. */
export function parseIsoDate(s: string): Date | undefined {
  const m = ISO_RE.exec(s.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1 || year > 9999) return undefined;
  let text = s.trim().replace(' ', 'T');
  if (!m[8]) text += m[4] ? 'Z' : 'T00:00:00Z';
  // JS Date only takes up to 3 fraction digits reliably
  text = text.replace(/\.(\d{3})\d+/, '.$1');
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return undefined;
  const mo = Number(m[2]), da = Number(m[3]);
  if (mo < 1 || mo > 12 || da < 1 || da > 31) return undefined;
  return d;
}

/** Error `time` field: up to 7 fraction digits with trailing zeros dropped (.NET "o"-ish format). */
export function errorTime(d: Date): string {
  const base = d.toISOString(); // ...ss.fffZ
  const [head, frac] = base.slice(0, -1).split('.');
  const trimmed = (frac ?? '').replace(/0+$/, '');
  return trimmed ? `${head}.${trimmed}Z` : `${head}Z`;
}

/** Address derivation (§3.3): SHA-256(SHA-512(pk))[0..10) hex, checksum = first byte of SHA-256(main). */
export function deriveAddress(publicKey: Uint8Array, didDomain: string): string {
  const h = createHash('sha256').update(createHash('sha512').update(publicKey).digest()).digest();
  const main = `did:e:${didDomain}:dids:${h.subarray(0, 10).toString('hex')}`;
  const checksum = createHash('sha256').update(main, 'utf8').digest().subarray(0, 1).toString('hex');
  return (main + checksum).toLowerCase();
}

/** The server's anonymised address comes from the UTF-16LE bytes of "deleted identity" (not UTF-8, see §3.3). */
export function anonymousAddress(didDomain: string): string {
  return deriveAddress(Buffer.from('deleted identity', 'utf16le'), didDomain);
}

export const ADDRESS_RE = /^did:e:((?:[a-z0-9-]+\.)*[a-z]{2,}):dids:[0-9a-f]{20}[0-9a-f]{2}$/;
export function isAddress(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 80 && ADDRESS_RE.test(v);
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
