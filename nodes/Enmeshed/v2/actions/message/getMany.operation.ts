import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { loadReadState, peerDisplayNamesByAddress, type Participant } from '../../../../../lib/protocol';
import { filterOptions, getManyProperties, listMessages } from '../../../v1/actions/message/getMany.operation';

/**
 * Get Many, v2: each received message says whether it is read (Mark as Read) and the sender's display
 * name where the relationship holds one; a filter for unread ones.
 */

const properties = getManyProperties(
  [
    ...filterOptions,
    {
      displayName: 'Unread Only',
      name: 'unreadOnly',
      type: 'boolean' as const,
      default: false,
      description: 'Whether to return only received messages not marked as read (with Mark as Read, or by the trigger)',
    },
  ].sort((a, b) => a.displayName.localeCompare(b.displayName)),
);

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const filters = this.getNodeParameter('filters', i, {}) as IDataObject;
  const state = await loadReadState(participant);
  const isOwn = (createdBy: string) => createdBy === participant.address;
  /** Output of a received message → its sender: named once the page is known (only these peers). */
  const senders = new Map<IDataObject, string>();
  const items = await listMessages(this, i, participant, {
    keep: filters.unreadOnly ? (dto) => !isOwn(dto.createdBy) && !state.isRead(dto) : undefined,
    // Our own messages have no read state: only what we receive is read or not.
    decorate: (json, dto) => {
      if (isOwn(dto.createdBy)) return json;
      const out: IDataObject = { ...json, peerDisplayName: undefined, read: state.isRead(dto) };
      senders.set(out, dto.createdBy);
      return out;
    },
  });
  const names = await peerDisplayNamesByAddress(participant, senders.values());
  for (const [json, sender] of senders) json.peerDisplayName = names.get(sender);
  return items;
}
