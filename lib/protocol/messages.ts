import {
  HashAlgorithm,
  cipherToJson,
  decrypt,
  encrypt,
  encryptWithCounter,
  fromUtf8,
  addressProblem,
  generateNonce,
  hostnameOf,
  parseCipher,
  parseSecretKey,
  parseSignature,
  secretKeyToJson,
  sha256,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  verify,
  type SecretKey,
  type SignaturePublicKey,
} from '../crypto';
import { PlatformCodes, isPlatformError, type MessageDto } from '../backbone';
import type { Participant } from './participant';
import { isMail, type MessageContent } from './mail';
import { ProtocolError, isProtocolError, readById } from './errors';
import { fileReferenceJson, parseFileReferenceJson, type FileReference } from './file-reference';
import { cachedRelationshipKeys, openRelationship, relationshipsWithPeer, relationshipWith, type KnownRelationship, type Relationship, type RelationshipKeys } from './relationships';
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
  /** createdAt inside the signed content (set by the sender's clock). */
  sentAt: string;
  /** SHA-256 of the signed content (base64url): equal for a message the Platform serves again under another id. */
  contentDigest: string;
}

const MESSAGE_SIGNATURE = HashAlgorithm.SHA256;

/**
 * Throws for a recipient address that cannot work, saying what to fix: malformed, on another
 * Platform (messages travel on relationships, which stay within one Platform) or our own.
 */
export function checkRecipients(ctx: Participant, recipients: string[]): void {
  if (recipients.length === 0) throw new ProtocolError('protocol.input.invalid', 'A message needs at least one recipient');
  const hostname = hostnameOf(ctx.baseUrl);
  for (const r of recipients) {
    const problem = addressProblem(r, { hostname });
    if (problem) throw new ProtocolError('protocol.input.invalid', `Recipient: ${problem}`);
    if (r === ctx.identity.address) throw new ProtocolError('protocol.input.invalid', 'You cannot send a message to yourself');
  }
}

export async function sendMessage(ctx: Participant, input: SendMessageInput): Promise<Message> {
  const recipients = [...new Set(input.recipients.map((r) => r.trim()))];
  checkRecipients(ctx, recipients);
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
  const relationships = new Map<string, KnownRelationship>();
  for (const r of recipients) relationships.set(r, await relationshipWith(ctx, r, true));

  const bodyNonce = generateNonce();
  const messageKey = ctx.own.message(bodyNonce);
  const createdAt = ctx.now().toISOString();
  const serialized = transportStringify({
    '@type': 'MessageContentWrapper',
    attachments: attachments.map(fileReferenceJson),
    content: input.content,
    createdAt,
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
    sentAt: createdAt,
    contentDigest: toBase64Url(sha256(serialized)),
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

function toMessage(ctx: Participant, dto: MessageDto, wrapper: Record<string, unknown>, serialized: string, relationshipId?: string): Message {
  const content = wrapper.content as MessageContent;
  if (!content || typeof content !== 'object') throw fail('protocol.message.invalid', dto, 'it has no content');
  if (typeof wrapper.createdAt !== 'string' || !Number.isFinite(Date.parse(wrapper.createdAt))) throw fail('protocol.message.invalid', dto, 'its signed content has no creation time');
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
    sentAt: wrapper.createdAt,
    contentDigest: toBase64Url(sha256(serialized)),
  };
}

/**
 * A message served again under a new id (the signed content names no message id) is recognised by
 * its signed createdAt (the sender's clock) lying more than this before the Platform's createdAt.
 * Within this time a repeat is recognised by its content digest instead (the trigger keeps the
 * digests of this long plus its look-back window; Get Many compares within the listing).
 * A sender whose clock is more than this behind has its messages refused as well (docs/security.md).
 */
export const REPLAY_TOLERANCE_MS = 60 * 60_000;

type Candidates = (peer: string) => Promise<KnownRelationship[]>;

/** Relationships with `peer`, youngest first, each with its keys (cached, or from one read of the record). */
async function* keyedRelationships(ctx: Participant, candidates: KnownRelationship[]): AsyncGenerator<{ id: string; keys: RelationshipKeys }> {
  for (const candidate of candidates) {
    // Keys derived earlier in this process spare a read of the relationship per message (a poll
    // opening 50 messages made 50 such reads: npm run bench, trigger cost).
    const keys = candidate.keys ?? cachedRelationshipKeys(ctx, candidate.id) ?? (await openRelationship(ctx, await ctx.client.getRelationship(candidate.id), { keysOnly: true })).keys;
    if (keys) yield { id: candidate.id, keys };
  }
}

function signatureFor(signatures: unknown[], recipient: string): string | undefined {
  const entry = signatures.find((s) => (s as { recipient?: unknown }).recipient === recipient) as { signature?: unknown } | undefined;
  return typeof entry?.signature === 'string' ? entry.signature : undefined;
}

function verifies(serialized: string, signature: string, key: SignaturePublicKey): boolean {
  try {
    return verify(utf8(serialized), parseSignature(signature), key);
  } catch {
    return false;
  }
}

/**
 * Our own sent message. Every recipient holds its message key, so decrypting proves nothing: the
 * signed content must name exactly the message's recipients, and the signature for each of them
 * must verify with OUR signature key of a relationship with that recipient.
 */
async function openOwn(ctx: Participant, dto: MessageDto, relationships: Candidates): Promise<Message> {
  const nonce = parseCipher(dto.body, 'message body').nnc;
  if (!nonce) throw fail('protocol.message.invalid', dto, 'the body has no nonce');
  const { serialized, wrapper, signatures } = parseSigned(dto, ctx.own.message(nonce));
  const named = Array.isArray(wrapper.recipients) ? [...wrapper.recipients].map(String).sort() : [];
  const listed = dto.recipients.map((r) => r.address).sort();
  if (named.length === 0 || JSON.stringify(named) !== JSON.stringify(listed)) {
    throw fail('protocol.message.signatureInvalid', dto, 'its signed recipients are not the recipients of this message: it was not sent by this identity as it is shown');
  }
  for (const recipient of named) {
    const signature = signatureFor(signatures, recipient);
    let ours = false;
    if (signature) {
      for await (const rel of keyedRelationships(ctx, await relationships(recipient))) {
        if ((ours = verifies(serialized, signature, rel.keys.ownSignature.pub))) break;
      }
    }
    if (!ours) {
      throw fail('protocol.message.signatureInvalid', dto, `it carries no signature of this identity for ${recipient}: it was not sent by this identity (changed by the Platform or by someone holding its key)`);
    }
  }
  return toMessage(ctx, dto, wrapper, serialized);
}

async function openReceived(ctx: Participant, dto: MessageDto, relationships: Candidates): Promise<Message> {
  const mine = dto.recipients.find((r) => r.address === ctx.identity.address);
  if (!mine) throw fail('protocol.message.notForYou', dto, 'this identity is not among its recipients');
  const wrappedKey = parseCipher(mine.encryptedKey, 'encrypted message key');
  let candidates = 0;
  for await (const rel of keyedRelationships(ctx, await relationships(dto.createdBy))) {
    candidates++;
    let messageKey: SecretKey;
    try {
      // Any counter is accepted: the reference client sends 0 every time.
      messageKey = parseSecretKey(fromUtf8(decrypt(wrappedKey, rel.keys.receive.key, rel.keys.receive.baseNonce, 'message key')));
    } catch {
      continue; // another relationship with the same peer
    }
    const { serialized, wrapper, signatures } = parseSigned(dto, messageKey);
    const signature = signatureFor(signatures, ctx.identity.address);
    if (!signature) throw fail('protocol.message.signatureInvalid', dto, 'it carries no signature for this identity');
    if (!verifies(serialized, signature, rel.keys.peerSignature)) {
      throw fail('protocol.message.signatureInvalid', dto, 'its signature does not verify: it was not sent by the peer or was changed');
    }
    if (!Array.isArray(wrapper.recipients) || !wrapper.recipients.includes(ctx.identity.address)) {
      throw fail('protocol.message.notForYou', dto, 'the signed content does not name this identity as a recipient');
    }
    return toMessage(ctx, dto, wrapper, serialized, rel.id);
  }
  if (candidates === 0) throw fail('protocol.message.undecryptable', dto, 'there is no relationship with the sender');
  throw fail('protocol.message.undecryptable', dto, 'its key cannot be unwrapped with any relationship to the sender');
}

/** Decrypts and verifies a message DTO (sent or received). Throws ProtocolError naming the message. */
export async function openMessage(ctx: Participant, dto: MessageDto, relationships?: Relationship[]): Promise<Message> {
  // Given relationships (a listing already read) or the index: never a read of every relationship.
  const all: Candidates = async (peer) => (relationships ? relationships.filter((r) => r.peer === peer).reverse() : relationshipsWithPeer(ctx, peer));
  try {
    const message = dto.createdBy === ctx.identity.address ? await openOwn(ctx, dto, all) : await openReceived(ctx, dto, all);
    const late = Date.parse(dto.createdAt) - Date.parse(message.sentAt);
    if (late > REPLAY_TOLERANCE_MS) {
      throw fail(
        'protocol.message.replayed',
        dto,
        `it was signed at ${message.sentAt} but the Platform lists it at ${dto.createdAt}: an old message served again under a new id (or the sender's clock is more than ${REPLAY_TOLERANCE_MS / 60_000} minutes behind)`,
      );
    }
    return message;
  } catch (error) {
    // A Platform failure (reading the relationship) says nothing about the message: it is retried later.
    if (isProtocolError(error) || isPlatformError(error)) throw error;
    throw fail('protocol.message.invalid', dto, (error as Error).message, error);
  }
}

/**
 * The error for a message whose signed content equals that of another one already seen (its digest):
 * the Platform served one message twice under two ids. Reported, never emitted twice.
 */
export function repeatedMessageError(message: Pick<Message, 'id' | 'createdBy'>, firstId: string): ProtocolError {
  return new ProtocolError(
    'protocol.message.replayed',
    `Message ${message.id} from ${message.createdBy}: it repeats the signed content of message ${firstId}: one message served twice under two ids`,
    message.id,
  );
}

export async function getMessage(ctx: Participant, id: string): Promise<Message> {
  const codes = { notFound: 'protocol.message.invalid', invalid: 'protocol.message.invalid' } as const;
  const dto = await readById(ctx.client.getMessage(id), id, codes, `Message ${id} does not exist or is not visible to this identity`);
  return openMessage(ctx, dto);
}
