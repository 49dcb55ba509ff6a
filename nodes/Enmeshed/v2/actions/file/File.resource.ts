import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/file/File.resource';
import { operationSelector } from '../../helpers/operations';
import * as deleteFile from './delete.operation';

const { download, get, getMany, upload } = v1;
export { deleteFile as delete, download, get, getMany, upload };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [{ name: 'Delete', value: 'delete', action: 'Delete a file', description: 'Delete a file you uploaded' }]),
  ...v1.description.filter((p) => p.name !== 'operation'),
  ...deleteFile.description,
];
