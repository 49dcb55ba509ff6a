import { isPlatformError, type RelationshipDto } from '../../backbone';
import { ProtocolError } from '../errors';
import type { Participant } from '../participant';
import { openRegistry, recordOwnAction } from './entries';
import { baseView, type Relationship } from './record';

/**
 * State changes without crypto, by either side: reject (templator), revoke (requestor), terminate,
 * reactivation, decompose. The new status goes into the relationship's entry.
 */

export type RelationshipAction = 'reject' | 'revoke' | 'terminate' | 'requestReactivation' | 'acceptReactivation' | 'rejectReactivation' | 'revokeReactivation' | 'decompose';

/** State changes without crypto; wrong-state answers become ProtocolErrors that say what to do. */
export async function changeRelationship(ctx: Participant, id: string, action: RelationshipAction): Promise<Relationship> {
  const calls: Record<RelationshipAction, (rid: string) => Promise<RelationshipDto>> = {
    reject: (rid) => ctx.client.rejectRelationship(rid),
    revoke: (rid) => ctx.client.revokeRelationship(rid),
    terminate: (rid) => ctx.client.terminateRelationship(rid),
    requestReactivation: (rid) => ctx.client.requestReactivation(rid),
    acceptReactivation: (rid) => ctx.client.acceptReactivation(rid),
    rejectReactivation: (rid) => ctx.client.rejectReactivation(rid),
    revokeReactivation: (rid) => ctx.client.revokeReactivation(rid),
    decompose: (rid) => ctx.client.decomposeRelationship(rid),
  };
  await openRegistry(ctx);
  ctx.registry.get(id); // an invalid entry stops here, before anything is changed
  let dto: RelationshipDto;
  try {
    dto = await calls[action](id);
  } catch (error) {
    if (isPlatformError(error) && error.code.startsWith('error.platform.validation.relationship.')) {
      throw new ProtocolError('protocol.relationship.wrongState', `Cannot ${action} relationship ${id}: ${error.message}`, id, error);
    }
    throw error;
  }
  await recordOwnAction(ctx, dto);
  return baseView(ctx, dto);
}
