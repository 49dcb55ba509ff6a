import type { INodeProperties } from 'n8n-workflow';
import * as download from './download.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as upload from './upload.operation';

export { download, get, getMany, upload };

export const description: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['file'] } },
    options: [
      { name: 'Download', value: 'download', action: 'Download a file', description: 'Download and decrypt a file into binary data' },
      { name: 'Get', value: 'get', action: 'Get a file', description: 'Get the decrypted metadata of a file' },
      { name: 'Get Many', value: 'getMany', action: 'Get many files', description: 'Get the files you uploaded, newest first' },
      { name: 'Upload', value: 'upload', action: 'Upload a file', description: 'Encrypt binary data and upload it as an enmeshed file' },
    ],
    default: 'upload',
  },
  ...upload.description,
  ...download.description,
  ...get.description,
  ...getMany.description,
];
