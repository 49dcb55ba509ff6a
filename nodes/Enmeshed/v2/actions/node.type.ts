import type { AllEntities } from 'n8n-workflow';

type NodeMap = {
  message: 'send' | 'get' | 'getMany' | 'downloadAttachments' | 'markAsRead' | 'markAsUnread';
  file: 'upload' | 'download' | 'get' | 'getMany' | 'delete';
  relationshipTemplate: 'create' | 'get' | 'load' | 'delete';
  relationship: 'create' | 'get' | 'getMany' | 'accept' | 'reject' | 'revoke' | 'terminate' | 'decompose';
  identity: 'get' | 'startDeletion' | 'cancelDeletion' | 'getDeletionStatus';
  token: 'create' | 'load';
  request: 'send' | 'get' | 'getMany' | 'accept' | 'canAccept' | 'reject';
  attribute: 'create' | 'get' | 'getMany' | 'update';
};

export type EnmeshedType = AllEntities<NodeMap>;
