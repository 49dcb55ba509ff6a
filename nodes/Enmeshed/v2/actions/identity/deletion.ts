import type { IDataObject } from 'n8n-workflow';
import type { DeletionProcessDto } from '../../../../../lib/backbone';

/** A deletion process as an output item: its id, status and dates. */
export function deletionProcessToJson(p: DeletionProcessDto): IDataObject {
  return {
    id: p.id,
    status: p.status,
    createdAt: p.createdAt,
    gracePeriodEndsAt: p.gracePeriodEndsAt ?? undefined,
    cancelledAt: p.cancelledAt ?? undefined,
  };
}
