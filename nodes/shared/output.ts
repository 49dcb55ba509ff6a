import type { IDataObject } from 'n8n-workflow';
import { toBase64Url } from '../../lib/crypto';
import { isMail, peerDisplayName, truncateReference, type LoadedTemplate, type Message, type Relationship, type StoredFile } from '../../lib/protocol';

/**
 * Output items shaped like the enmeshed Connector's DTOs (ids, addresses, ISO dates, decrypted
 * content), so workflows built against the Connector read the same fields. No key material.
 */

export function messageToJson(message: Message, relationshipByPeer?: (peer: string) => string | undefined): IDataObject {
  return {
    id: message.id,
    isOwn: message.isOwn,
    content: message.content as unknown as IDataObject,
    createdBy: message.createdBy,
    createdByDevice: message.createdByDevice,
    createdAt: message.createdAt,
    recipients: message.recipients.map((r) => ({
      address: r.address,
      relationshipId: message.isOwn ? relationshipByPeer?.(r.address) : message.relationshipId,
      receivedAt: r.receivedAt ?? undefined,
      receivedByDevice: r.receivedByDevice ?? undefined,
    })),
    attachments: message.attachments.map((a) => a.id),
    attachmentReferences: attachmentReferences(message),
  };
}

/**
 * The truncated reference of each attachment: what Message → Send takes as an existing file, so an
 * attachment can be sent on without downloading it. Carries the attachment's key, as a Mail's
 * attachment list does for every recipient.
 */
function attachmentReferences(message: Message): string[] {
  return message.attachments.map((a) => truncateReference({ id: a.id, key: a.key, backboneBaseUrl: a.backboneBaseUrl || undefined }));
}

/** Simplify: the fields people use of a Mail (or the raw content of anything else). */
export function simplifyMessage(message: Message): IDataObject {
  const base: IDataObject = {
    id: message.id,
    from: message.createdBy,
    date: message.createdAt,
    attachments: message.attachments.map((a) => a.id),
    attachmentReferences: attachmentReferences(message),
  };
  if (isMail(message.content)) {
    return {
      ...base,
      to: message.content.to,
      cc: message.content.cc ?? [],
      subject: message.content.subject,
      body: message.content.body,
      bodyFormat: message.content.bodyFormat ?? 'PlainText',
    };
  }
  return { ...base, type: message.content['@type'], content: message.content as unknown as IDataObject };
}

/** `displayName`: the peer's, when known from elsewhere (a list view carries no creation content). */
export function relationshipToJson(r: Relationship, displayName = peerDisplayName(r)): IDataObject {
  return {
    id: r.id,
    templateId: r.templateId,
    status: r.status,
    peer: r.peer,
    peerDisplayName: displayName,
    role: r.role === 'templator' ? 'Templator' : 'Requestor',
    createdAt: r.createdAt,
    peerIdentity: r.peerIdentity ? { address: r.peerIdentity.address, publicKey: toBase64Url(r.peerIdentity.publicKey.pub) } : undefined,
    creationContent: r.creationContent as IDataObject | undefined,
    peerDeletionInfo: r.peerDeletionInfo ? { ...r.peerDeletionInfo } : undefined,
    auditLog: r.auditLog.map((e) => ({
      createdAt: e.createdAt,
      createdBy: e.createdBy,
      createdByDevice: e.createdByDevice,
      reason: e.reason,
      oldStatus: e.oldStatus ?? undefined,
      newStatus: e.newStatus,
    })),
  };
}

export function fileToJson(file: StoredFile, ownAddress: string): IDataObject {
  return {
    id: file.id,
    filename: file.filename,
    filesize: file.filesize,
    mimetype: file.mimetype,
    title: file.title,
    description: file.description,
    createdAt: file.createdAt,
    createdBy: file.createdBy,
    expiresAt: file.expiresAt,
    isOwn: file.owner === ownAddress,
    owner: file.owner,
    truncatedReference: file.truncatedReference,
    reference: { truncated: file.truncatedReference, url: file.url },
  };
}

export function templateToJson(t: LoadedTemplate, ownAddress: string): IDataObject {
  return {
    id: t.id,
    isOwn: t.createdBy === ownAddress,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt ?? undefined,
    maxNumberOfAllocations: t.maxNumberOfAllocations ?? undefined,
    forIdentity: t.forIdentity ?? undefined,
    content: t.content as IDataObject,
  };
}
