import type { INodeTypeDescription } from 'n8n-workflow';
import { versionDescription as v1 } from '../../v1/actions/versionDescription';
import * as attribute from './attribute/Attribute.resource';
import * as file from './file/File.resource';
import * as identity from './identity/Identity.resource';
import * as message from './message/Message.resource';
import * as relationship from './relationship/Relationship.resource';
import * as relationshipTemplate from './relationshipTemplate/RelationshipTemplate.resource';
import * as token from './token/Token.resource';
import * as request from './request/Request.resource';

export const versionDescription: INodeTypeDescription = {
  ...v1,
  version: 2,
  properties: [
    {
      displayName: 'Resource',
      name: 'resource',
      type: 'options',
      noDataExpression: true,
      options: [
        { name: 'Attribute', value: 'attribute' },
        { name: 'File', value: 'file' },
        { name: 'Identity', value: 'identity' },
        { name: 'Message', value: 'message' },
        { name: 'Relationship', value: 'relationship' },
        { name: 'Relationship Template', value: 'relationshipTemplate' },
        { name: 'Request', value: 'request' },
        { name: 'Token', value: 'token' },
      ],
      default: 'message',
    },
    ...message.description,
    ...file.description,
    ...relationshipTemplate.description,
    ...relationship.description,
    ...identity.description,
    ...token.description,
    ...request.description,
    ...attribute.description,
  ],
};
