import { fromBase64Padded, fromBase64Url, toBase64Padded, toBase64Url } from '../crypto/encoding';
import { CryptoError } from '../crypto/errors';
import { EncryptionAlgorithm, KEY_BYTES } from '../crypto/algorithms';

/**
 * Truncated references: how templates, tokens and files are shared out of band (links, QR codes).
 *   base64url( id["@"baseUrl] "|" alg "|" b64u(key) "|" forIdentity-last-4 "|" password )
 * password = "" or passwordType "&" paddedBase64(salt) ["&" locationIndicator].
 * Parsers accept 3 or 5 parts. The link form is <baseUrl>/r/<id>#b64u(alg|key|forIdentity|password).
 */

export type ReferenceKind = 'RelationshipTemplate' | 'Token' | 'File';

export interface PasswordProtection {
  /** "pw" for a password, "pin4".."pin16" for a PIN. */
  passwordType: string;
  salt: Uint8Array;
  passwordLocationIndicator?: number;
}

export interface Reference {
  id: string;
  key: { key: Uint8Array; alg: EncryptionAlgorithm };
  backboneBaseUrl?: string;
  /** Last 4 characters of the address the reference is meant for. */
  forIdentityTruncated?: string;
  passwordProtection?: PasswordProtection;
}

const PREFIX: Record<string, ReferenceKind> = { RLT: 'RelationshipTemplate', TOK: 'Token', FIL: 'File' };
const PASSWORD_TYPE = /^(pw|pin(?:[4-9]|1[0-6]))$/;

export function referenceKind(id: string): ReferenceKind | undefined {
  return PREFIX[id.slice(0, 3)];
}

function passwordPart(p?: PasswordProtection): string {
  if (!p) return '';
  const parts = [p.passwordType, toBase64Padded(p.salt)];
  if (p.passwordLocationIndicator !== undefined) parts.push(String(p.passwordLocationIndicator));
  return parts.join('&');
}

function tail(r: Reference): string {
  return `${r.key.alg}|${toBase64Url(r.key.key)}|${r.forIdentityTruncated ?? ''}|${passwordPart(r.passwordProtection)}`;
}

export function truncateReference(r: Reference): string {
  const idPart = r.backboneBaseUrl ? `${r.id}@${r.backboneBaseUrl}` : r.id;
  return Buffer.from(`${idPart}|${tail(r)}`, 'utf8').toString('base64url');
}

export function referenceToUrl(r: Reference, appId?: string): string {
  if (!r.backboneBaseUrl) throw new CryptoError('crypto.object.invalid', 'a reference link needs the Backbone base URL');
  const query = appId ? `?app=${encodeURIComponent(appId)}` : '';
  return `${r.backboneBaseUrl}/r/${r.id}${query}#${Buffer.from(tail(r), 'utf8').toString('base64url')}`;
}

function invalid(message: string): CryptoError {
  return new CryptoError('crypto.object.invalid', message);
}

function parseParts(idPart: string, rest: string[]): Reference {
  const [alg, key, forIdentity, password] = rest;
  const at = idPart.indexOf('@');
  const id = at < 0 ? idPart : idPart.slice(0, at);
  if (!/^(RLT|TOK|FIL)[A-Za-z0-9]{17}$/.test(id)) throw invalid('the reference does not name a template, token or file id');
  if (alg !== String(EncryptionAlgorithm.XCHACHA20_POLY1305)) throw invalid(`the reference uses unsupported algorithm "${alg}"`);
  const keyBytes = fromBase64Url(key, 'reference key');
  if (keyBytes.length !== KEY_BYTES) throw invalid('the reference key must be 32 bytes');
  const reference: Reference = { id, key: { key: keyBytes, alg: EncryptionAlgorithm.XCHACHA20_POLY1305 } };
  if (at >= 0) reference.backboneBaseUrl = idPart.slice(at + 1);
  if (forIdentity) reference.forIdentityTruncated = forIdentity;
  if (password) {
    // transport 7.0.0 may append a 4th component, a cleartext password, with the location left empty
    // ("pw&<salt>&&<password>"): an empty location is no location (not 0), and the password is ignored.
    const [type, salt, location] = password.split('&');
    if (!PASSWORD_TYPE.test(type ?? '')) throw invalid(`unknown password type "${type}" in reference`);
    reference.passwordProtection = { passwordType: type, salt: fromBase64Padded(salt ?? '', 'reference salt') };
    if (location !== undefined && location !== '') {
      const n = Number(location);
      if (!Number.isInteger(n)) throw invalid('the password location indicator must be a number');
      reference.passwordProtection.passwordLocationIndicator = n;
    }
  }
  return reference;
}

/** Parses a truncated reference or a link (`…/r/<id>#…`). */
export function parseReference(input: string): Reference {
  const text = input.trim();
  const link = /^(https?:\/\/[^#?]+)\/r\/([A-Za-z0-9]{20})(?:\?[^#]*)?#([A-Za-z0-9_-]+)$/.exec(text);
  if (link) {
    const parts = fromBase64Url(link[3], 'reference link').toString('utf8').split('|');
    if (parts.length !== 2 && parts.length !== 4) throw invalid('the reference link has the wrong number of parts');
    return parseParts(`${link[2]}@${link[1]}`, parts);
  }
  const parts = fromBase64Url(text, 'truncated reference').toString('utf8').split('|');
  if (parts.length !== 3 && parts.length !== 5) throw invalid('a truncated reference has 3 or 5 "|"-separated parts');
  return parseParts(parts[0], parts.slice(1));
}
