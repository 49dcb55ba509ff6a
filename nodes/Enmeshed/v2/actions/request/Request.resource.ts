import type { INodeProperties } from 'n8n-workflow';
import * as accept from './accept.operation';
import * as canAccept from './canAccept.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as reject from './reject.operation';
import * as send from './send.operation';

export { accept, canAccept, get, getMany, reject, send };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['request'] } },
    options: [
      { name: 'Accept', value: 'accept', action: 'Accept a received request', description: 'Answer a peer\'s Request: share what it asks for, agree to its consents' },
      { name: 'Can Accept', value: 'canAccept', action: 'Check whether a received request can be accepted', description: 'How each item would be answered, without answering' },
      { name: 'Get', value: 'get', action: 'Get a request', description: 'A Request you sent (with its answer) or received' },
      { name: 'Get Many', value: 'getMany', action: 'Get many requests', description: 'Requests you sent or received, newest first' },
      { name: 'Reject', value: 'reject', action: 'Reject a received request', description: 'Decline a peer\'s Request' },
      { name: 'Send', value: 'send', action: 'Send a request', description: 'Ask a peer for attributes, consent or answers' },
    ],
    default: 'send',
  },
  ...send.description,
  ...get.description,
  ...getMany.description,
  ...accept.description,
  ...canAccept.description,
  ...reject.description,
];
