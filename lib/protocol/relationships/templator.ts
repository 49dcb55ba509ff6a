import {
  EncryptionAlgorithm,
  KdfContext,
  StateType,
  cipherToJson,
  deriveKey,
  deriveTemplator,
  encryptWithCounter,
  generateNonce,
  jsonToBase64Url,
  parseRelationshipPublicRequest,
  relationshipPublicResponseToJson,
  toBase64Url,
  utf8,
} from '../../crypto';
import { ProtocolError, readById } from '../errors';
import type { Participant } from '../participant';
import { cryptoJson, transportStringify } from '../serialize';
import { openRegistry, recordOwnAction } from './entries';
import { requestPeerPublic } from './keys';
import { openRelationship } from './open';
import { peerDisplayName } from './peer-name';
import { baseView, parseOuter, signedEnvelope, type Relationship } from './record';

/**
 * The templator's side: accepting a request on our template. The acceptance is signed with fresh
 * keys (from a fresh base nonce N_A) and encrypted in counter mode, counter 0 of those keys. N_A goes
 * into the relationship's entry once the Backbone has accepted.
 */

/**
 * Templator: accept a pending request (creation response in counter mode, counter 0 of fresh keys).
 * The request is decrypted and verified — with our own, proven template — before anything is
 * written or sent: one that fails is never accepted.
 */
export async function acceptRelationship(ctx: Participant, id: string): Promise<Relationship> {
  await openRegistry(ctx);
  ctx.registry.get(id); // an invalid entry stops here, before anything is accepted
  const dto = await readById(
    ctx.client.getRelationship(id),
    id,
    { notFound: 'protocol.relationship.notFound', invalid: 'protocol.relationship.invalid' },
    `Relationship ${id} does not exist or does not involve this identity`,
  );
  const view = baseView(ctx, dto);
  if (view.role !== 'templator') {
    throw new ProtocolError('protocol.relationship.wrongState', `Relationship ${id} was requested by you: only ${dto.to} can accept it`, id);
  }
  if (dto.status !== 'Pending') {
    throw new ProtocolError('protocol.relationship.wrongState', `Relationship ${id} is ${dto.status}, not Pending: it cannot be accepted`, id);
  }
  const request = await openRelationship(ctx, dto, { requireVerifiedRequest: true });
  const outer = parseOuter(dto.creationContent, 'creation content', id);
  const publicRequest = parseRelationshipPublicRequest(outer.publicCreationContentCrypto, 'publicCreationContentCrypto');
  const baseNonce = generateNonce(); // fresh keys for every attempt: a retried accept never reuses a nonce
  const own = ctx.own.templator(baseNonce);
  const d = deriveTemplator(own.exchange, publicRequest.exc);
  const transmitKey = deriveKey(d.tx, 1, KdfContext.templatorToRequestor);
  const serialized = transportStringify({ '@type': 'RelationshipCreationResponseContentWrapper', relationshipId: id });
  const plaintext = signedEnvelope(serialized, 'serializedCreationResponseContent', ctx.identity.keys.device, own.signature);
  const outerResponse = transportStringify({
    '@type': 'RelationshipCreationResponseContentCipher',
    cipher: cryptoJson(cipherToJson(encryptWithCounter(utf8(plaintext), transmitKey, baseNonce, 0), false)),
    publicCreationResponseContentCrypto: cryptoJson(
      relationshipPublicResponseToJson(
        { exc: own.exchange.pub, sig: own.signature.pub, sta: { nnc: baseNonce, alg: EncryptionAlgorithm.XCHACHA20_POLY1305, typ: StateType.Transmit } },
        false,
      ),
    ),
  });
  const accepted = await ctx.client.acceptRelationship(id, jsonToBase64Url(outerResponse));
  // The request was verified above: its public keys (with N_A) give this relationship's keys from the entry alone.
  await recordOwnAction(ctx, accepted, { salt: toBase64Url(baseNonce), peerName: peerDisplayName(request), peerPublic: requestPeerPublic(publicRequest) });
  return openRelationship(ctx, { ...accepted, creationContent: dto.creationContent, creationResponseContent: jsonToBase64Url(outerResponse) });
}
