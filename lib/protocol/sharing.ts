import { parseSecretKey, secretKeyToJson } from '../crypto';
import { ProtocolError } from './errors';
import { getFile, type StoredFile } from './files';
import type { Participant } from './participant';
import { parseReference, referenceToUrl, referenceKind, truncateReference, type Reference } from './references';
import { cryptoJson } from './serialize';
import { loadTemplate, readOwnTemplate, type LoadedTemplate } from './templates';
import { checkShareLimits, createToken, passwordSetup, readToken, type PasswordInput } from './tokens';

/**
 * Sharing our files and templates as tokens (a short link, truncated reference or QR code that
 * carries the id and key), and opening what a peer shared: a token, or the direct reference of a
 * file or template. Token contents are what @nmshd/transport reads: TokenContentFile and
 * TokenContentRelationshipTemplate.
 */

export interface TokenOptions {
  expiresAt: string;
  /** Only this identity may read the token. */
  forIdentity?: string;
  /** A password or PIN the reader must give. */
  password?: PasswordInput;
}

export interface SharedToken {
  id: string;
  expiresAt: string;
  forIdentity?: string;
  reference: Reference;
  truncatedReference: string;
  url: string;
}

async function shareAsToken(ctx: Participant, content: Record<string, unknown>, options: TokenOptions): Promise<SharedToken> {
  const expires = checkShareLimits(ctx, 'token', options.expiresAt, options.forIdentity);
  const password = options.password ? passwordSetup(options.password) : undefined;
  const token = await createToken(ctx, content, { expiresAt: expires.toISOString(), forIdentity: options.forIdentity, password: password?.hash });
  const reference: Reference = {
    id: token.id,
    key: token.key,
    backboneBaseUrl: ctx.baseUrl,
    forIdentityTruncated: options.forIdentity?.slice(-4),
    passwordProtection: password?.protection,
  };
  return { id: token.id, expiresAt: token.expiresAt, forIdentity: options.forIdentity, reference, truncatedReference: truncateReference(reference), url: referenceToUrl(reference) };
}

/** A token for one of our files (read and proven ours first). */
export async function createFileToken(ctx: Participant, fileId: string, options: TokenOptions): Promise<SharedToken> {
  const file = await getFile(ctx, fileId);
  return shareAsToken(ctx, { '@type': 'TokenContentFile', fileId: file.id, secretKey: cryptoJson(secretKeyToJson(file.reference.key, false)) }, options);
}

/**
 * A token for one of our templates (read and proven ours first). A template made with a password
 * needs the token its creation returned: the password's salt is only in that reference.
 */
export async function createTemplateTokenFor(ctx: Participant, templateId: string, options: TokenOptions): Promise<SharedToken> {
  const template = await readOwnTemplate(ctx, templateId);
  const content: Record<string, unknown> = {
    '@type': 'TokenContentRelationshipTemplate',
    secretKey: cryptoJson(secretKeyToJson(template.key, false)),
    templateId: template.id,
  };
  if (template.forIdentity) content.forIdentity = template.forIdentity;
  return shareAsToken(ctx, content, options);
}

export type Shared = { kind: 'file'; file: StoredFile } | { kind: 'relationshipTemplate'; template: LoadedTemplate };

/** Opens what a peer shared: a token (of a file or template), or a file's or template's own reference. */
export async function loadShared(ctx: Participant, referenceText: string, password?: string): Promise<Shared> {
  let reference: Reference;
  try {
    reference = parseReference(referenceText);
  } catch (error) {
    throw new ProtocolError('protocol.reference.invalid', 'This is not a token, file or template reference, nor an enmeshed link', undefined, error);
  }
  const kind = referenceKind(reference.id);
  if (kind === 'RelationshipTemplate') return { kind: 'relationshipTemplate', template: await loadTemplate(ctx, referenceText, password) };
  if (kind === 'File') return { kind: 'file', file: await getFile(ctx, { id: reference.id, key: reference.key, backboneBaseUrl: reference.backboneBaseUrl ?? ctx.baseUrl }) };
  const token = await readToken(ctx.client, reference, password);
  if (token['@type'] === 'TokenContentRelationshipTemplate') return { kind: 'relationshipTemplate', template: await loadTemplate(ctx, referenceText, password) };
  if (token['@type'] === 'TokenContentFile' && typeof token.fileId === 'string' && /^FIL[A-Za-z0-9]{17}$/.test(token.fileId)) {
    const key = parseSecretKey(token.secretKey, 'file key in token');
    return { kind: 'file', file: await getFile(ctx, { id: token.fileId, key, backboneBaseUrl: reference.backboneBaseUrl ?? ctx.baseUrl }) };
  }
  throw new ProtocolError('protocol.reference.invalid', `Token ${reference.id} shares a ${String(token['@type'])}, not a file or template`, reference.id);
}
