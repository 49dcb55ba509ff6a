import type { AllEntities } from 'n8n-workflow';

type NodeMap = {
  message: 'send' | 'get' | 'getMany' | 'downloadAttachments';
  file: 'upload' | 'download' | 'get' | 'getMany';
  relationshipTemplate: 'create' | 'get' | 'load';
  relationship: 'create' | 'get' | 'getMany' | 'accept' | 'reject' | 'revoke' | 'terminate';
  identity: 'get';
  request: 'send' | 'get' | 'getMany' | 'accept' | 'canAccept' | 'reject';
  attribute: 'create' | 'get' | 'getMany' | 'update';
};

export type EnmeshedType = AllEntities<NodeMap>;
