import type { INodeProperties } from 'n8n-workflow';
import { ADDRESS_REGEX } from './utils';

/** Parameters several operations share. */

export const peerLocator = (name: string, displayName: string, description: string): INodeProperties => ({
  displayName,
  name,
  type: 'resourceLocator',
  default: { mode: 'list', value: '' },
  required: true,
  description,
  modes: [
    {
      displayName: 'From Relationships',
      name: 'list',
      type: 'list',
      typeOptions: { searchListMethod: 'searchPeers', searchable: true },
    },
    {
      displayName: 'By Address',
      name: 'address',
      type: 'string',
      placeholder: 'did:e:backbone.example.org:dids:0123456789abcdef012345',
      validation: [{ type: 'regex', properties: { regex: ADDRESS_REGEX, errorMessage: 'An enmeshed address looks like did:e:<domain>:dids:<22 hex characters>' } }],
    },
  ],
});

export const relationshipLocator: INodeProperties = {
  displayName: 'Relationship',
  name: 'relationshipId',
  type: 'resourceLocator',
  default: { mode: 'list', value: '' },
  required: true,
  description: 'The relationship to act on',
  modes: [
    {
      displayName: 'From List',
      name: 'list',
      type: 'list',
      typeOptions: { searchListMethod: 'searchRelationships', searchable: true },
    },
    {
      displayName: 'By ID',
      name: 'id',
      type: 'string',
      placeholder: 'RELxxxxxxxxxxxxxxxxx',
      validation: [{ type: 'regex', properties: { regex: '^REL[A-Za-z0-9]{17}$', errorMessage: 'A relationship ID is REL followed by 17 letters or digits' } }],
    },
  ],
};

export const messageIdField: INodeProperties = {
  displayName: 'Message ID',
  name: 'messageId',
  type: 'string',
  default: '',
  required: true,
  placeholder: 'MSGxxxxxxxxxxxxxxxxx',
  description: 'ID of the message (e.g. from the Enmeshed Trigger)',
};

export const simplifyField: INodeProperties = {
  displayName: 'Simplify',
  name: 'simplify',
  type: 'boolean',
  default: true,
  description: 'Whether to return a simplified version of the response instead of the raw data',
};

export const returnAllField: INodeProperties = {
  displayName: 'Return All',
  name: 'returnAll',
  type: 'boolean',
  default: false,
  description: 'Whether to return all results or only up to a given limit',
};

export const limitField: INodeProperties = {
  displayName: 'Limit',
  name: 'limit',
  type: 'number',
  typeOptions: { minValue: 1 },
  default: 50,
  description: 'Max number of results to return',
  displayOptions: { show: { returnAll: [false] } },
};
