/**
 * Backbone error codes and the ApiError thrown by handlers. The router turns it into the error envelope
 * {"error":{id,code,message,docs,time,data}}.
 */
export const Codes = {
  recordNotFound: 'error.platform.recordNotFound',
  unauthorized: 'error.platform.unauthorized',
  forbidden: 'error.platform.forbidden',
  quotaExhausted: 'error.platform.quotaExhausted',
  inputCannotBeParsed: 'error.platform.inputCannotBeParsed',
  unexpected: 'error.platform.unexpected',
  requestBodyTooLarge: 'error.platform.requestBodyTooLarge',
  invalidPropertyValue: 'error.platform.validation.invalidPropertyValue',
  invalidPageSize: 'error.platform.validation.pagination.invalidPageSize',
  invalidId: 'error.platform.validation.invalidId',
  invalidDeviceCommunicationLanguage: 'error.platform.validation.invalidDeviceCommunicationLanguage',
  device: {
    invalidSignature: 'error.platform.validation.device.invalidSignature',
    challengeHasExpired: 'error.platform.validation.device.challengeHasExpired',
    addressAlreadyExists: 'error.platform.validation.device.addressAlreadyExists',
    clientReachedIdentitiesLimit: 'error.platform.validation.device.clientReachedIdentitiesLimit',
    registrationFailed: 'error.platform.validation.device.registrationFailed',
    changePasswordFailed: 'error.platform.validation.device.changePasswordFailed',
    onlyOneBackupDeviceCanExist: 'error.platform.validation.device.onlyOneBackupDeviceCanExist',
    onlyOneActiveDeletionProcessAllowed: 'error.platform.validation.device.onlyOneActiveDeletionProcessAllowed',
  },
  datawallet: {
    insufficientSupportedDatawalletVersion: 'error.platform.validation.datawallet.insufficientSupportedDatawalletVersion',
    cannotPushDuringActiveSyncRun: 'error.platform.validation.datawallet.cannotPushDatawalletModificationsDuringActiveSyncRun',
    datawalletNotUpToDate: 'error.platform.validation.datawallet.datawalletNotUpToDate',
    versionOfModificationTooHigh: 'error.platform.datawallet.datawalletVersionOfModificationTooHigh',
    cannotDowngrade: 'error.platform.datawallet.cannotDowngrade',
  },
  syncRun: {
    identityToBeDeleted: 'error.platform.validation.syncRun.cannotStartSyncRunWhileIdentityIsToBeDeleted',
    anotherRunning: 'error.platform.validation.syncRun.cannotStartSyncRunWhenAnotherSyncRunIsRunning',
    readByAnotherDevice: 'error.platform.validation.syncRun.cannotReadExternalEventsOfASyncRunStartedByAnotherDevice',
    alreadyFinalized: 'error.platform.validation.syncRun.syncRunAlreadyFinalized',
    finalizeByAnotherDevice: 'error.platform.validation.syncRun.cannotFinalizeSyncRunStartedByAnotherDevice',
    unexpectedType: 'error.platform.validation.syncRun.unexpectedSyncRunType',
    refreshByAnotherDevice: 'error.platform.validation.syncRun.cannotRefreshExpirationTimeOfSyncRunStartedByAnotherDevice',
  },
  template: {
    exhausted: 'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted',
  },
  relationship: {
    peerIsToBeDeleted: 'error.platform.validation.relationship.peerIsToBeDeleted',
    withYourself: 'error.platform.validation.relationship.cannotCreateRelationshipWithYourself',
    alreadyExists: 'error.platform.validation.relationship.relationshipToTargetAlreadyExists',
    wrongStatus: 'error.platform.validation.relationship.relationshipIsNotInCorrectStatus',
    acceptOrRejectNotAddressed: 'error.platform.validation.relationship.cannotAcceptOrRejectRelationshipAddressedToSomeoneElse',
    revokeNotCreated: 'error.platform.validation.relationship.cannotRevokeRelationshipNotCreatedByYourself',
    openReactivation: 'error.platform.validation.relationship.cannotRequestReactivationWhenThereIsAnOpenReactivationRequest',
    noAcceptableReactivation: 'error.platform.validation.relationship.noAcceptableRelationshipReactivationRequestExists',
    noRejectableReactivation: 'error.platform.validation.relationship.noRejectableReactivationRequestExists',
    noRevocableReactivation: 'error.platform.validation.relationship.noRevocableReactivationRequestExists',
    alreadyDecomposed: 'error.platform.validation.relationship.relationshipAlreadyDecomposed',
    notInRelationship: 'error.platform.validation.relationship.requestingIdentityDoesNotBelongToRelationship',
  },
  message: {
    noRelationship: 'error.platform.validation.message.noRelationshipToRecipientExists',
    relationshipNotActive: 'error.platform.validation.message.relationshipToRecipientNotActive',
    maxUnreceived: 'error.platform.validation.message.maxNumberOfUnreceivedMessagesReached',
  },
  file: {
    cannotClaimOwnFile: 'error.platform.validation.file.cannotClaimOwnershipOfOwnFile',
  },
  token: {
    tooManyFailedPasswordAttempts: 'error.platform.token.tooManyFailedPasswordAttempts',
    contentAlreadyExists: 'error.platform.token.contentUpdateNotPossibleBecauseContentAlreadyExists',
  },
  notification: {
    codeDoesNotExist: 'error.platform.validation.notification.codeDoesNotExist',
    noRelationship: 'error.platform.validation.notification.noRelationshipToOneOrMoreRecipientsExists',
    wrongStatus: 'error.platform.validation.notification.relationshipToRecipientIsNotInCorrectStatus',
  },
} as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string): ApiError => new ApiError(400, code, message);
export const invalid = (message: string): ApiError => new ApiError(400, Codes.invalidPropertyValue, message);
export const cannotParse = (path: string, reason: string): ApiError =>
  new ApiError(400, Codes.inputCannotBeParsed, `'${path}': ${reason}`);
export const forbidden = (message = 'You are not allowed to perform this action.'): ApiError =>
  new ApiError(403, Codes.forbidden, message);
export const notFound = (entity: string): ApiError =>
  new ApiError(
    404,
    Codes.recordNotFound,
    `${entity} not found. Make sure the ID exists and the record is not expired. If a password is required to fetch the record, make sure you passed the correct one.`,
  );

/** Thrown for bare-401 answers (missing/bad/expired bearer token): no JSON body, like the real server. */
export class UnauthorizedError extends Error {}

/** OAuth-style error JSON of /connect/token (not the envelope). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}
