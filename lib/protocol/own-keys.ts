import { createHmac } from 'node:crypto';
import {
  EncryptionAlgorithm,
  generateExchangeKeypair,
  generateSignatureKeypair,
  type ExchangeKeypair,
  type SecretKey,
  type SignatureKeypair,
} from '../crypto';

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
 * | file content / metadata keys          | nonce of the metadata cipher                           |
 *
 * Salts are 24 fresh random bytes each, so keys never repeat. PRF = HMAC-SHA256(secret, label ‖ 0 ‖ salt).
 * Peers only ever see public halves and ciphertexts, so this is invisible on the wire.
 */

const prf = (secret: Uint8Array, label: string, salt: Uint8Array): Buffer =>
  createHmac('sha256', secret).update(label).update(Buffer.from([0])).update(salt).digest();

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
export interface FileKeys {
  metadataKey: SecretKey;
  contentKey: SecretKey;
}

export class OwnKeys {
  constructor(private readonly secret: Uint8Array) {}

  template(contentNonce: Uint8Array): TemplateKeys {
    return {
      contentKey: secretKey(prf(this.secret, 'template/content', contentNonce)),
      exchange: generateExchangeKeypair(prf(this.secret, 'template/exchange', contentNonce)),
    };
  }

  requestor(baseNonce: Uint8Array): RequestorKeys {
    return {
      exchange: generateExchangeKeypair(prf(this.secret, 'requestor/exchange', baseNonce)),
      ephemeral: generateExchangeKeypair(prf(this.secret, 'requestor/ephemeral', baseNonce)),
      signature: generateSignatureKeypair(prf(this.secret, 'requestor/signature', baseNonce)),
    };
  }

  templator(baseNonce: Uint8Array): TemplatorKeys {
    return {
      exchange: generateExchangeKeypair(prf(this.secret, 'templator/exchange', baseNonce)),
      signature: generateSignatureKeypair(prf(this.secret, 'templator/signature', baseNonce)),
    };
  }

  message(bodyNonce: Uint8Array): SecretKey {
    return secretKey(prf(this.secret, 'message/key', bodyNonce));
  }

  file(metadataNonce: Uint8Array): FileKeys {
    return {
      metadataKey: secretKey(prf(this.secret, 'file/metadata', metadataNonce)),
      contentKey: secretKey(prf(this.secret, 'file/content', metadataNonce)),
    };
  }

  /**
   * The name under which a send with an idempotency key is remembered (lib/protocol/send-once): the
   * same for every worker of this identity, and telling the Platform nothing about the key.
   */
  sendMarker(idempotencyKey: string, recipients: readonly string[]): string {
    return prf(this.secret, 'send/idempotency', Buffer.from(JSON.stringify([idempotencyKey, [...recipients].sort()]), 'utf8')).toString('base64url');
  }

  /** Key of our own datawallet payloads (counters, relationship registry). */
  datawallet(): SecretKey {
    return secretKey(prf(this.secret, 'datawallet/key', Buffer.alloc(0)));
  }
}
