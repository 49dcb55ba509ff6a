import type { INodeProperties } from 'n8n-workflow';
import * as downloadAttachments from './downloadAttachments.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as send from './send.operation';

export { downloadAttachments, get, getMany, send };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['message'] } },
    options: [
      { name: 'Download Attachments', value: 'downloadAttachments', action: 'Download the attachments of a message', description: 'Download and decrypt the attachments of a message into binary data' },
      { name: 'Get', value: 'get', action: 'Get a message', description: 'Get and decrypt one message' },
      { name: 'Get Many', value: 'getMany', action: 'Get many messages', description: 'Get messages (received by default, or sent, or both), newest first' },
      { name: 'Send', value: 'send', action: 'Send a message', description: 'Send a Mail or other content, with attachments from binary data' },
    ],
    default: 'send',
  },
  ...send.description,
  ...get.description,
  ...getMany.description,
  ...downloadAttachments.description,
];
