import {
  addressProblem,
  hostnameOf,
  base64UrlToJson,
  cipherToJson,
  decrypt,
  encrypt,
  fromUtf8,
  generateSecretKey,
  hashPassword,
  parseCipher,
  randomBytes,
  toBase64,
  toBase64Padded,
  utf8,
  type SecretKey,
} from '../crypto';
import type { PlatformClient } from '../backbone';
import type { Participant } from './participant';
import { ProtocolError, readById } from './errors';
import type { PasswordProtection, Reference } from './references';
import { transportStringify } from './serialize';

/**
 * Tokens: small encrypted envelopes on the Platform that carry a reference (template id + key, file
 * id + key) so it can be shared as a short link or QR code. Token content is parsed polymorphically
 * by the peer, so it always has an `@type`.
 */

export interface PasswordInput {
  password: string;
  /** "pw" for a password, "pin4".."pin16" for a PIN of that many digits. */
  passwordType?: string;
}

export interface PasswordSetup {
  /** Standard base64 of the Argon2id hash, as the Backbone wants it. */
  hash: string;
  protection: PasswordProtection;
}

export function passwordSetup(input: PasswordInput): PasswordSetup {
  const passwordType = input.passwordType ?? 'pw';
  const pin = /^pin([4-9]|1[0-6])$/.exec(passwordType);
  if (!pin && passwordType !== 'pw') throw new ProtocolError('protocol.input.invalid', 'A PIN has 4 to 16 digits; the password type must be "pw" or "pin4" to "pin16"');
  if (pin && !new RegExp(`^\\d{${pin[1]}}$`).test(input.password)) {
    throw new ProtocolError('protocol.input.invalid', `A ${pin[1]}-digit PIN is expected`);
  }
  if (!input.password) throw new ProtocolError('protocol.input.invalid', 'The password must not be empty');
  const salt = randomBytes(16);
  return { hash: toBase64Padded(hashPassword(input.password, salt)), protection: { passwordType, salt, passwordLocationIndicator: 1 } };
}

/** The hash to send for a password-protected reference, or a clear error when the password is missing. */
export function passwordHashFor(reference: Pick<Reference, 'passwordProtection' | 'id'>, password?: string): string | undefined {
  if (!reference.passwordProtection) return undefined;
  if (!password) {
    throw new ProtocolError('protocol.template.passwordRequired', `${reference.id} is password-protected: give its password`, reference.id);
  }
  return toBase64Padded(hashPassword(password, reference.passwordProtection.salt));
}

/**
 * What every shared object (template, token) is checked for: an expiry in the future and, when
 * given, a valid address for "for identity". `what` names the object in the message. Returns the expiry.
 */
export function checkShareLimits(ctx: Participant, what: string, expiresAt: string, forIdentity?: string): Date {
  const expires = Date.parse(expiresAt);
  if (!Number.isFinite(expires) || expires <= ctx.now().getTime()) throw new ProtocolError('protocol.input.invalid', `The ${what} expiry must be a date in the future`);
  if (forIdentity !== undefined) {
    // Only identities on this Platform can load what we share.
    const problem = addressProblem(forIdentity, { hostname: hostnameOf(ctx.baseUrl) });
    if (problem) throw new ProtocolError('protocol.input.invalid', `"For identity": ${problem}`);
  }
  return new Date(expires);
}

export interface CreatedToken {
  id: string;
  key: SecretKey;
  expiresAt: string;
}

export async function createToken(
  ctx: Participant,
  content: Record<string, unknown>,
  options: { expiresAt: string; forIdentity?: string; password?: string },
): Promise<CreatedToken> {
  const key = generateSecretKey();
  const cipher = encrypt(utf8(transportStringify(content)), key);
  const created = await ctx.client.createToken({
    content: toBase64(cipherToJson(cipher)),
    expiresAt: options.expiresAt,
    forIdentity: options.forIdentity,
    password: options.password,
  });
  return { id: created.id, key, expiresAt: options.expiresAt };
}

/** Reads and decrypts a token's content. */
export async function readToken(client: PlatformClient, reference: Reference, password?: string): Promise<Record<string, unknown>> {
  const hash = passwordHashFor(reference, password);
  const dto = await readById(
    client.getToken(reference.id, hash),
    reference.id,
    { notFound: 'protocol.token.invalid', invalid: 'protocol.token.invalid' },
    `Token ${reference.id} was not found: it expired, was deleted, is meant for another identity${hash ? ', or the password is wrong' : ''}`,
  );
  if (!dto.content) throw new ProtocolError('protocol.token.invalid', `Token ${reference.id} has no content`, reference.id);
  try {
    const value = JSON.parse(fromUtf8(decrypt(parseCipher(base64UrlToJson(dto.content, 'token content')), reference.key, undefined, 'token content'))) as unknown;
    if (value && typeof value === 'object' && typeof (value as { '@type'?: unknown })['@type'] === 'string') return value as Record<string, unknown>;
  } catch (error) {
    throw new ProtocolError('protocol.token.invalid', `Token ${reference.id} cannot be read with this reference (wrong key?)`, reference.id, error);
  }
  throw new ProtocolError('protocol.token.invalid', `Token ${reference.id} has content without a type`, reference.id);
}
