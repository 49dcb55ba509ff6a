import type { INodeProperties } from 'n8n-workflow';
import * as accept from './accept.operation';
import * as create from './create.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as reject from './reject.operation';
import * as revoke from './revoke.operation';
import * as terminate from './terminate.operation';

export { accept, create, get, getMany, reject, revoke, terminate };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['relationship'] } },
    options: [
      { name: 'Accept', value: 'accept', action: 'Accept a relationship request', description: 'Accept a pending request to one of your templates' },
      { name: 'Create', value: 'create', action: 'Create a relationship', description: 'Request a relationship from a peer\'s template' },
      { name: 'Get', value: 'get', action: 'Get a relationship', description: 'Get one relationship with its status and history' },
      { name: 'Get Many', value: 'getMany', action: 'Get many relationships', description: 'Get your relationships, newest first' },
      { name: 'Reject', value: 'reject', action: 'Reject a relationship request', description: 'Reject a pending request to one of your templates' },
      { name: 'Revoke', value: 'revoke', action: 'Revoke a relationship request', description: 'Withdraw a pending request you made' },
      { name: 'Terminate', value: 'terminate', action: 'Terminate a relationship', description: 'End an active relationship' },
    ],
    default: 'getMany',
  },
  ...create.description,
  ...get.description,
  ...getMany.description,
  ...accept.description,
  ...reject.description,
  ...revoke.description,
  ...terminate.description,
];
