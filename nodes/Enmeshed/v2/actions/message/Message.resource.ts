import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/message/Message.resource';
import { operationSelector } from '../../helpers/operations';
import * as getMany from './getMany.operation';
import * as markAsRead from './markAsRead.operation';
import * as markAsUnread from './markAsUnread.operation';
import * as send from './send.operation';

const { downloadAttachments, get } = v1;
export { downloadAttachments, get, getMany, markAsRead, markAsUnread, send };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [
    { name: 'Send', value: 'send', action: 'Send a message', description: 'Send a Mail or other content, with attachments from binary data or existing files' },
    { name: 'Mark as Read', value: 'markAsRead', action: 'Mark a message as read', description: 'Mark a received message as read (for every worker of this credential)' },
    { name: 'Mark as Unread', value: 'markAsUnread', action: 'Mark a message as unread', description: 'Mark a received message as unread again' },
  ]),
  ...send.description,
  ...get.description,
  ...getMany.description,
  ...downloadAttachments.description,
  ...markAsRead.description,
  ...markAsUnread.description,
];
