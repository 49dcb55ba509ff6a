/** Algorithm numbers exactly as @nmshd/crypto writes them into `alg`. */
export enum EncryptionAlgorithm {
  AES128_GCM = 1,
  AES256_GCM = 2,
  XCHACHA20_POLY1305 = 3,
}

export enum ExchangeAlgorithm {
  ECDH_P256 = 1,
  ECDH_P521 = 2,
  ECDH_X25519 = 3,
}

export enum SignatureAlgorithm {
  ECDSA_P256 = 1,
  ECDSA_P521 = 2,
  ECDSA_ED25519 = 3,
}

/** Only a label inside CryptoSignature: 2 for identity/device signatures, 1 for relationship keys. */
export enum HashAlgorithm {
  SHA256 = 1,
  SHA512 = 2,
  BLAKE2B = 3,
}

export enum StateType {
  Receive = 1,
  Transmit = 2,
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const SIGNATURE_BYTES = 64;
export const SIGNATURE_PRIVATE_KEY_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
export const MAX_COUNTER = 0xffffffff;
