import type { DeletionProcessDto } from '../backbone';
import { ProtocolError } from './errors';
import { getFile } from './files';
import type { Participant } from './participant';
import { readOwnTemplate } from './templates';

/**
 * Deleting what is ours: a template, a file, the identity itself (after a grace period, which can be
 * cancelled). Templates and files are read and proven ours first (keys derived from our secret
 * open them), so a mistyped ID is an error here rather than a request the Platform may misapply.
 * Relationships are decomposed with changeRelationship(…, 'decompose').
 */

export async function deleteOwnTemplate(ctx: Participant, id: string): Promise<void> {
  await readOwnTemplate(ctx, id);
  await ctx.client.deleteTemplate(id);
}

export async function deleteOwnFile(ctx: Participant, id: string): Promise<void> {
  await getFile(ctx, id); // fails for a file not uploaded by this identity
  await ctx.client.deleteFile(id);
}

export interface IdentityDeletionStatus {
  /** The identity's status on the Platform: Active, ToBeDeleted, Deleting. */
  status: string;
  /** When the identity will be deleted, while a deletion process runs. */
  deletionDate?: string;
  /** The running (Approved) process, if any. */
  active?: DeletionProcessDto;
  /** Every deletion process, oldest first. */
  processes: DeletionProcessDto[];
}

export async function identityDeletionStatus(ctx: Participant): Promise<IdentityDeletionStatus> {
  const [identity, processes] = await Promise.all([ctx.client.getIdentity(), ctx.client.all(ctx.client.deletionProcesses())]);
  const active = processes.find((p) => p.status === 'Approved');
  return {
    status: identity.status ?? 'Active',
    deletionDate: identity.deletionGracePeriodEndsAt ?? active?.gracePeriodEndsAt ?? undefined,
    active,
    processes,
  };
}

/**
 * Starts deleting this identity: after `gracePeriodDays` the Platform deletes it with everything it
 * holds, and its credential stops working. Peers are told (PeerToBeDeleted). Until then it can be cancelled.
 */
export async function startIdentityDeletion(ctx: Participant, gracePeriodDays?: number): Promise<DeletionProcessDto> {
  if (gracePeriodDays !== undefined && (!Number.isInteger(gracePeriodDays) || gracePeriodDays < 0)) {
    throw new ProtocolError('protocol.input.invalid', 'The grace period is a whole number of days (0 or more)');
  }
  return ctx.client.startDeletionProcess(gracePeriodDays);
}

export async function cancelIdentityDeletion(ctx: Participant): Promise<DeletionProcessDto> {
  const { active } = await identityDeletionStatus(ctx);
  if (!active) throw new ProtocolError('protocol.identity.notToBeDeleted', 'This identity has no running deletion process to cancel');
  return ctx.client.cancelDeletionProcess(active.id);
}
