import type { INodeProperties } from 'n8n-workflow';
import * as get from './get.operation';

export { get };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['identity'] } },
    options: [{ name: 'Get', value: 'get', action: 'Get the identity', description: 'Get the address and public key of the credential\'s identity' }],
    default: 'get',
  },
  ...get.description,
];
