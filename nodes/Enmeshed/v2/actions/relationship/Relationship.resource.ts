import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/relationship/Relationship.resource';
import { operationSelector } from '../../helpers/operations';
import * as decompose from './decompose.operation';

const { accept, create, get, getMany, reject, revoke, terminate } = v1;
export { accept, create, decompose, get, getMany, reject, revoke, terminate };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [
    { name: 'Decompose', value: 'decompose', action: 'Decompose a relationship', description: 'Delete an ended (rejected, revoked or terminated) relationship' },
  ]),
  ...v1.description.filter((p) => p.name !== 'operation'),
  ...decompose.description,
];
