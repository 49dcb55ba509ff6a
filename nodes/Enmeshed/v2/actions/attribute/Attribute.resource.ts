import type { INodeProperties } from 'n8n-workflow';
import * as create from './create.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as update from './update.operation';

export { create, get, getMany, update };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['attribute'] } },
    options: [
      { name: 'Create', value: 'create', action: 'Create an own attribute', description: 'An attribute of yours that peers can ask for, e.g. your display name or e-mail address' },
      { name: 'Get', value: 'get', action: 'Get an attribute', description: 'One of your attributes, or one a peer gave you' },
      { name: 'Get Many', value: 'getMany', action: 'Get many attributes', description: 'Your attributes, a peer\'s, those shared with a peer, or those of a relationship' },
      { name: 'Update', value: 'update', action: 'Update an own attribute', description: 'Replace an own attribute by a new version with a new value' },
    ],
    default: 'getMany',
  },
  ...create.description,
  ...get.description,
  ...getMany.description,
  ...update.description,
];
