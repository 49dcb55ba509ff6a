import type { INodeProperties } from 'n8n-workflow';

/**
 * Parameters several operations share. The resource locators carry no `validation`: n8n runs those
 * regexes in a vm with a 250 ms limit before the node starts, and under CPU load that failed whole
 * executions; the operations check addresses and ids themselves (requireAddress, requireId).
 */

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

/**
 * The options of what is shared as a link (templates, tokens), for `who` ("the person", "the
 * reader"): expiry, for one identity, a password or PIN, the QR code. Read them with
 * passwordProtection (utils) and daysFromNow.
 */
export function shareOptionFields(what: string, who: string, expiryDays: number): INodeProperties[] {
  return [
    { displayName: 'Expiry (Days)', name: 'expiryDays', type: 'number', typeOptions: { minValue: 1 }, default: expiryDays, description: `How long the ${what} can be used` },
    { displayName: 'For Identity', name: 'forIdentity', type: 'string', default: '', placeholder: 'did:e:…', description: `Only this identity may use the ${what}` },
    { displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '', description: `A password ${who} must enter (instead of a PIN)` },
    { displayName: 'PIN', name: 'pin', type: 'string', typeOptions: { password: true }, default: '', description: `A PIN of 4 to 16 digits ${who} must enter` },
    { displayName: 'QR Code Output Field', name: 'qrProperty', type: 'string', default: 'qrCode', description: 'Binary field for the QR code (PNG) the App scans; empty for none' },
  ];
}
