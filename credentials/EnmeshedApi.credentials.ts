import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * One enmeshed identity. The identity JSON comes from `npx n8n-nodes-enmeshed create-identity`
 * (address, device username and id, and the one secret every key of the identity is derived from).
 * The credential is tested by the Enmeshed node (`testedBy`), which logs in and checks that the
 * secret belongs to the address — something a plain HTTP test request cannot do. There is no `test`
 * request here on purpose: n8n runs a credential type's own `test` and then never reaches the
 * node's `testedBy`, so a request that needs no secret would pass every credential.
 */
export class EnmeshedApi implements ICredentialType {
  name = 'enmeshedApi';

  displayName = 'Enmeshed API';

  icon: Icon = { light: 'file:../icons/enmeshed.svg', dark: 'file:../icons/enmeshed.dark.svg' };

  documentationUrl = 'https://github.com/n8n-nodes-enmeshed/n8n-nodes-enmeshed#credentials';

  properties: INodeProperties[] = [
    {
      displayName: 'Platform URL',
      name: 'platformUrl',
      type: 'string',
      default: '',
      placeholder: 'https://backbone.example.org',
      required: true,
      description: 'Base URL of the enmeshed Backbone (Platform) the identity lives on',
    },
    {
      displayName: 'Client ID',
      name: 'clientId',
      type: 'string',
      default: '',
      required: true,
      description: 'OAuth client ID given by the Platform operator',
    },
    {
      displayName: 'Client Secret',
      name: 'clientSecret',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      description: 'OAuth client secret given by the Platform operator',
    },
    // It holds the identity's secret key material, so it is masked like a password.
    // eslint-disable-next-line @n8n/community-nodes/credential-unnecessary-password
    {
      displayName: 'Identity',
      name: 'identity',
      type: 'string',
      typeOptions: { password: true, rows: 4 },
      default: '',
      required: true,
      placeholder: '{"v":1,"address":"did:e:…","username":"USR…","deviceId":"DVC…","secret":"…"}',
      description:
        'The "identity" value printed by <code>npx n8n-nodes-enmeshed create-identity</code>, pasted unchanged. It holds the identity\'s secret: keep it only here.',
    },
  ];
}
