import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeBaseDescription, INodeTypeDescription } from 'n8n-workflow';
import { enmeshedApiTest } from '../v1/methods/credentialTest';
import { searchPeers, searchRelationships } from '../v1/methods/listSearch';
import { router } from './actions/router';
import { versionDescription } from './actions/versionDescription';

// The icon comes with versionDescription (spread in the constructor), which the rule cannot see.
// eslint-disable-next-line @n8n/community-nodes/icon-validation
export class EnmeshedV2 implements INodeType {
  description: INodeTypeDescription;

  constructor(baseDescription: INodeTypeBaseDescription) {
    this.description = { ...baseDescription, ...versionDescription };
  }

  methods = {
    listSearch: { searchPeers, searchRelationships },
    credentialTest: { enmeshedApiTest },
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return await router.call(this);
  }
}
