import type { INodeProperties } from 'n8n-workflow';
import * as v1 from '../../../v1/actions/message/Message.resource';
import { operationSelector } from '../../helpers/operations';
import * as send from './send.operation';

const { downloadAttachments, get, getMany } = v1;
export { downloadAttachments, get, getMany, send };

export const description: INodeProperties[] = [
  operationSelector(v1.description, [
    { name: 'Send', value: 'send', action: 'Send a message', description: 'Send a Mail or other content, with attachments from binary data or existing files' },
  ]),
  ...send.description,
  ...get.description,
  ...getMany.description,
  ...downloadAttachments.description,
];
