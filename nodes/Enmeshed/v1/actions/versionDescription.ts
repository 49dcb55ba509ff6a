/* eslint-disable n8n-nodes-base/node-filename-against-convention -- the versioned layout of n8n-nodes-base (Airtable v2) keeps the description here */
import type { INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as file from './file/File.resource';
import * as identity from './identity/Identity.resource';
import * as message from './message/Message.resource';
import * as relationship from './relationship/Relationship.resource';
import * as relationshipTemplate from './relationshipTemplate/RelationshipTemplate.resource';

export const versionDescription: INodeTypeDescription = {
  displayName: 'Enmeshed',
  name: 'enmeshed',
  icon: { light: 'file:../../icons/enmeshed.svg', dark: 'file:../../icons/enmeshed.dark.svg' },
  group: ['transform'],
  version: 1,
  subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
  description: 'Send and receive end-to-end encrypted messages and files over enmeshed',
  defaults: { name: 'Enmeshed' },
  usableAsTool: true,
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [{ name: 'enmeshedApi', required: true, testedBy: 'enmeshedApiTest' }],
  properties: [
    {
      displayName: 'Resource',
      name: 'resource',
      type: 'options',
      noDataExpression: true,
      options: [
        { name: 'File', value: 'file' },
        { name: 'Identity', value: 'identity' },
        { name: 'Message', value: 'message' },
        { name: 'Relationship', value: 'relationship' },
        { name: 'Relationship Template', value: 'relationshipTemplate' },
      ],
      default: 'message',
    },
    ...message.description,
    ...file.description,
    ...relationshipTemplate.description,
    ...relationship.description,
    ...identity.description,
  ],
};
