import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { MessageDto } from '../../../../../lib/backbone';
import { messagesNewestFirst, openMessage, ProtocolError, repeatedMessageError, type Message, type Participant } from '../../../../../lib/protocol';
import { toNodeError } from '../../../../shared/errors';
import { messageToJson, simplifyMessage } from '../../../../shared/output';
import { limitField, returnAllField, simplifyField } from '../../helpers/fields';
import { addressList, item } from '../../helpers/utils';

/** The filters of Get Many in every version. */
export const filterOptions: INodeProperties[] = [
  {
    displayName: 'Direction',
    name: 'direction',
    type: 'options',
    default: 'received',
    options: [
      { name: 'Received', value: 'received' },
      { name: 'Sent', value: 'sent' },
      { name: 'Both', value: 'both' },
    ],
  },
  {
    displayName: 'Has Attachments',
    name: 'hasAttachments',
    type: 'boolean',
    default: true,
    description: 'Whether to return only messages with (true) or without (false) attachments',
  },
  {
    displayName: 'Peers',
    name: 'peers',
    type: 'string',
    default: '',
    placeholder: 'did:e:…, did:e:…',
    description: 'Only messages exchanged with these addresses (comma-separated)',
  },
  {
    displayName: 'Since',
    name: 'since',
    type: 'dateTime',
    default: '',
    description: 'Only messages created at or after this time',
  },
];

/** Get Many's parameters, with `filters` as its Filters collection. */
export const getManyProperties = (filters: INodeProperties[]): INodeProperties[] => [
  returnAllField,
  limitField,
  { displayName: 'Filters', name: 'filters', type: 'collection', placeholder: 'Add Filter', default: {}, options: filters },
  simplifyField,
];

const properties = getManyProperties(filterOptions);

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['getMany'] } }, properties);

/** What a later version adds: one more test per message, and fields per output item. */
export interface GetManyExtension {
  keep?: (dto: MessageDto) => boolean;
  decorate?: (json: IDataObject, dto: MessageDto) => IDataObject;
}

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  return listMessages(this, i, participant);
}

/** Messages newest first, filtered as the parameters of item i say. */
export async function listMessages(ctx: IExecuteFunctions, i: number, participant: Participant, extension: GetManyExtension = {}): Promise<INodeExecutionData[]> {
  const decorate = extension.decorate ?? ((json: IDataObject) => json);
  const returnAll = ctx.getNodeParameter('returnAll', i) as boolean;
  const limit = returnAll ? Infinity : (ctx.getNodeParameter('limit', i) as number);
  const filters = ctx.getNodeParameter('filters', i, {}) as IDataObject;
  const simplify = ctx.getNodeParameter('simplify', i, true) as boolean;
  const direction = (filters.direction as string | undefined) ?? 'received';
  const peers = new Set(addressList(String(filters.peers ?? '')));
  const since = filters.since ? Date.parse(String(filters.since)) : undefined;
  const out: INodeExecutionData[] = [];
  /** Digest of the signed content → id of the message listed with it. */
  const listed = new Map<string, string>();
  // Newest first, from the tail of the list: stops as soon as enough are found or `since` is passed.
  for await (const dto of messagesNewestFirst(participant)) {
    if (since !== undefined && Date.parse(dto.createdAt) < since) break;
    const isOwn = dto.createdBy === participant.address;
    if ((direction === 'received' && isOwn) || (direction === 'sent' && !isOwn)) continue;
    if (peers.size && !(isOwn ? dto.recipients.some((r) => peers.has(r.address)) : peers.has(dto.createdBy))) continue;
    if (filters.hasAttachments !== undefined && (dto.attachments.length > 0) !== filters.hasAttachments) continue;
    if (extension.keep && !extension.keep(dto)) continue;
    let opened: { message: Message } | { error: unknown } = await openMessage(participant, dto).then(
      (message) => ({ message }),
      (error: unknown) => ({ error }),
    );
    const first = 'message' in opened ? listed.get(opened.message.contentDigest) : undefined;
    if ('message' in opened && first) {
      // The Platform served one message twice under two ids: listed once, the repeat reported.
      opened = { error: repeatedMessageError(opened.message, first) };
    }
    if ('message' in opened) {
      listed.set(opened.message.contentDigest, dto.id);
      out.push(item(decorate(simplify ? simplifyMessage(opened.message) : messageToJson(opened.message), dto), i));
    } else if (opened.error instanceof ProtocolError) {
      // A message that cannot be read is reported in the output, never dropped.
      out.push(item(decorate({ id: dto.id, createdBy: dto.createdBy, createdAt: dto.createdAt, error: opened.error.message, errorCode: opened.error.code }, dto), i));
    } else {
      throw toNodeError(ctx.getNode(), opened.error, i);
    }
    if (out.length >= limit) break;
  }
  return out;
}
