import type { INodeProperties } from 'n8n-workflow';
import * as create from './create.operation';
import * as load from './load.operation';

export { create, load };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['token'] } },
    options: [
      { name: 'Create', value: 'create', action: 'Create a token', description: 'Share one of your files or templates as a link, truncated reference and QR code' },
      { name: 'Load', value: 'load', action: 'Load a token', description: 'Open what a peer shared: a token, or a file or template reference' },
    ],
    default: 'create',
  },
  ...create.description,
  ...load.description,
];
