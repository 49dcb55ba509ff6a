import {
  EncryptionAlgorithm,
  ExchangeAlgorithm,
  HashAlgorithm,
  KEY_BYTES,
  MAX_COUNTER,
  NONCE_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  SIGNATURE_PRIVATE_KEY_BYTES,
  SignatureAlgorithm,
  StateType,
} from './algorithms';
import { base64UrlToJson, fromBase64Url, jsonToBase64Url, parseJson, toBase64Url } from './encoding';
import { CryptoError } from './errors';

/**
 * The wire objects of @nmshd/crypto 2.1.3: typed values with Uint8Array fields, and their JSON.
 *
 * `toJson(x, verbose)` builds the object with the library's exact key order (so our output is
 * byte-identical to theirs); `verbose` adds `@type`. Children of composite objects are always
 * compact. `parseX(input)` accepts the JSON text, an already parsed object, or (for top-level
 * values) the toBase64 form, validates every field (alphabet, lengths, algorithm numbers) and
 * throws CryptoError naming the object and field that is wrong.
 */

export interface SecretKey {
  key: Uint8Array;
  alg: EncryptionAlgorithm;
}
export interface Cipher {
  cph: Uint8Array;
  alg: EncryptionAlgorithm;
  /** Random-nonce mode: the 24-byte nonce. Exactly one of nnc / cnt is set. */
  nnc?: Uint8Array;
  /** Counter mode: the counter the receiver adds to its stored base nonce. */
  cnt?: number;
}
export interface Signature {
  sig: Uint8Array;
  alg: HashAlgorithm;
}
export interface SignaturePublicKey {
  pub: Uint8Array;
  alg: SignatureAlgorithm;
}
export interface SignaturePrivateKey {
  /** libsodium's 64-byte secret key: seed || public key. */
  prv: Uint8Array;
  alg: SignatureAlgorithm;
  id?: string;
}
export interface SignatureKeypair {
  pub: SignaturePublicKey;
  prv: SignaturePrivateKey;
}
export interface ExchangePublicKey {
  pub: Uint8Array;
  alg: ExchangeAlgorithm;
}
export interface ExchangePrivateKey {
  prv: Uint8Array;
  alg: ExchangeAlgorithm;
}
export interface ExchangeKeypair {
  pub: ExchangePublicKey;
  prv: ExchangePrivateKey;
}
export interface ExchangeSecrets {
  rx: Uint8Array;
  tx: Uint8Array;
  alg: EncryptionAlgorithm;
}
export interface PublicState {
  nnc: Uint8Array;
  alg: EncryptionAlgorithm;
  typ: StateType;
}
/** CryptoPrivateStateTransmit / CryptoPrivateStateReceive: a counter-mode key with its base nonce. */
export interface PrivateState extends PublicState {
  key: Uint8Array;
  cnt: number;
  id?: string;
}
export interface RelationshipPublicRequest {
  exc: ExchangePublicKey;
  sig: SignaturePublicKey;
  eph: ExchangePublicKey;
  nnc: Uint8Array;
  id?: string;
}
export interface RelationshipPublicResponse {
  exc: ExchangePublicKey;
  sig: SignaturePublicKey;
  sta: PublicState;
  id?: string;
}

export type JsonObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Field readers

export function toObject(input: unknown, what: string): JsonObject {
  let value = input;
  if (typeof value === 'string') {
    const text = value.trim();
    value = text.startsWith('{') ? parseJson(text, what) : base64UrlToJson(text, what);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CryptoError('crypto.object.invalid', `${what} must be a JSON object`);
  }
  return value as JsonObject;
}

function bytesField(o: JsonObject, field: string, what: string, length?: number): Buffer {
  const value = o[field];
  if (typeof value !== 'string') {
    throw new CryptoError('crypto.object.invalid', `${what}.${field} is missing or not a string`);
  }
  const bytes = fromBase64Url(value, `${what}.${field}`);
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError('crypto.key.invalidLength', `${what}.${field} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function algField<T extends number>(o: JsonObject, what: string, known: readonly number[], implemented: readonly number[]): T {
  const value = o.alg;
  if (typeof value !== 'number' || !known.includes(value)) {
    throw new CryptoError('crypto.object.invalid', `${what}.alg must be one of ${known.join(', ')}`);
  }
  if (!implemented.includes(value)) {
    throw new CryptoError('crypto.object.unsupportedAlgorithm', `${what}.alg ${value} is not supported (only ${implemented.join(', ')})`);
  }
  return value as T;
}

function optionalString(o: JsonObject, field: string, what: string): string | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new CryptoError('crypto.object.invalid', `${what}.${field} must be a string`);
  return value;
}

function counterField(o: JsonObject, field: string, what: string): number {
  const value = o[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_COUNTER) {
    throw new CryptoError('crypto.cipher.counterOutOfRange', `${what}.${field} must be an integer from 0 to 2^32-1`);
  }
  return value;
}

const ENC_KNOWN = [1, 2, 3] as const;
const ENC_IMPL = [EncryptionAlgorithm.XCHACHA20_POLY1305] as const;
const SIG_IMPL = [SignatureAlgorithm.ECDSA_ED25519] as const;
const EXC_IMPL = [ExchangeAlgorithm.ECDH_X25519] as const;

function typed(json: JsonObject, type: string, verbose: boolean, first = false): JsonObject {
  if (!verbose) return json;
  return first ? { '@type': type, ...json } : { ...json, '@type': type };
}

// ---------------------------------------------------------------------------------------------
// Codecs

export function secretKeyToJson(k: SecretKey, verbose = true): JsonObject {
  return typed({ key: toBase64Url(k.key), alg: k.alg }, 'CryptoSecretKey', verbose);
}
export function parseSecretKey(input: unknown, what = 'CryptoSecretKey'): SecretKey {
  const o = toObject(input, what);
  return { key: bytesField(o, 'key', what, KEY_BYTES), alg: algField(o, what, ENC_KNOWN, ENC_IMPL) };
}

export function cipherToJson(c: Cipher, verbose = true): JsonObject {
  const json: JsonObject = { cph: toBase64Url(c.cph), alg: c.alg };
  if (c.nnc !== undefined) json.nnc = toBase64Url(c.nnc);
  if (c.cnt !== undefined) json.cnt = c.cnt;
  return typed(json, 'CryptoCipher', verbose);
}
export function parseCipher(input: unknown, what = 'CryptoCipher'): Cipher {
  const o = toObject(input, what);
  const hasNonce = o.nnc !== undefined;
  const hasCounter = o.cnt !== undefined;
  if (hasNonce === hasCounter) {
    throw new CryptoError('crypto.cipher.nonceOrCounter', `${what} must carry exactly one of nnc (nonce) and cnt (counter)`);
  }
  const alg = algField<EncryptionAlgorithm>(o, what, ENC_KNOWN, ENC_IMPL);
  const cph = bytesField(o, 'cph', what);
  if (cph.length < 16) throw new CryptoError('crypto.object.invalid', `${what}.cph is shorter than the authentication tag`);
  return hasNonce
    ? { cph, alg, nnc: bytesField(o, 'nnc', what, NONCE_BYTES) }
    : { cph, alg, cnt: counterField(o, 'cnt', what) };
}

export function signatureToJson(s: Signature, verbose = true): JsonObject {
  return typed({ sig: toBase64Url(s.sig), alg: s.alg }, 'CryptoSignature', verbose);
}
export function parseSignature(input: unknown, what = 'CryptoSignature'): Signature {
  const o = toObject(input, what);
  // alg is only a hash label here; the library accepts 1, 2 and 3.
  return { sig: bytesField(o, 'sig', what, SIGNATURE_BYTES), alg: algField(o, what, [1, 2, 3], [1, 2, 3]) };
}

export function signaturePublicKeyToJson(k: SignaturePublicKey, verbose = true): JsonObject {
  return typed({ pub: toBase64Url(k.pub), alg: k.alg }, 'CryptoSignaturePublicKey', verbose);
}
export function parseSignaturePublicKey(input: unknown, what = 'CryptoSignaturePublicKey'): SignaturePublicKey {
  const o = toObject(input, what);
  return { pub: bytesField(o, 'pub', what, PUBLIC_KEY_BYTES), alg: algField(o, what, [1, 2, 3], SIG_IMPL) };
}

export function signaturePrivateKeyToJson(k: SignaturePrivateKey, verbose = true): JsonObject {
  const json: JsonObject = { prv: toBase64Url(k.prv), alg: k.alg };
  if (k.id !== undefined) json.id = k.id;
  return typed(json, 'CryptoSignaturePrivateKey', verbose);
}
export function parseSignaturePrivateKey(input: unknown, what = 'CryptoSignaturePrivateKey'): SignaturePrivateKey {
  const o = toObject(input, what);
  const key: SignaturePrivateKey = {
    prv: bytesField(o, 'prv', what, SIGNATURE_PRIVATE_KEY_BYTES),
    alg: algField(o, what, [1, 2, 3], SIG_IMPL),
  };
  const id = optionalString(o, 'id', what);
  if (id !== undefined) key.id = id;
  return key;
}

export function signatureKeypairToJson(k: SignatureKeypair, verbose = true): JsonObject {
  return typed(
    { pub: signaturePublicKeyToJson(k.pub, false), prv: signaturePrivateKeyToJson(k.prv, false) },
    'CryptoSignatureKeypair',
    verbose,
  );
}
export function parseSignatureKeypair(input: unknown, what = 'CryptoSignatureKeypair'): SignatureKeypair {
  const o = toObject(input, what);
  const pair = {
    pub: parseSignaturePublicKey(o.pub, `${what}.pub`),
    prv: parseSignaturePrivateKey(o.prv, `${what}.prv`),
  };
  // libsodium's secret key ends with the public key; a mismatch means the pair was assembled wrongly.
  if (Buffer.compare(pair.prv.prv.subarray(32), pair.pub.pub) !== 0) {
    throw new CryptoError('crypto.object.invalid', `${what}: private and public key do not belong together`);
  }
  return pair;
}

export function exchangePublicKeyToJson(k: ExchangePublicKey, verbose = true): JsonObject {
  // The library writes @type FIRST for this one class.
  return typed({ pub: toBase64Url(k.pub), alg: k.alg }, 'CryptoExchangePublicKey', verbose, true);
}
export function parseExchangePublicKey(input: unknown, what = 'CryptoExchangePublicKey'): ExchangePublicKey {
  const o = toObject(input, what);
  return { pub: bytesField(o, 'pub', what, PUBLIC_KEY_BYTES), alg: algField(o, what, [1, 2, 3], EXC_IMPL) };
}

export function exchangePrivateKeyToJson(k: ExchangePrivateKey, verbose = true): JsonObject {
  return typed({ prv: toBase64Url(k.prv), alg: k.alg }, 'CryptoExchangePrivateKey', verbose);
}
export function parseExchangePrivateKey(input: unknown, what = 'CryptoExchangePrivateKey'): ExchangePrivateKey {
  const o = toObject(input, what);
  return { prv: bytesField(o, 'prv', what, KEY_BYTES), alg: algField(o, what, [1, 2, 3], EXC_IMPL) };
}

export function exchangeKeypairToJson(k: ExchangeKeypair, verbose = true): JsonObject {
  return typed(
    { pub: exchangePublicKeyToJson(k.pub, false), prv: exchangePrivateKeyToJson(k.prv, false) },
    'CryptoExchangeKeypair',
    verbose,
  );
}
export function parseExchangeKeypair(input: unknown, what = 'CryptoExchangeKeypair'): ExchangeKeypair {
  const o = toObject(input, what);
  return { pub: parseExchangePublicKey(o.pub, `${what}.pub`), prv: parseExchangePrivateKey(o.prv, `${what}.prv`) };
}

export function exchangeSecretsToJson(s: ExchangeSecrets, verbose = true): JsonObject {
  return typed({ rx: toBase64Url(s.rx), tx: toBase64Url(s.tx), alg: s.alg }, 'CryptoExchangeSecrets', verbose);
}
export function parseExchangeSecrets(input: unknown, what = 'CryptoExchangeSecrets'): ExchangeSecrets {
  const o = toObject(input, what);
  return {
    rx: bytesField(o, 'rx', what, KEY_BYTES),
    tx: bytesField(o, 'tx', what, KEY_BYTES),
    alg: algField(o, what, ENC_KNOWN, ENC_IMPL),
  };
}

function stateTypeField(o: JsonObject, what: string): StateType {
  const typ = o.typ;
  if (typ !== StateType.Receive && typ !== StateType.Transmit) {
    throw new CryptoError('crypto.object.invalid', `${what}.typ must be 1 (receive) or 2 (transmit)`);
  }
  return typ;
}

export function publicStateToJson(s: PublicState, verbose = true): JsonObject {
  return typed({ nnc: toBase64Url(s.nnc), alg: s.alg, typ: s.typ }, 'CryptoPublicState', verbose);
}
export function parsePublicState(input: unknown, what = 'CryptoPublicState'): PublicState {
  const o = toObject(input, what);
  return { nnc: bytesField(o, 'nnc', what, NONCE_BYTES), alg: algField(o, what, ENC_KNOWN, ENC_IMPL), typ: stateTypeField(o, what) };
}

export function privateStateToJson(s: PrivateState, verbose = true): JsonObject {
  const json: JsonObject = { nnc: toBase64Url(s.nnc), cnt: s.cnt, key: toBase64Url(s.key), alg: s.alg, typ: s.typ };
  if (s.id !== undefined) json.id = s.id;
  const type = s.typ === StateType.Transmit ? 'CryptoPrivateStateTransmit' : 'CryptoPrivateStateReceive';
  return typed(json, type, verbose);
}
export function parsePrivateState(input: unknown, what = 'CryptoPrivateState'): PrivateState {
  const o = toObject(input, what);
  const state: PrivateState = {
    nnc: bytesField(o, 'nnc', what, NONCE_BYTES),
    cnt: counterField(o, 'cnt', what),
    key: bytesField(o, 'key', what, KEY_BYTES),
    alg: algField(o, what, ENC_KNOWN, ENC_IMPL),
    typ: stateTypeField(o, what),
  };
  const id = optionalString(o, 'id', what);
  if (id !== undefined) state.id = id;
  return state;
}

export function relationshipPublicRequestToJson(r: RelationshipPublicRequest, verbose = true): JsonObject {
  const json: JsonObject = {};
  if (r.id !== undefined) json.id = r.id;
  Object.assign(json, {
    exc: exchangePublicKeyToJson(r.exc, false),
    sig: signaturePublicKeyToJson(r.sig, false),
    eph: exchangePublicKeyToJson(r.eph, false),
    nnc: toBase64Url(r.nnc),
  });
  return typed(json, 'CryptoRelationshipPublicRequest', verbose);
}
export function parseRelationshipPublicRequest(input: unknown, what = 'CryptoRelationshipPublicRequest'): RelationshipPublicRequest {
  const o = toObject(input, what);
  const request: RelationshipPublicRequest = {
    exc: parseExchangePublicKey(o.exc, `${what}.exc`),
    sig: parseSignaturePublicKey(o.sig, `${what}.sig`),
    eph: parseExchangePublicKey(o.eph, `${what}.eph`),
    nnc: bytesField(o, 'nnc', what, NONCE_BYTES),
  };
  const id = optionalString(o, 'id', what);
  if (id !== undefined) request.id = id;
  return request;
}

export function relationshipPublicResponseToJson(r: RelationshipPublicResponse, verbose = true): JsonObject {
  const json: JsonObject = {
    exc: exchangePublicKeyToJson(r.exc, false),
    sig: signaturePublicKeyToJson(r.sig, false),
    sta: publicStateToJson(r.sta, false),
  };
  if (r.id !== undefined) json.id = r.id;
  return typed(json, 'CryptoRelationshipPublicResponse', verbose);
}
export function parseRelationshipPublicResponse(input: unknown, what = 'CryptoRelationshipPublicResponse'): RelationshipPublicResponse {
  const o = toObject(input, what);
  const response: RelationshipPublicResponse = {
    exc: parseExchangePublicKey(o.exc, `${what}.exc`),
    sig: parseSignaturePublicKey(o.sig, `${what}.sig`),
    sta: parsePublicState(o.sta, `${what}.sta`),
  };
  const id = optionalString(o, 'id', what);
  if (id !== undefined) response.id = id;
  return response;
}

/** JSON text of a wire object. */
export function serialize(json: JsonObject): string {
  return JSON.stringify(json);
}

/** The "toBase64" form: base64url(UTF-8(JSON)). */
export function toBase64(json: JsonObject): string {
  return jsonToBase64Url(JSON.stringify(json));
}
