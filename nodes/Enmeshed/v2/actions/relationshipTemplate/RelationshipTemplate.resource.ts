import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/relationshipTemplate/RelationshipTemplate.resource';
import { operationSelector } from '../../helpers/operations';
import * as deleteTemplate from './delete.operation';

const { create, get, load } = v1;
export { create, deleteTemplate as delete, get, load };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [
    { name: 'Delete', value: 'delete', action: 'Delete a relationship template', description: 'Delete one of your templates: nobody can use it any more' },
  ]),
  ...v1.description.filter((p) => p.name !== 'operation'),
  ...deleteTemplate.description,
];
