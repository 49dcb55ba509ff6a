/**
 * Relationships: a requestor (B) asks for one with the templator's (A's) template; A accepts; both
 * then derive the keys their messages use. Nothing per relationship is stored but its entry in the
 * datawallet (lib/state/relationship-entries.ts): keys and contents are recomputed from the Backbone's
 * record and our identity secret.
 *
 *   record.ts     the relationship as we see it, envelope pieces both sides use
 *   keys.ts       the relationship keys as @nmshd/transport derives them, cached per process
 *   requestor.ts  B: a request for someone else's template
 *   templator.ts  A: accepting a request on our template
 *   changes.ts    reject, revoke, terminate, reactivation, decompose (no crypto)
 *   open.ts       reading a record, either side: the request content and the keys
 *   entries.ts    our entries in the datawallet: read once per process, upgraded, our own actions recorded
 *   registry.ts   our relationships: by id, by peer, a page of them, the one to use with a peer
 *   peer-name.ts  the peer's display name, where the relationship holds one
 */
export type { DirectionKey, PeerDeletionInfo, Relationship, RelationshipKeys, RelationshipRole } from './record';
export { peerDeletionInfo } from './record';
export type { RelationshipEntry } from '../../state/relationship-entries';
export { cachedRelationshipKeys } from './keys';
export { requestRelationship } from './requestor';
export { acceptRelationship } from './templator';
export { changeRelationship, type RelationshipAction } from './changes';
export { openRelationship } from './open';
export { openRegistry, syncRegistry } from './entries';
export {
  findRelationships,
  getRelationship,
  listRelationships,
  relationshipWith,
  relationshipsWithPeer,
  type KnownRelationship,
  type RelationshipQuery,
} from './registry';
export { peerDisplayName, peerDisplayNames, peerDisplayNamesByAddress } from './peer-name';
