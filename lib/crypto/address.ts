import { PUBLIC_KEY_BYTES } from './algorithms';
import { CryptoError } from './errors';
import { sha256, sha512 } from './hash';

/**
 * Identity addresses: did:e:<hostname>:dids:<20 hex of SHA256(SHA512(pub))><2 hex checksum>,
 * the checksum being the first byte of SHA256 of everything before it.
 */

const ADDRESS = /^did:e:((?:[a-z0-9-]+\.)*[a-z0-9-]*[a-z][a-z0-9-]*):dids:([0-9a-f]{20})([0-9a-f]{2})$/;

function withChecksum(prefix: string): string {
  return prefix + sha256(Buffer.from(prefix, 'utf8')).subarray(0, 1).toString('hex');
}

export function deriveAddress(identityPublicKey: Uint8Array, hostname: string): string {
  if (identityPublicKey.length !== PUBLIC_KEY_BYTES) {
    throw new CryptoError('crypto.key.invalidLength', 'identity public key must be 32 bytes');
  }
  const part = sha256(sha512(identityPublicKey)).subarray(0, 10).toString('hex');
  return withChecksum(`did:e:${hostname}:dids:${part}`);
}

/** The hostname part of a Backbone base URL, as addresses use it. */
export function hostnameOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname;
  } catch {
    throw new CryptoError('crypto.address.invalid', `"${baseUrl}" is not a URL`);
  }
}

export interface AddressCheck {
  /** The hostname the address must carry. */
  hostname?: string;
  /** The identity public key the address must be derived from. */
  publicKey?: Uint8Array;
}

const FORM = 'an enmeshed address looks like did:e:<Platform domain>:dids:<22 characters 0-9, a-f>';
const DOMAIN = /^(?:[a-z0-9-]+\.)*[a-z0-9-]*[a-z][a-z0-9-]*$/;

/** The distinct characters of `text` outside 0-9 and a-f, quoted, for an error message. */
function nonHex(text: string): string {
  return [...new Set(text.replace(/[0-9a-f]/g, ''))].map((c) => JSON.stringify(c)).join(', ');
}

/**
 * Why an address is not acceptable, or undefined when it is: one clause per problem, with the
 * address as its subject, saying what to fix (it reads on its own and after "…: ").
 */
export function addressProblem(address: unknown, check: AddressCheck = {}): string | undefined {
  if (typeof address !== 'string') return `an enmeshed address must be text, not ${address === null ? 'null' : typeof address}`;
  if (address === '') return `the address is empty: ${FORM}`;
  const shown = JSON.stringify(address);
  const match = ADDRESS.exec(address);
  if (!match) {
    if (ADDRESS.test(address.toLowerCase())) return `${shown} must be written in lower case`;
    if (!address.startsWith('did:e:')) return `${shown} does not start with "did:e:": ${FORM}`;
    const at = address.indexOf(':dids:');
    if (at < 0) return `${shown} lacks ":dids:" after the Platform domain: ${FORM}`;
    const domain = address.slice('did:e:'.length, at);
    if (!DOMAIN.test(domain)) return `${shown} names the Platform domain ${JSON.stringify(domain)}, which is not a domain name (lower-case letters, digits, dots and hyphens)`;
    const id = address.slice(at + ':dids:'.length);
    if (!/^[0-9a-f]*$/.test(id)) return `${shown} has characters other than 0-9 and a-f after ":dids:" (${nonHex(id)})`;
    return `${shown} has ${id.length} characters after ":dids:" instead of 22: one missing or extra? Copy the address again`;
  }
  const [, hostname, , checksum] = match;
  if (withChecksum(address.slice(0, -2)).slice(-2) !== checksum) {
    return `the last two characters of ${shown} are its checksum and do not match the rest: a typo? Copy the address again`;
  }
  if (check.hostname !== undefined && hostname !== check.hostname) {
    return `${shown} is an address on the Platform "${hostname}", not on this Platform "${check.hostname}"`;
  }
  if (check.publicKey !== undefined && deriveAddress(check.publicKey, hostname) !== address) {
    return `${shown} does not belong to the given identity public key`;
  }
  return undefined;
}

export function isValidAddress(address: unknown, check?: AddressCheck): address is string {
  return addressProblem(address, check) === undefined;
}

export function assertAddress(address: unknown, check?: AddressCheck): asserts address is string {
  const problem = addressProblem(address, check);
  if (problem) throw new CryptoError('crypto.address.invalid', problem);
}

/**
 * Pseudonyms under which deleted peers appear: the reference client derives its own from the UTF-8
 * bytes of "deleted identity", the Backbone from the UTF-16LE bytes. Recognise both.
 */
export function deletedIdentityAddresses(hostname: string): { client: string; backbone: string } {
  const derive = (bytes: Buffer): string =>
    withChecksum(`did:e:${hostname}:dids:${sha256(sha512(bytes)).subarray(0, 10).toString('hex')}`);
  return { client: derive(Buffer.from('deleted identity', 'utf8')), backbone: derive(Buffer.from('deleted identity', 'utf16le')) };
}
