import { EncryptionAlgorithm, ExchangeAlgorithm, KEY_BYTES } from './algorithms';
import { asBuffer } from './encoding';
import { CryptoError } from './errors';
import { sodium } from './sodium';
import type { ExchangeKeypair, ExchangePublicKey, ExchangeSecrets } from './wire';

/**
 * X25519 through libsodium crypto_kx. The roles are fixed by the relationship: the templator is the
 * kx CLIENT, the requestor the kx SERVER. Swapping them yields wrong keys without any error, so the
 * two functions are named for the role, not for libsodium's terms.
 */

export function generateExchangeKeypair(privateKey?: Uint8Array): ExchangeKeypair {
  const s = sodium();
  let prv: Uint8Array;
  let pub: Uint8Array;
  if (privateKey) {
    if (privateKey.length !== KEY_BYTES) throw new CryptoError('crypto.key.invalidLength', 'exchange private key must be 32 bytes');
    prv = privateKey;
    pub = s.crypto_scalarmult_base(privateKey);
  } else {
    const pair = s.crypto_kx_keypair();
    prv = pair.privateKey;
    pub = pair.publicKey;
  }
  return {
    pub: { pub: asBuffer(pub), alg: ExchangeAlgorithm.ECDH_X25519 },
    prv: { prv: asBuffer(prv), alg: ExchangeAlgorithm.ECDH_X25519 },
  };
}

function kx(role: 'client' | 'server', own: ExchangeKeypair, peer: ExchangePublicKey): ExchangeSecrets {
  const s = sodium();
  try {
    const keys =
      role === 'client'
        ? s.crypto_kx_client_session_keys(own.pub.pub, own.prv.prv, peer.pub)
        : s.crypto_kx_server_session_keys(own.pub.pub, own.prv.prv, peer.pub);
    return { rx: asBuffer(keys.sharedRx), tx: asBuffer(keys.sharedTx), alg: EncryptionAlgorithm.XCHACHA20_POLY1305 };
  } catch {
    throw new CryptoError('crypto.object.invalid', 'key exchange failed: the peer public key is not a valid X25519 key');
  }
}

/** Session keys of the template creator (kx client). */
export function deriveTemplator(own: ExchangeKeypair, requestorPublicKey: ExchangePublicKey): ExchangeSecrets {
  return kx('client', own, requestorPublicKey);
}

/** Session keys of the relationship requestor (kx server). */
export function deriveRequestor(own: ExchangeKeypair, templatorPublicKey: ExchangePublicKey): ExchangeSecrets {
  return kx('server', own, templatorPublicKey);
}
