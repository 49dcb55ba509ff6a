import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { listOwnAttributes, listPeerAttributes, listRelationshipAttributes, listSharedAttributes, type Participant } from '../../../../../lib/protocol';
import { ownAttributeToJson, peerAttributeToJson, relationshipAttributeToJson, sharedAttributeToJson } from '../../../../shared/request-output';
import { limitField, peerLocator, returnAllField } from '../../../v1/helpers/fields';
import { item, locatorValue, requireAddress } from '../../../v1/helpers/utils';
import { identityValueTypeOptions } from '../request/shared';

const properties: INodeProperties[] = [
  {
    displayName: 'Which',
    name: 'which',
    type: 'options',
    noDataExpression: true,
    default: 'own',
    options: [
      { name: 'Our Own', value: 'own', description: 'Your identity attributes, e.g. your display name' },
      { name: 'Of a Peer', value: 'peer', description: 'What a peer shared with you (its answers to your Requests, and what it offered)' },
      { name: 'Shared With a Peer', value: 'shared', description: 'Your attributes a peer holds a copy of' },
      { name: 'Of Our Relationship', value: 'relationship', description: 'Attributes that exist only in the relationship with a peer' },
    ],
  },
  { ...peerLocator('peer', 'Peer', 'The peer whose attributes to list'), displayOptions: { show: { which: ['peer', 'shared', 'relationship'] } } },
  returnAllField,
  limitField,
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    options: [
      { displayName: 'Attribute Type', name: 'valueType', type: 'options', default: 'EMailAddress', options: identityValueTypeOptions, description: 'Only attributes of this type' },
      { displayName: 'Include Old Versions', name: 'versions', type: 'boolean', default: false, description: 'Whether to include replaced and deleted versions' },
    ],
  },
];

export const description = updateDisplayOptions({ show: { resource: ['attribute'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const which = this.getNodeParameter('which', i) as string;
  const limit = this.getNodeParameter('returnAll', i) ? Infinity : (this.getNodeParameter('limit', i) as number);
  const options = this.getNodeParameter('options', i, {}) as { valueType?: string; versions?: boolean };
  let out: IDataObject[];
  if (which === 'own') out = (await listOwnAttributes(participant, { versions: options.versions })).map(ownAttributeToJson);
  else {
    const peer = requireAddress(this, locatorValue(this, 'peer', i), i, 'Peer');
    if (which === 'peer') out = (await listPeerAttributes(participant, peer, options)).map((a) => peerAttributeToJson({ ...a, peer }));
    else if (which === 'shared') out = (await listSharedAttributes(participant, peer, options)).map((s) => sharedAttributeToJson(s, peer));
    else out = (await listRelationshipAttributes(participant, peer, options)).map((r) => relationshipAttributeToJson(r, peer));
  }
  // Newest first, as the other Get Many operations.
  return out
    .filter((a) => !options.valueType || a.valueType === options.valueType)
    .reverse()
    .slice(0, limit)
    .map((json) => item(json, i));
}
