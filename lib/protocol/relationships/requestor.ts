import {
  KdfContext,
  cipherToJson,
  deriveKey,
  deriveRequestor,
  encrypt,
  generateNonce,
  jsonToBase64Url,
  relationshipPublicRequestToJson,
  toBase64Url,
  utf8,
  type RelationshipPublicRequest,
} from '../../crypto';
import { ProtocolError } from '../errors';
import { identityJson } from '../identity-info';
import type { Participant } from '../participant';
import { cryptoJson, transportStringify } from '../serialize';
import type { LoadedTemplate } from '../templates';
import { baseView, signedEnvelope, type Relationship } from './record';
import { recordOwnAction } from './entries';

/**
 * The requestor's side: a relationship request for someone else's template — content signed with
 * fresh keys (from a fresh base nonce N_B), encrypted with the request key K_req — and its entry in
 * the registry: our salt N_B, and what we need to re-read the request later.
 */

/** Requestor: create a relationship request for a loaded template. */
export async function requestRelationship(
  ctx: Participant,
  template: LoadedTemplate,
  content: Record<string, unknown>,
): Promise<Relationship> {
  if (template.createdBy === ctx.identity.address) {
    throw new ProtocolError('protocol.input.invalid', 'This template is your own: a relationship needs another identity', template.id);
  }
  if (!content || typeof content['@type'] !== 'string') {
    throw new ProtocolError('protocol.input.invalid', 'The relationship request content must be a JSON object with an "@type"');
  }
  const baseNonce = generateNonce();
  const keys = ctx.own.requestor(baseNonce);
  const requestKey = deriveKey(deriveRequestor(keys.ephemeral, template.templateKey.pub).tx, 1, KdfContext.requestKey);
  const serialized = transportStringify({
    '@type': 'RelationshipCreationContentWrapper',
    content,
    identity: identityJson({ address: ctx.identity.address, publicKey: ctx.identity.keys.identity.pub }),
    templateId: template.id,
  });
  const plaintext = signedEnvelope(serialized, 'serializedCreationContent', ctx.identity.keys.device, keys.signature);
  const publicRequest: RelationshipPublicRequest = { exc: keys.exchange.pub, sig: keys.signature.pub, eph: keys.ephemeral.pub, nnc: baseNonce };
  const outer = transportStringify({
    '@type': 'RelationshipCreationContentCipher',
    cipher: cryptoJson(cipherToJson(encrypt(utf8(plaintext), requestKey), false)),
    publicCreationContentCrypto: cryptoJson(relationshipPublicRequestToJson(publicRequest, false)),
  });
  const dto = await ctx.client.createRelationship(template.id, jsonToBase64Url(outer));
  await recordOwnAction(ctx, dto, {
    salt: toBase64Url(baseNonce),
    peerKey: toBase64Url(template.identity.publicKey.pub),
    templateKey: toBase64Url(template.templateKey.pub.pub),
  });
  return { ...baseView(ctx, dto), peerIdentity: template.identity, creationContent: content };
}
