import type { INodeTypeBaseDescription, IVersionedNodeType } from 'n8n-workflow';
import { VersionedNodeType } from 'n8n-workflow';
import { EnmeshedV1 } from './v1/EnmeshedV1.node';
import { EnmeshedV2 } from './v2/EnmeshedV2.node';

/** New workflows get v2; workflows saved with v1 keep its parameters and behaviour. */
export class Enmeshed extends VersionedNodeType {
  constructor() {
    const baseDescription: INodeTypeBaseDescription = {
      displayName: 'Enmeshed',
      name: 'enmeshed',
      icon: { light: 'file:../../icons/enmeshed.svg', dark: 'file:../../icons/enmeshed.dark.svg' },
      group: ['transform'],
      subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
      description: 'Send and receive end-to-end encrypted messages and files over enmeshed',
      defaultVersion: 2,
    };
    const nodeVersions: IVersionedNodeType['nodeVersions'] = {
      1: new EnmeshedV1(baseDescription),
      2: new EnmeshedV2(baseDescription),
    };
    super(nodeVersions, baseDescription);
  }
}
