/** DTOs of the Backbone Consumer API v2, as the client reads them (dates are ISO strings). */

export interface ChallengeDto {
  id: string;
  expiresAt: string;
  createdBy?: string | null;
  createdByDevice?: string | null;
}

export interface CreateIdentityRequest {
  clientId: string;
  clientSecret: string;
  identityPublicKey: string;
  devicePassword: string;
  identityVersion: number;
  signedChallenge: { challenge: string; signature: string };
  deviceCommunicationLanguage?: string;
}

export interface CreatedIdentityDto {
  address: string;
  createdAt: string;
  device: { id: string; username: string; createdAt: string };
}

export interface IdentityDto {
  address: string;
  createdAt: string;
  identityVersion?: number;
  tierId?: string;
  status?: string;
  /** Set while a deletion process runs: the identity is deleted after it. */
  deletionGracePeriodEndsAt?: string | null;
}

/** An identity deletion process: Approved (running, can be cancelled), Cancelled, Deleting, … */
export interface DeletionProcessDto {
  id: string;
  status: string;
  createdAt: string;
  approvedAt?: string | null;
  gracePeriodEndsAt?: string | null;
  cancelledAt?: string | null;
}

export interface DeviceDto {
  id: string;
  username: string;
  createdAt: string;
  communicationLanguage?: string;
  isBackupDevice?: boolean;
}

export interface SyncRunDto {
  id: string;
  type: 'ExternalEventSync' | 'DatawalletVersionUpgrade';
  expiresAt: string;
  index: number;
  createdAt: string;
  createdBy: string;
  createdByDevice: string;
  eventCount: number;
}

export interface StartSyncRunResult {
  status: 'Created' | 'NoNewEvents';
  syncRun: SyncRunDto | null;
}

export interface ExternalEventDto {
  id: string;
  type: string;
  index: number;
  createdAt: string;
  syncErrorCount: number;
  payload: Record<string, unknown>;
}

export interface ExternalEventResult {
  externalEventId: string;
  errorCode?: string;
}

export interface DatawalletModificationInput {
  type: 'Create' | 'Update' | 'Delete' | 'CacheChanged';
  objectIdentifier: string;
  collection: string;
  payloadCategory?: string | null;
  encryptedPayload?: string | null;
  datawalletVersion: number;
}

export interface DatawalletModificationDto extends DatawalletModificationInput {
  id: string;
  index: number;
  createdAt: string;
  createdByDevice: string;
}

export interface PushModificationsResult {
  newIndex: number;
  modifications: { id: string; index: number; createdAt: string }[];
}

export interface FinalizeSyncResult {
  newDatawalletModificationIndex: number | null;
  datawalletModifications: { id: string; index: number; createdAt: string }[];
  newUnsyncedExternalEventsExist?: boolean;
}

export interface CreateTemplateRequest {
  content: string;
  expiresAt?: string;
  maxNumberOfAllocations?: number;
  forIdentity?: string;
  /** Standard base64 of the Argon2id hash. */
  password?: string;
}

export interface TemplateDto {
  id: string;
  createdBy: string;
  createdByDevice: string;
  maxNumberOfAllocations?: number | null;
  expiresAt?: string | null;
  content: string;
  createdAt: string;
  forIdentity?: string | null;
}

export type RelationshipStatus = 'Pending' | 'Active' | 'Rejected' | 'Revoked' | 'Terminated' | 'DeletionProposed' | 'ReadyForDeletion';

export interface AuditLogEntryDto {
  createdAt: string;
  createdBy: string;
  createdByDevice: string;
  reason: string;
  oldStatus: RelationshipStatus | null;
  newStatus: RelationshipStatus;
}

export interface RelationshipDto {
  id: string;
  relationshipTemplateId: string;
  from: string;
  to: string;
  createdAt: string;
  status: RelationshipStatus;
  auditLog: AuditLogEntryDto[];
  creationContent?: string | null;
  creationResponseContent?: string | null;
}

export interface CanCreateRelationshipDto {
  canCreate: boolean;
  code?: string | null;
}

export interface SendMessageRequest {
  recipients: { address: string; encryptedKey: string }[];
  body: string;
  attachments: { id: string }[];
}

export interface MessageRecipientDto {
  address: string;
  encryptedKey: string;
  receivedAt: string | null;
  receivedByDevice: string | null;
}

export interface MessageDto {
  id: string;
  createdAt: string;
  createdBy: string;
  createdByDevice: string;
  body: string;
  attachments: { id: string }[];
  recipients: MessageRecipientDto[];
}

export interface UploadFileRequest {
  /** The encrypted blob (UTF-8 cipher JSON). */
  content: Buffer;
  cipherHash: string;
  owner: string;
  ownerSignature: string;
  expiresAt: string;
  encryptedProperties: string;
}

export interface FileMetadataDto {
  id: string;
  createdAt: string;
  createdBy: string;
  createdByDevice: string;
  owner: string;
  ownerSignature: string;
  ownershipToken?: string;
  cipherSize: number;
  cipherHash: string;
  expiresAt: string;
  encryptedProperties?: string;
  deletedAt?: string | null;
}

export interface CreateTokenRequest {
  content: string;
  expiresAt: string;
  forIdentity?: string;
  password?: string;
}

export interface TokenDto {
  id: string;
  createdBy: string | null;
  createdByDevice: string | null;
  forIdentity: string | null;
  createdAt: string;
  expiresAt: string;
  content: string | null;
  isPasswordProtected?: boolean;
}

export interface Pagination {
  pageNumber: number;
  pageSize: number;
  totalPages: number;
  totalRecords: number;
}
