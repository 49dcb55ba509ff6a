import { HashAlgorithm, base64UrlToJson, sign, signatureToJson, utf8, type SecretKey, type SignatureKeypair, type SignaturePublicKey } from '../../crypto';
import type { RelationshipDto, RelationshipStatus } from '../../backbone';
import { ProtocolError } from '../errors';
import type { IdentityInfo } from '../identity-info';
import type { Participant } from '../participant';
import type { RelationshipEntry, RelationshipRole } from '../../state/relationship-entries';
import { cryptoJson, transportStringify } from '../serialize';

export type { RelationshipRole };

/**
 * A relationship as we see it: the Backbone's record plus what only the two parties can read, and
 * the envelope pieces both sides write and read (signed content, base64 JSON of the record).
 */

export interface DirectionKey {
  key: SecretKey;
  baseNonce: Uint8Array;
}

export interface RelationshipKeys {
  transmit: DirectionKey;
  receive: DirectionKey;
  ownSignature: SignatureKeypair;
  peerSignature: SignaturePublicKey;
}

export interface Relationship {
  id: string;
  templateId: string;
  status: RelationshipStatus;
  role: RelationshipRole;
  peer: string;
  createdAt: string;
  auditLog: RelationshipDto['auditLog'];
  /** The peer's identity (known to the templator from the request, to the requestor from the template). */
  peerIdentity?: IdentityInfo;
  /** The decrypted creation content (the templator reads the peer's; the requestor its own, when known). */
  creationContent?: Record<string, unknown>;
  /** Keys once the relationship was accepted. */
  keys?: RelationshipKeys;
  /** The request content was decrypted and verified (templator: with our own template; requestor: our own signature). */
  requestVerified?: boolean;
  /** The peer is deleting its identity (the Platform's word, as the Connector's DTO has it); absent otherwise or after a cancellation. */
  peerDeletionInfo?: PeerDeletionInfo;
}

export interface PeerDeletionInfo {
  deletionStatus: 'ToBeDeleted' | 'Deleted';
  deletionDate?: string;
}

/** What the relationship's entry records of the peer's deletion, in the Connector's shape. */
export function peerDeletionInfo(entry: Pick<RelationshipEntry, 'peerDeletion' | 'peerDeletionDate'> | undefined): PeerDeletionInfo | undefined {
  if (!entry?.peerDeletion || entry.peerDeletion === 'Cancelled') return undefined;
  return { deletionStatus: entry.peerDeletion, ...(entry.peerDeletionDate ? { deletionDate: entry.peerDeletionDate } : {}) };
}

const RELATIONSHIP_SIGNATURE = HashAlgorithm.SHA256;
const DEVICE_SIGNATURE = HashAlgorithm.SHA512;

export function signedEnvelope(serialized: string, field: string, device: SignatureKeypair, relationship: SignatureKeypair): string {
  const bytes = utf8(serialized);
  return transportStringify({
    deviceSignature: cryptoJson(signatureToJson(sign(bytes, device.prv, DEVICE_SIGNATURE), false)),
    relationshipSignature: cryptoJson(signatureToJson(sign(bytes, relationship.prv, RELATIONSHIP_SIGNATURE), false)),
    [field]: serialized,
  });
}

export function parseOuter(text: string | null | undefined, what: string, id: string): Record<string, unknown> {
  if (!text) throw new ProtocolError('protocol.relationship.invalid', `relationship ${id} has no ${what}`, id);
  try {
    const value = base64UrlToJson(text, what);
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch (error) {
    throw new ProtocolError('protocol.relationship.invalid', `the ${what} of relationship ${id} is not readable`, id, error);
  }
  throw new ProtocolError('protocol.relationship.invalid', `the ${what} of relationship ${id} is not an object`, id);
}

export function baseView(ctx: Participant, dto: RelationshipDto): Relationship {
  const role: RelationshipRole = dto.to === ctx.identity.address ? 'templator' : 'requestor';
  return {
    id: dto.id,
    templateId: dto.relationshipTemplateId,
    status: dto.status,
    role,
    peer: role === 'templator' ? dto.from : dto.to,
    createdAt: dto.createdAt,
    auditLog: dto.auditLog,
    peerDeletionInfo: peerDeletionInfo(ctx.registry.find(dto.id)),
  };
}
