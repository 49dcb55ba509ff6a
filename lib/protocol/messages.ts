import {
  HashAlgorithm,
  cipherToJson,
  decrypt,
  encrypt,
  encryptWithCounter,
  fromUtf8,
  generateNonce,
  isValidAddress,
  parseCipher,
  parseSecretKey,
  parseSignature,
  secretKeyToJson,
  sign,
  signatureToJson,
  toBase64,
  utf8,
  verify,
  type SecretKey,
} from '../crypto';
import { PlatformCodes, isPlatformError, type MessageDto } from '../backbone';
import type { Participant } from './participant';
import { isMail, type MessageContent } from './mail';
import { ProtocolError, isProtocolError, readById } from './errors';
import { fileReferenceJson, parseFileReferenceJson, type FileReference } from './file-reference';
import { cachedRelationshipKeys, listRelationships, openRelationship, relationshipWith, type Relationship } from './relationships';
import { parseJsonText, transportStringify } from './serialize';

/**
 * Messages. Sending: a fresh message key K_m (derived from the body nonce, so we can re-read what we
 * sent), the content wrapper signed per recipient with that relationship's signature key, the body
 * encrypted with K_m, and K_m wrapped per recipient with the relationship's transmit key in counter
 * mode, with a counter durably reserved first (lib/state/counters). Receiving: the reverse, where any
 * failure becomes a ProtocolError naming the message — never a silent skip.
 */

export interface SendMessageInput {
  recipients: string[];
  content: MessageContent;
  attachments?: FileReference[];
  /**
   * For a Mail: 'exact' (default, the Connector's rule) — to + cc are exactly the recipients;
   * 'subset' — every recipient is in to or cc (one message per recipient of a Mail to several).
   */
  mailRecipients?: 'exact' | 'subset';
  /**
   * How long to keep trying while a recipient's inbox is full (the Backbone refuses a message while
   * the recipient has not fetched its maximum, default 20, of earlier messages from us). 0: fail at once.
   */
  fullInboxWaitMs?: number;
  /**
   * Called with the body nonce once everything is ready, right before the POST: a caller that must
   * find the message again after a crash records it durably here (lib/protocol/send-once).
   */
  beforePost?: (bodyNonce: Uint8Array) => Promise<void>;
}

export interface Message {
  id: string;
  createdAt: string;
  createdBy: string;
  createdByDevice: string;
  /** Whether this identity sent it. */
  isOwn: boolean;
  recipients: { address: string; receivedAt: string | null; receivedByDevice: string | null }[];
  content: MessageContent;
  attachments: FileReference[];
  /** The relationship it travelled on (received messages). */
  relationshipId?: string;
  /** createdAt inside the signed content (set by the sender). */
  sentAt?: string;
}

const MESSAGE_SIGNATURE = HashAlgorithm.SHA256;

export async function sendMessage(ctx: Participant, input: SendMessageInput): Promise<Message> {
  const recipients = [...new Set(input.recipients.map((r) => r.trim()))];
  if (recipients.length === 0) throw new ProtocolError('protocol.input.invalid', 'A message needs at least one recipient');
  for (const r of recipients) {
    if (!isValidAddress(r)) throw new ProtocolError('protocol.input.invalid', `"${r}" is not an enmeshed address (did:e:…)`);
    if (r === ctx.identity.address) throw new ProtocolError('protocol.input.invalid', 'You cannot send a message to yourself');
  }
  if (isMail(input.content)) {
    // The Connector's rule: the Mail's to + cc are exactly the message's recipients.
    const listed = [...input.content.to, ...(input.content.cc ?? [])];
    const exact = JSON.stringify([...listed].sort()) === JSON.stringify([...recipients].sort());
    const subset = recipients.every((r) => listed.includes(r));
    if (input.mailRecipients === 'subset' ? !subset : !exact) {
      throw new ProtocolError('protocol.input.invalid', 'The Mail\'s "to" and "cc" must list exactly the recipients of the message');
    }
  }
  const attachments = input.attachments ?? [];
  if (attachments.length > 20) throw new ProtocolError('protocol.input.invalid', 'A message can carry at most 20 attachments');

  // Relationships first: nothing is reserved or uploaded for a message that cannot be sent.
  const relationships = new Map<string, Relationship>();
  for (const r of recipients) relationships.set(r, await relationshipWith(ctx, r, true));

  const bodyNonce = generateNonce();
  const messageKey = ctx.own.message(bodyNonce);
  const serialized = transportStringify({
    '@type': 'MessageContentWrapper',
    attachments: attachments.map(fileReferenceJson),
    content: input.content,
    createdAt: ctx.now().toISOString(),
    recipients,
  });
  const signatures = recipients.map((recipient) => {
    const keys = relationships.get(recipient)!.keys!;
    return { recipient, signature: JSON.stringify(signatureToJson(sign(utf8(serialized), keys.ownSignature.prv, MESSAGE_SIGNATURE), false)) };
  });
  const signed = transportStringify({ '@type': 'MessageSigned', message: serialized, signatures });
  const body = toBase64(cipherToJson(encrypt(utf8(signed), messageKey, bodyNonce)));
  const keyPlaintext = utf8(JSON.stringify(secretKeyToJson(messageKey, false)));
  const wrapped = [];
  for (const recipient of recipients) {
    const rel = relationships.get(recipient)!;
    const counter = await ctx.counters.next(rel.id); // durable before use
    wrapped.push({
      address: recipient,
      encryptedKey: toBase64(cipherToJson(encryptWithCounter(keyPlaintext, rel.keys!.transmit.key, rel.keys!.transmit.baseNonce, counter))),
    });
  }
  await input.beforePost?.(bodyNonce);
  const created = await postWhenInboxHasRoom(ctx, { recipients: wrapped, body, attachments: attachments.map((a) => ({ id: a.id })) }, input.fullInboxWaitMs ?? 0);
  return {
    id: created.id,
    createdAt: created.createdAt,
    createdBy: ctx.identity.address,
    createdByDevice: ctx.identity.deviceId,
    isOwn: true,
    recipients: recipients.map((address) => ({ address, receivedAt: null, receivedByDevice: null })),
    content: input.content,
    attachments,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POSTs a message; while the Backbone refuses it because a recipient's inbox is full, waits (1 s,
 * doubling up to 30 s) and POSTs the same request again until `waitMs` has passed. Repeating the
 * request is safe: a refused message was not stored, and the same bytes are sent again (no new
 * encryption). The final refusal says what happened and what to do.
 */
async function postWhenInboxHasRoom(ctx: Participant, request: Parameters<Participant['client']['sendMessage']>[0], waitMs: number) {
  const started = Date.now();
  for (let pause = 1_000; ; pause = Math.min(pause * 2, 30_000)) {
    try {
      return await ctx.client.sendMessage(request);
    } catch (error) {
      if (!isPlatformError(error, PlatformCodes.maxUnreceivedMessages)) throw error;
      const left = started + waitMs - Date.now();
      if (left > 0) {
        await sleep(Math.min(pause, left));
        continue;
      }
      const who = request.recipients.map((r) => r.address).join(', ');
      const waited = waitMs > 0 ? ` (waited ${Math.round((Date.now() - started) / 1000)} s)` : '';
      throw new ProtocolError(
        'protocol.message.inboxFull',
        `The message was not sent: ${who} has not yet fetched the messages you sent before, and the Platform keeps at most a fixed number of unfetched messages from one sender (20 by default)${waited}`,
        undefined,
        error,
      );
    }
  }
}

function fail(code: ConstructorParameters<typeof ProtocolError>[0], dto: MessageDto, why: string, cause?: unknown): ProtocolError {
  return new ProtocolError(code, `Message ${dto.id} from ${dto.createdBy}: ${why}`, dto.id, cause);
}

function parseSigned(dto: MessageDto, key: SecretKey): { serialized: string; wrapper: Record<string, unknown>; signatures: unknown[] } {
  let text: string;
  try {
    text = fromUtf8(decrypt(parseCipher(dto.body, 'message body'), key, undefined, 'message body'));
  } catch (error) {
    throw fail('protocol.message.undecryptable', dto, 'the body cannot be decrypted', error);
  }
  const signed = parseJsonText(text, `message ${dto.id}`, 'protocol.message.invalid', dto.id);
  if (typeof signed.message !== 'string' || !Array.isArray(signed.signatures)) throw fail('protocol.message.invalid', dto, 'the body is not a signed message');
  const wrapper = parseJsonText(signed.message, `message ${dto.id}`, 'protocol.message.invalid', dto.id);
  return { serialized: signed.message, wrapper, signatures: signed.signatures };
}

function toMessage(ctx: Participant, dto: MessageDto, wrapper: Record<string, unknown>, relationshipId?: string): Message {
  const content = wrapper.content as MessageContent;
  if (!content || typeof content !== 'object') throw fail('protocol.message.invalid', dto, 'it has no content');
  const attachments = Array.isArray(wrapper.attachments) ? wrapper.attachments.map((a, i) => parseFileReferenceJson(a, `attachment ${i + 1}`)) : [];
  return {
    id: dto.id,
    createdAt: dto.createdAt,
    createdBy: dto.createdBy,
    createdByDevice: dto.createdByDevice,
    isOwn: dto.createdBy === ctx.identity.address,
    recipients: dto.recipients.map((r) => ({ address: r.address, receivedAt: r.receivedAt, receivedByDevice: r.receivedByDevice })),
    content,
    attachments,
    relationshipId,
    sentAt: typeof wrapper.createdAt === 'string' ? wrapper.createdAt : undefined,
  };
}

/** Decrypts and verifies a message DTO (sent or received). Throws ProtocolError naming the message. */
export async function openMessage(ctx: Participant, dto: MessageDto, relationships?: Relationship[]): Promise<Message> {
  try {
    if (dto.createdBy === ctx.identity.address) {
      const nonce = parseCipher(dto.body, 'message body').nnc;
      if (!nonce) throw fail('protocol.message.invalid', dto, 'the body has no nonce');
      return toMessage(ctx, dto, parseSigned(dto, ctx.own.message(nonce)).wrapper);
    }
    const mine = dto.recipients.find((r) => r.address === ctx.identity.address);
    if (!mine) throw fail('protocol.message.notForYou', dto, 'this identity is not among its recipients');
    const candidates = (relationships ?? (await listRelationships(ctx)))
      .filter((r) => r.peer === dto.createdBy)
      .reverse();
    if (candidates.length === 0) throw fail('protocol.message.undecryptable', dto, 'there is no relationship with the sender');
    const wrappedKey = parseCipher(mine.encryptedKey, 'encrypted message key');
    for (const candidate of candidates) {
      // Keys derived earlier in this process spare a read of the relationship per message (a poll
      // opening 50 messages made 50 such reads: npm run bench, trigger cost).
      const known = candidate.keys ?? cachedRelationshipKeys(ctx, candidate.id);
      const rel = known ? { ...candidate, keys: known } : await openRelationship(ctx, await ctx.client.getRelationship(candidate.id));
      if (!rel.keys) continue;
      let messageKey: SecretKey;
      try {
        // Any counter is accepted: the reference client sends 0 every time.
        messageKey = parseSecretKey(fromUtf8(decrypt(wrappedKey, rel.keys.receive.key, rel.keys.receive.baseNonce, 'message key')));
      } catch {
        continue; // another relationship with the same peer
      }
      const { serialized, wrapper, signatures } = parseSigned(dto, messageKey);
      const entry = signatures.find((s) => (s as { recipient?: unknown }).recipient === ctx.identity.address) as { signature?: unknown } | undefined;
      if (!entry || typeof entry.signature !== 'string') throw fail('protocol.message.signatureInvalid', dto, 'it carries no signature for this identity');
      let valid = false;
      try {
        valid = verify(utf8(serialized), parseSignature(entry.signature), rel.keys.peerSignature);
      } catch {
        valid = false;
      }
      if (!valid) throw fail('protocol.message.signatureInvalid', dto, 'its signature does not verify: it was not sent by the peer or was changed');
      if (!Array.isArray(wrapper.recipients) || !wrapper.recipients.includes(ctx.identity.address)) {
        throw fail('protocol.message.notForYou', dto, 'the signed content does not name this identity as a recipient');
      }
      return toMessage(ctx, dto, wrapper, rel.id);
    }
    throw fail('protocol.message.undecryptable', dto, 'its key cannot be unwrapped with any relationship to the sender');
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw fail('protocol.message.invalid', dto, (error as Error).message, error);
  }
}

export async function getMessage(ctx: Participant, id: string): Promise<Message> {
  const codes = { notFound: 'protocol.message.invalid', invalid: 'protocol.message.invalid' } as const;
  const dto = await readById(ctx.client.getMessage(id), id, codes, `Message ${id} does not exist or is not visible to this identity`);
  return openMessage(ctx, dto);
}
