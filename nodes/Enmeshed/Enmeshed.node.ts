import type { INodeTypeBaseDescription, IVersionedNodeType } from 'n8n-workflow';
import { VersionedNodeType } from 'n8n-workflow';
import { EnmeshedV1 } from './v1/EnmeshedV1.node';

/** Versioned from the start: a future rewrite adds v2 beside v1 and existing workflows keep working. */
export class Enmeshed extends VersionedNodeType {
  constructor() {
    const baseDescription: INodeTypeBaseDescription = {
      displayName: 'Enmeshed',
      name: 'enmeshed',
      icon: { light: 'file:../../icons/enmeshed.svg', dark: 'file:../../icons/enmeshed.dark.svg' },
      group: ['transform'],
      subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
      description: 'Send and receive end-to-end encrypted messages and files over enmeshed',
      defaultVersion: 1,
    };
    const nodeVersions: IVersionedNodeType['nodeVersions'] = {
      1: new EnmeshedV1(baseDescription),
    };
    super(nodeVersions, baseDescription);
  }
}
