import type { INodeProperties } from 'n8n-workflow';
import * as create from './create.operation';
import * as get from './get.operation';
import * as load from './load.operation';

export { create, get, load };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['relationshipTemplate'] } },
    options: [
      { name: 'Create', value: 'create', action: 'Create a relationship template', description: 'Create a template, with a link and QR code people open in the enmeshed App' },
      { name: 'Get', value: 'get', action: 'Get a relationship template', description: 'Get one of your templates' },
      { name: 'Load', value: 'load', action: 'Load a peer template', description: 'Read and verify a peer\'s template from its reference' },
    ],
    default: 'create',
  },
  ...create.description,
  ...get.description,
  ...load.description,
];
