import {
  EncryptionAlgorithm,
  ExchangeAlgorithm,
  HashAlgorithm,
  assertSignature,
  bytesEqual,
  cipherToJson,
  decrypt,
  deriveAddress,
  encrypt,
  fromUtf8,
  generateNonce,
  hostnameOf,
  parseCipher,
  parseExchangePublicKey,
  parseSecretKey,
  parseSignature,
  randomBytes,
  secretKeyToJson,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  type CryptoError,
  type ExchangePublicKey,
  type SecretKey,
} from '../crypto';
import type { TemplateDto } from '../backbone';
import type { Participant } from './participant';
import type { TemplateKeys } from './own-keys';
import { ProtocolError, isProtocolError, readById } from './errors';
import { parseReference, referenceToUrl, truncateReference, type Reference } from './references';
import { cryptoJson, parseJsonText, transportStringify } from './serialize';
import { checkShareLimits, createToken, passwordHashFor, passwordSetup, readToken, type PasswordInput } from './tokens';
import { identityJson, parseIdentityInfo, type IdentityInfo } from './identity-info';

/**
 * Relationship templates: the templator's signed, encrypted offer a peer answers with a
 * relationship request. Our template key and content key are derived from the content cipher's
 * nonce (see own-keys.ts), so reading our own template back needs no stored secret.
 */

export interface TemplatePublicKey {
  id: string;
  pub: ExchangePublicKey;
}

export interface CreateTemplateInput {
  /** The template content (e.g. a RelationshipTemplateContent built by lib/protocol/app). Must have an @type. */
  content: Record<string, unknown>;
  expiresAt: string;
  maxNumberOfAllocations?: number;
  forIdentity?: string;
  password?: PasswordInput;
}

export interface CreatedTemplate {
  id: string;
  createdAt: string;
  expiresAt: string;
  maxNumberOfAllocations?: number;
  forIdentity?: string;
  reference: Reference;
  /** Truncated reference (what the App and the Connector accept). */
  truncatedReference: string;
  /** Link form of the reference (what a QR code carries). */
  url: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return id;
}

function checkTemplateInput(ctx: Participant, input: CreateTemplateInput): void {
  if (!input.content || typeof input.content !== 'object' || typeof input.content['@type'] !== 'string') {
    throw new ProtocolError('protocol.input.invalid', 'The template content must be a JSON object with an "@type"');
  }
  checkShareLimits(ctx, 'template', input.expiresAt, input.forIdentity);
  if (input.maxNumberOfAllocations !== undefined && (!Number.isInteger(input.maxNumberOfAllocations) || input.maxNumberOfAllocations < 1)) {
    throw new ProtocolError('protocol.input.invalid', 'Max allocations must be a whole number of at least 1');
  }
}

export async function createTemplate(ctx: Participant, input: CreateTemplateInput): Promise<CreatedTemplate> {
  checkTemplateInput(ctx, input);
  const nonce = generateNonce();
  const keys = ctx.own.template(nonce);
  const templateKey = cryptoJson({ id: randomId('TRPRTK', 14), pub: toBase64Url(keys.exchange.pub.pub), alg: ExchangeAlgorithm.ECDH_X25519 });
  const serializedTemplate = transportStringify({
    '@type': 'RelationshipTemplateContentWrapper',
    content: input.content,
    identity: identityJson({ address: ctx.identity.address, publicKey: ctx.identity.keys.identity.pub }),
    templateKey,
  });
  // The reference client signs the template with the identity key and calls it deviceSignature.
  const signature = sign(utf8(serializedTemplate), ctx.identity.keys.identity.prv, HashAlgorithm.SHA512);
  const signed = transportStringify({
    '@type': 'RelationshipTemplateSigned',
    deviceSignature: cryptoJson(signatureToJson(signature, false)),
    serializedTemplate,
  });
  const cipher = encrypt(utf8(signed), keys.contentKey, nonce);
  const password = input.password ? passwordSetup(input.password) : undefined;
  const created = await ctx.client.createTemplate({
    content: toBase64(cipherToJson(cipher)),
    expiresAt: input.expiresAt,
    maxNumberOfAllocations: input.maxNumberOfAllocations,
    forIdentity: input.forIdentity,
    password: password?.hash,
  });
  const reference: Reference = {
    id: created.id,
    key: keys.contentKey,
    backboneBaseUrl: ctx.baseUrl,
    forIdentityTruncated: input.forIdentity?.slice(-4),
    passwordProtection: password?.protection,
  };
  return {
    id: created.id,
    createdAt: created.createdAt,
    expiresAt: input.expiresAt,
    maxNumberOfAllocations: input.maxNumberOfAllocations,
    forIdentity: input.forIdentity,
    reference,
    truncatedReference: truncateReference(reference),
    url: referenceToUrl(reference),
  };
}

/** A token for a template (what the App scans when it gets a token link). */
export async function createTemplateToken(
  ctx: Participant,
  template: Pick<CreatedTemplate, 'id' | 'expiresAt' | 'forIdentity' | 'reference'>,
): Promise<{ id: string; reference: Reference; truncatedReference: string; url: string }> {
  const content: Record<string, unknown> = {
    '@type': 'TokenContentRelationshipTemplate',
    secretKey: cryptoJson(secretKeyToJson(template.reference.key, false)),
    templateId: template.id,
  };
  if (template.forIdentity) content.forIdentity = template.forIdentity;
  if (template.reference.passwordProtection) {
    const p = template.reference.passwordProtection;
    content.passwordProtection = { passwordLocationIndicator: p.passwordLocationIndicator, passwordType: p.passwordType, salt: toBase64Url(p.salt) };
  }
  const token = await createToken(ctx, content, { expiresAt: template.expiresAt, forIdentity: template.forIdentity });
  const reference: Reference = {
    id: token.id,
    key: token.key,
    backboneBaseUrl: ctx.baseUrl,
    forIdentityTruncated: template.reference.forIdentityTruncated,
    passwordProtection: template.reference.passwordProtection,
  };
  return { id: token.id, reference, truncatedReference: truncateReference(reference), url: referenceToUrl(reference) };
}

/** A template as read from the Platform and verified. */
export interface LoadedTemplate {
  id: string;
  createdBy: string;
  createdAt: string;
  expiresAt?: string | null;
  maxNumberOfAllocations?: number | null;
  forIdentity?: string | null;
  identity: IdentityInfo;
  templateKey: TemplatePublicKey;
  content: Record<string, unknown>;
  /** The content key (from the reference, or derived for our own templates). */
  key: SecretKey;
}

/** Decrypts and verifies a template DTO with its content key. */
export function openTemplate(dto: TemplateDto, key: SecretKey, hostname?: string): LoadedTemplate {
  const what = `template ${dto.id}`;
  try {
    const signed = parseJsonText(fromUtf8(decrypt(parseCipher(dto.content, `${what} content`), key, undefined, `${what} content`)), what, 'protocol.template.invalid', dto.id);
    if (typeof signed.serializedTemplate !== 'string') throw new ProtocolError('protocol.template.invalid', `${what} is not a signed template`, dto.id);
    const wrapper = parseJsonText(signed.serializedTemplate, what, 'protocol.template.invalid', dto.id);
    const identity = parseIdentityInfo(wrapper.identity, what);
    assertSignature(utf8(signed.serializedTemplate), parseSignature(signed.deviceSignature, `${what} signature`), identity.publicKey, what);
    // Hardening the reference client skips: the signer must be the Backbone-asserted creator.
    if (identity.address !== dto.createdBy) {
      throw new ProtocolError('protocol.template.invalid', `${what} is signed by ${identity.address} but was created by ${dto.createdBy}`, dto.id);
    }
    if (hostname && deriveAddress(identity.publicKey.pub, hostname) !== identity.address) {
      throw new ProtocolError('protocol.template.invalid', `${what}: the identity key does not belong to ${identity.address}`, dto.id);
    }
    const tk = wrapper.templateKey as { id?: unknown } | undefined;
    if (!tk || typeof tk.id !== 'string') throw new ProtocolError('protocol.template.invalid', `${what} has no template key`, dto.id);
    const content = wrapper.content;
    if (!content || typeof content !== 'object') throw new ProtocolError('protocol.template.invalid', `${what} has no content`, dto.id);
    return {
      id: dto.id,
      createdBy: dto.createdBy,
      createdAt: dto.createdAt,
      expiresAt: dto.expiresAt,
      maxNumberOfAllocations: dto.maxNumberOfAllocations,
      forIdentity: dto.forIdentity,
      identity,
      templateKey: { id: tk.id, pub: parseExchangePublicKey(tk, `${what} template key`) },
      content: content as Record<string, unknown>,
      key,
    };
  } catch (error) {
    if (isProtocolError(error)) throw error;
    const crypto = error as CryptoError;
    throw new ProtocolError(
      'protocol.template.invalid',
      `${what} cannot be read: ${crypto.code === 'crypto.signature.invalid' ? 'its signature is not valid' : crypto.message}`,
      dto.id,
      error,
    );
  }
}

/**
 * Loads a peer's template from a truncated reference, a link, or a token reference pointing at a
 * template. Reading allocates the template for us on the Platform.
 */
export async function loadTemplate(ctx: Participant, referenceText: string, password?: string): Promise<LoadedTemplate> {
  let reference: Reference;
  try {
    reference = parseReference(referenceText);
  } catch (error) {
    throw new ProtocolError('protocol.reference.invalid', 'This is not a template reference, token reference or enmeshed link', undefined, error);
  }
  if (reference.id.startsWith('TOK')) {
    const token = await readToken(ctx.client, reference, password);
    if (token['@type'] !== 'TokenContentRelationshipTemplate' || typeof token.templateId !== 'string') {
      throw new ProtocolError('protocol.reference.invalid', `Token ${reference.id} does not point at a relationship template`, reference.id);
    }
    const protection = token.passwordProtection as { passwordType?: string; salt?: string; passwordLocationIndicator?: number } | undefined;
    reference = {
      id: token.templateId,
      key: parseSecretKey(token.secretKey, 'template key in token'),
      backboneBaseUrl: reference.backboneBaseUrl,
      forIdentityTruncated: typeof token.forIdentity === 'string' ? token.forIdentity.slice(-4) : undefined,
      passwordProtection:
        protection?.passwordType && protection.salt
          ? { passwordType: protection.passwordType, salt: Buffer.from(protection.salt, 'base64url'), passwordLocationIndicator: protection.passwordLocationIndicator }
          : undefined,
    };
  }
  if (!reference.id.startsWith('RLT')) throw new ProtocolError('protocol.reference.invalid', `${reference.id} is not a relationship template`, reference.id);
  if (reference.key.alg !== EncryptionAlgorithm.XCHACHA20_POLY1305) throw new ProtocolError('protocol.reference.invalid', 'Unsupported key in reference');
  if (reference.forIdentityTruncated && !ctx.identity.address.endsWith(reference.forIdentityTruncated)) {
    throw new ProtocolError('protocol.template.notForYou', `Template ${reference.id} is meant for another identity`, reference.id);
  }
  const hash = passwordHashFor(reference, password);
  const dto = await readById(
    ctx.client.getTemplate(reference.id, hash),
    reference.id,
    { notFound: 'protocol.template.expired', invalid: 'protocol.template.invalid' },
    `Template ${reference.id} was not found: it expired, was deleted, is meant for another identity${hash ? ', or the password is wrong' : ''}`,
  );
  const template = openTemplate(dto, reference.key, hostnameOf(ctx.baseUrl));
  // A reference to one of our own templates (e.g. our own QR code): shown as ours only when proven.
  if (template.identity.address === ctx.identity.address) assertOwnTemplate(ctx, template, contentNonceOf(dto));
  return template;
}

/**
 * Proof that a template is ours: everyone who scanned its QR code holds its content key and could,
 * with the Platform, put another template under it — so decrypting proves nothing. It must be
 * signed with OUR identity key (not merely with the key it names) and carry the template key we
 * derive for its content nonce.
 */
function assertOwnTemplate(ctx: Participant, template: LoadedTemplate, contentNonce: Uint8Array | undefined): TemplateKeys {
  const forged = (why: string) =>
    new ProtocolError('protocol.template.invalid', `Template ${template.id} was not made by this identity: ${why} (changed by the Platform or by someone holding its reference)`, template.id);
  if (template.identity.address !== ctx.identity.address || !bytesEqual(template.identity.publicKey.pub, ctx.identity.keys.identity.pub.pub)) {
    throw forged("it is not signed with this identity's key");
  }
  if (!contentNonce) throw forged('its content has no nonce');
  const keys = ctx.own.template(contentNonce);
  if (!bytesEqual(template.templateKey.pub.pub, keys.exchange.pub.pub) || !bytesEqual(template.key.key, keys.contentKey.key)) {
    throw forged('its keys are not derived from this identity\'s secret');
  }
  return keys;
}

function contentNonceOf(dto: TemplateDto): Uint8Array | undefined {
  try {
    return parseCipher(dto.content, `template ${dto.id} content`).nnc;
  } catch {
    return undefined;
  }
}

/** Our own template, with the keys derived from its content nonce. */
export async function readOwnTemplate(ctx: Participant, id: string): Promise<LoadedTemplate & { exchangePrivate: Uint8Array }> {
  const dto = await readById(
    ctx.client.getTemplate(id),
    id,
    { notFound: 'protocol.template.expired', invalid: 'protocol.template.invalid' },
    `Template ${id} was not found: it expired or was deleted`,
  );
  const nonce = contentNonceOf(dto);
  if (!nonce) throw new ProtocolError('protocol.template.invalid', `Template ${id} is not one of ours`, id);
  const template = openTemplate(dto, ctx.own.template(nonce).contentKey, hostnameOf(ctx.baseUrl));
  const keys = assertOwnTemplate(ctx, template, nonce);
  return { ...template, exchangePrivate: keys.exchange.prv.prv };
}
