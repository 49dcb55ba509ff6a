import {
  CryptoError,
  HashAlgorithm,
  addressProblem,
  deriveAddress,
  deriveKey,
  fromBase64Url,
  generateSignatureKeypair,
  hostnameOf,
  randomBytes,
  toBase64Url,
  type SignatureKeypair,
} from '../crypto';

/**
 * One enmeshed identity as this package keeps it: a single 32-byte secret from which every key of
 * our own is derived deterministically, plus the public facts the Backbone assigned (address,
 * device username). So the credential alone, with the Platform, suffices to rebuild all state —
 * nothing key-like has to be stored anywhere else (see docs/architecture.md, "Where state lives").
 *
 * The derivations use libsodium's KDF with contexts of our own; peers never see these keys'
 * derivation, only their public halves, so this is compatible with every enmeshed client.
 */

/**
 * KDF contexts (exactly 8 characters) for keys derived from the identity secret. Record version 2
 * uses the secret ONLY as a BLAKE2b-KDF key, so the own-keys PRF key and the datawallet key are
 * subkeys of their own (contexts ending in the version); version 1 keyed HMAC-SHA256 with the secret
 * itself (own-keys.ts) and keeps doing so, so existing credentials still open what they made.
 */
export const IdentityKdf = {
  identityKey: 'n8nIdent',
  deviceKey: 'n8nDevic',
  devicePassword: 'n8nDvPwd',
  ownKeys: 'n8nOwnK2',
  datawallet: 'n8nDatW2',
} as const;

/** Versions of the identity record, i.e. of how own keys are derived from the secret (docs/security.md). */
export type IdentityVersion = 1 | 2;
/** What create-identity writes. */
export const CURRENT_IDENTITY_VERSION: IdentityVersion = 2;
const VERSIONS: readonly number[] = [1, 2];

export interface IdentityKeys {
  /** The identity signing key: its public half is the identity; it derives the address. */
  identity: SignatureKeypair;
  /** The device signing key (device signatures in relationship contents, file owner signatures). */
  device: SignatureKeypair;
  /** The device's OAuth password. */
  devicePassword: string;
}

export function deriveIdentityKeys(secret: Uint8Array): IdentityKeys {
  if (secret.length !== 32) throw new CryptoError('crypto.key.invalidLength', 'the identity secret must be 32 bytes');
  const seed = (id: number, context: string): Uint8Array => deriveKey(secret, id, context).key;
  return {
    identity: generateSignatureKeypair(seed(1, IdentityKdf.identityKey)),
    device: generateSignatureKeypair(seed(1, IdentityKdf.deviceKey)),
    // Satisfies the Backbone's production password policy (upper, lower, digit, symbol, >= 10).
    devicePassword: `Aa1!${toBase64Url(seed(1, IdentityKdf.devicePassword))}`,
  };
}

export function generateIdentitySecret(): Buffer {
  return randomBytes(32);
}

/** The identity part of a credential: public facts plus the one secret. */
export interface IdentityRecord {
  /** Format version of this record: how own keys derive from the secret (1: legacy, 2: domain-separated). */
  v: IdentityVersion;
  address: string;
  /** OAuth username of the device (USR…). */
  username: string;
  /** Device id (DVC…). */
  deviceId: string;
  /** base64url of the 32-byte identity secret. */
  secret: string;
}

export interface Identity {
  version: IdentityVersion;
  address: string;
  username: string;
  deviceId: string;
  secret: Uint8Array;
  keys: IdentityKeys;
}

export class IdentityRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityRecordError';
  }
}

export function serializeIdentityRecord(identity: Pick<Identity, 'version' | 'address' | 'username' | 'deviceId' | 'secret'>): string {
  const record: IdentityRecord = {
    v: identity.version,
    address: identity.address,
    username: identity.username,
    deviceId: identity.deviceId,
    secret: toBase64Url(identity.secret),
  };
  return JSON.stringify(record);
}

/**
 * Parses the identity field of a credential and checks that the keys belong to the address on this
 * Platform. Error messages say what to fix and never echo the secret.
 */
export function parseIdentityRecord(text: string, platformUrl: string): Identity {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    throw new IdentityRecordError('The identity is not valid JSON: paste the "identity" value printed by create-identity unchanged');
  }
  const r = value as Partial<IdentityRecord>;
  if (typeof r !== 'object' || r === null || !VERSIONS.includes(r.v as number)) {
    throw new IdentityRecordError('The identity has an unknown format (expected {"v":2,…} or {"v":1,…} from create-identity)');
  }
  for (const field of ['address', 'username', 'deviceId', 'secret'] as const) {
    if (typeof r[field] !== 'string' || !r[field]) throw new IdentityRecordError(`The identity lacks "${field}"`);
  }
  let secret: Buffer;
  try {
    secret = fromBase64Url(r.secret as string, 'secret');
  } catch {
    throw new IdentityRecordError('The identity secret is damaged (not base64url): paste it again');
  }
  if (secret.length !== 32) throw new IdentityRecordError('The identity secret is damaged (not 32 bytes): paste it again');
  const keys = deriveIdentityKeys(secret);
  const hostname = hostnameOf(platformUrl);
  const damaged = addressProblem(r.address);
  if (damaged) throw new IdentityRecordError(`The identity's address is damaged (paste the identity again): ${damaged}`);
  const problem = addressProblem(r.address, { hostname });
  if (problem) throw new IdentityRecordError(`The identity address does not fit this Platform: ${problem}`);
  if (deriveAddress(keys.identity.pub.pub, hostname) !== r.address) {
    throw new IdentityRecordError(`The identity secret does not belong to ${r.address}: the keys and the address come from different identities`);
  }
  return { version: r.v as IdentityVersion, address: r.address as string, username: r.username as string, deviceId: r.deviceId as string, secret, keys };
}

/** The challenge text the identity key signs at account creation: sorted keys, no @type. */
export function challengeText(challenge: { id: string; expiresAt: string }): string {
  return JSON.stringify({ expiresAt: challenge.expiresAt, id: challenge.id, type: 'Identity' });
}

export const IDENTITY_SIGNATURE_LABEL = HashAlgorithm.SHA512;
