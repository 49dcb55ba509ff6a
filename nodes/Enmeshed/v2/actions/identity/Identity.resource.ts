import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/identity/Identity.resource';
import { operationSelector } from '../../helpers/operations';
import * as cancelDeletion from './cancelDeletion.operation';
import * as getDeletionStatus from './getDeletionStatus.operation';
import * as startDeletion from './startDeletion.operation';

const { get } = v1;
export { cancelDeletion, get, getDeletionStatus, startDeletion };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [
    { name: 'Start Deletion', value: 'startDeletion', action: 'Start deleting the identity', description: 'Delete this identity after a grace period' },
    { name: 'Cancel Deletion', value: 'cancelDeletion', action: 'Cancel the deletion of the identity', description: 'Stop a running deletion of this identity' },
    { name: 'Get Deletion Status', value: 'getDeletionStatus', action: 'Get the deletion status of the identity', description: 'Whether and when this identity will be deleted' },
  ]),
  ...v1.description.filter((p) => p.name !== 'operation'),
  ...startDeletion.description,
  ...cancelDeletion.description,
  ...getDeletionStatus.description,
];
