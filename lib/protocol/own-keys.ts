import { createHmac } from 'node:crypto';
import {
  EncryptionAlgorithm,
  NONCE_BYTES,
  deriveKey,
  generateExchangeKeypair,
  generateSignatureKeypair,
  type ExchangeKeypair,
  type SecretKey,
  type SignatureKeypair,
} from '../crypto';
import { IdentityKdf, type IdentityVersion } from './identity';

/**
 * Every private key of our own is derived from the identity secret and a random, PUBLIC salt that
 * the Platform keeps for us — so nothing secret has to be stored besides the credential:
 *
 * | key                                   | salt (public, on the Platform)                         |
 * |---------------------------------------|--------------------------------------------------------|
 * | template content key K_T, template    | nonce of the template content cipher                   |
 * |   exchange key TK                     |                                                        |
 * | requestor keys X_B, E_B, S_B          | N_B, the requestor's base nonce (creation content)     |
 * | templator keys X_A, S_A               | N_A, the templator's base nonce (creation response)    |
 * | message key K_m                       | nonce of the message body cipher                       |
 * | file metadata key                     | nonce of the metadata cipher                           |
 *
 * Salts are 24 fresh random bytes each, so keys never repeat — except the file metadata nonce, which
 * is itself a PRF of the metadata plaintext (a synthetic nonce): only we can compute it, so metadata
 * that someone else encrypted with the (shared) metadata key under our nonce is recognised as not
 * ours. Its plaintext holds a fresh random content key, so nonces still never repeat.
 *
 * PRF = HMAC-SHA256(prfKey, label ‖ 0 ‖ salt). Identity version 2: prfKey is a BLAKE2b-KDF subkey of
 * the secret (context n8nOwnK2) and labels start with "n8n/v2/"; the datawallet key is a subkey of its
 * own (n8nDatW2). Version 1 (identities created before) keyed HMAC with the secret itself — the same
 * 32 bytes that key the BLAKE2b derivations of the identity and device keys — and keeps that
 * derivation so that its templates, relationships, messages, files and datawallet stay readable.
 * Peers only ever see public halves and ciphertexts, so none of this is visible on the wire.
 */

const secretKey = (key: Uint8Array): SecretKey => ({ key, alg: EncryptionAlgorithm.XCHACHA20_POLY1305 });

export interface TemplateKeys {
  contentKey: SecretKey;
  exchange: ExchangeKeypair;
}
export interface RequestorKeys {
  exchange: ExchangeKeypair;
  ephemeral: ExchangeKeypair;
  signature: SignatureKeypair;
}
export interface TemplatorKeys {
  exchange: ExchangeKeypair;
  signature: SignatureKeypair;
}

export class OwnKeys {
  private readonly prfKey: Uint8Array;
  private readonly labelPrefix: string;
  private readonly datawalletKey: SecretKey;

  constructor(secret: Uint8Array, readonly version: IdentityVersion) {
    if (version === 1) {
      this.prfKey = secret;
      this.labelPrefix = '';
      this.datawalletKey = secretKey(this.prf('datawallet/key', Buffer.alloc(0)));
    } else {
      this.prfKey = deriveKey(secret, 1, IdentityKdf.ownKeys).key;
      this.labelPrefix = 'n8n/v2/';
      this.datawalletKey = deriveKey(secret, 1, IdentityKdf.datawallet);
    }
  }

  private prf(label: string, salt: Uint8Array): Buffer {
    return createHmac('sha256', this.prfKey).update(this.labelPrefix + label).update(Buffer.from([0])).update(salt).digest();
  }

  template(contentNonce: Uint8Array): TemplateKeys {
    return {
      contentKey: secretKey(this.prf('template/content', contentNonce)),
      exchange: generateExchangeKeypair(this.prf('template/exchange', contentNonce)),
    };
  }

  requestor(baseNonce: Uint8Array): RequestorKeys {
    return {
      exchange: generateExchangeKeypair(this.prf('requestor/exchange', baseNonce)),
      ephemeral: generateExchangeKeypair(this.prf('requestor/ephemeral', baseNonce)),
      signature: generateSignatureKeypair(this.prf('requestor/signature', baseNonce)),
    };
  }

  templator(baseNonce: Uint8Array): TemplatorKeys {
    return {
      exchange: generateExchangeKeypair(this.prf('templator/exchange', baseNonce)),
      signature: generateSignatureKeypair(this.prf('templator/signature', baseNonce)),
    };
  }

  message(bodyNonce: Uint8Array): SecretKey {
    return secretKey(this.prf('message/key', bodyNonce));
  }

  /** The key our file metadata is encrypted with (and that a file reference carries). */
  fileMetadataKey(metadataNonce: Uint8Array): SecretKey {
    return secretKey(this.prf('file/metadata', metadataNonce));
  }

  /** The nonce our file metadata is encrypted under: a PRF of its plaintext (see above). */
  fileMetadataNonce(metadataPlaintext: Uint8Array): Buffer {
    return this.prf('file/metadata-nonce', metadataPlaintext).subarray(0, NONCE_BYTES);
  }

  /**
   * The name under which a send with an idempotency key is remembered (lib/protocol/send-once): the
   * same for every worker of this identity, and telling the Platform nothing about the key.
   */
  sendMarker(idempotencyKey: string, recipients: readonly string[]): string {
    return this.prf('send/idempotency', Buffer.from(JSON.stringify([idempotencyKey, [...recipients].sort()]), 'utf8')).toString('base64url');
  }

  /** Key of our own datawallet payloads (counters, relationship registry). */
  datawallet(): SecretKey {
    return this.datawalletKey;
  }
}
