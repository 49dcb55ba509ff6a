import { HashAlgorithm, PUBLIC_KEY_BYTES, SIGNATURE_PRIVATE_KEY_BYTES, SignatureAlgorithm } from './algorithms';
import { asBuffer } from './encoding';
import { CryptoError } from './errors';
import { sodium } from './sodium';
import type { Signature, SignatureKeypair, SignaturePrivateKey, SignaturePublicKey } from './wire';

/**
 * Ed25519 (pure, no pre-hash) over the exact bytes given. The `alg` of a signature is only a label:
 * 2 (SHA512) for identity and device signatures, 1 (SHA256) for relationship-key signatures.
 */

export function generateSignatureKeypair(seed?: Uint8Array): SignatureKeypair {
  if (seed !== undefined && seed.length !== 32) {
    throw new CryptoError('crypto.key.invalidLength', 'signature key seed must be 32 bytes');
  }
  const pair = seed ? sodium().crypto_sign_seed_keypair(seed) : sodium().crypto_sign_keypair();
  return {
    pub: { pub: asBuffer(pair.publicKey), alg: SignatureAlgorithm.ECDSA_ED25519 },
    prv: { prv: asBuffer(pair.privateKey), alg: SignatureAlgorithm.ECDSA_ED25519 },
  };
}

/** The public half of a 64-byte libsodium secret key is its last 32 bytes. */
export function signaturePublicKeyOf(privateKey: SignaturePrivateKey): SignaturePublicKey {
  return { pub: asBuffer(privateKey.prv).subarray(32), alg: privateKey.alg };
}

export function sign(content: Uint8Array, privateKey: SignaturePrivateKey, label: HashAlgorithm = HashAlgorithm.SHA512): Signature {
  if (privateKey.prv.length !== SIGNATURE_PRIVATE_KEY_BYTES) {
    throw new CryptoError('crypto.key.invalidLength', `signature private key must be ${SIGNATURE_PRIVATE_KEY_BYTES} bytes`);
  }
  return { sig: asBuffer(sodium().crypto_sign_detached(content, privateKey.prv)), alg: label };
}

export function verify(content: Uint8Array, signature: Signature, publicKey: SignaturePublicKey): boolean {
  if (publicKey.pub.length !== PUBLIC_KEY_BYTES || signature.sig.length !== 64) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature.sig, content, publicKey.pub);
  } catch {
    return false;
  }
}

/** verify(), throwing a CryptoError that names what was signed when the signature does not hold. */
export function assertSignature(content: Uint8Array, signature: Signature, publicKey: SignaturePublicKey, what: string): void {
  if (!verify(content, signature, publicKey)) {
    throw new CryptoError('crypto.signature.invalid', `the signature of ${what} is not valid`);
  }
}
