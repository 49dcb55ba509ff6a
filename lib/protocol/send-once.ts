import { parseCipher, toBase64Url } from '../crypto';
import { PlatformError, type MessageDto } from '../backbone';
import type { Change } from '../state/datawallet';
import { ProtocolError, isProtocolError } from './errors';
import { messagesNewestFirst } from './message-feed';
import { getMessage, openMessage, sendMessage, type Message, type SendMessageInput } from './messages';
import type { Participant } from './participant';

/**
 * Sending with an idempotency key: a second send with the same key to the same recipients returns
 * the first message instead of sending again — across retries, processes and workers, which share
 * only the credential and the Platform.
 *
 * The record is a datawallet object (`n8n.sends/<marker>`), the marker an HMAC of (key, recipients)
 * under our secret, so every worker computes the same one and the Platform learns nothing about the
 * key. Before the POST, the body nonce of the attempt is written into the record (compare-and-swap,
 * so two workers cannot both claim it); the Platform keeps that nonce in the message body, where we
 * can recognise it without decrypting. After the answer the record says `sent` with the message id.
 *
 * A send with a key finds the record in one of these states, by where an earlier attempt stopped:
 *   - none: nothing was attempted → claim and send;
 *   - crashed before the POST: `sending`, no message with its nonce → once the lease (default 2 min,
 *     longer than any POST may take) has passed, claim again with a fresh nonce and send; within the
 *     lease wait for it (another worker may be sending right now), at most `maxWaitMs`;
 *   - crashed after the POST, before the answer or before recording it: `sending`, and our newest
 *     messages to the recipients contain one with a recorded nonce → that message, alreadySent;
 *   - `sent` → that message, alreadySent;
 *   - `refused` (the Platform answered no: full inbox, no relationship…) → send again.
 * So a message goes out at most once, unless a POST reaches the Platform later than the lease after
 * it started (the client gives up after 30 s), and a key is remembered for `retentionMs` (30 days).
 */

export interface SendOnceOptions {
  /** How long an unfinished attempt may still be under way in another worker (default 2 min). */
  leaseMs?: number;
  /** How long to wait for such an attempt before giving up with protocol.send.inProgress (default: the lease). */
  maxWaitMs?: number;
  /** How long keys are remembered (default 30 days); older records are deleted when new ones are written. */
  retentionMs?: number;
}

export interface SendOnceResult {
  message: Message;
  /** True when an earlier send with the same key had sent it. */
  alreadySent: boolean;
}

interface SendRecord {
  state: 'sending' | 'sent' | 'refused';
  /** Body nonces (base64url) of every attempt, oldest first. */
  nonces: string[];
  /** When the first and the newest attempt started (ms since 1970, our clock). */
  firstAt: number;
  attemptAt: number;
  messageId?: string;
}

const COLLECTION = 'n8n.sends' as const;
/** Clock difference between us and the Platform that a search for a sent message tolerates. */
const CLOCK_SKEW_MS = 15 * 60_000;
const PRUNE_PER_WRITE = 20;

/** The claim another worker took first: look again. */
class ClaimLost extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function recordOf(ctx: Participant, marker: string): SendRecord | undefined {
  return ctx.store.get(COLLECTION, marker)?.value as SendRecord | undefined;
}

const sameRecord = (a: SendRecord | undefined, b: SendRecord | undefined): boolean =>
  a?.state === b?.state && a?.attemptAt === b?.attemptAt && a?.nonces.length === b?.nonces.length;

/** Our message to exactly these recipients whose body nonce is one the record holds, if the Platform has it. */
async function findSent(ctx: Participant, recipients: string[], record: SendRecord): Promise<MessageDto | undefined> {
  const nonces = new Set(record.nonces);
  const wanted = JSON.stringify([...recipients].sort());
  for await (const dto of messagesNewestFirst(ctx)) {
    if (Date.parse(dto.createdAt) < record.firstAt - CLOCK_SKEW_MS) return undefined;
    if (dto.createdBy !== ctx.address || JSON.stringify(dto.recipients.map((r) => r.address).sort()) !== wanted) continue;
    let nonce: Uint8Array | undefined;
    try {
      nonce = parseCipher(dto.body, 'message body').nnc;
    } catch {
      continue;
    }
    if (nonce && nonces.has(toBase64Url(nonce))) return dto;
  }
  return undefined;
}

async function recordSent(ctx: Participant, marker: string, messageId: string): Promise<void> {
  await ctx.store.update(() => {
    const current = recordOf(ctx, marker);
    if (!current || current.messageId === messageId) return { changes: [], result: undefined };
    return { changes: [{ collection: COLLECTION, id: marker, value: { ...current, state: 'sent', messageId } }], result: undefined };
  });
}

/** Writes the attempt's nonce into the record, unless someone changed the record since `seen`. */
async function claim(ctx: Participant, marker: string, seen: SendRecord | undefined, nonce: Uint8Array, retentionMs: number): Promise<void> {
  await ctx.store.update(() => {
    const current = recordOf(ctx, marker);
    if (!sameRecord(current, seen)) throw new ClaimLost();
    const now = ctx.now().getTime();
    const value: SendRecord = {
      state: 'sending',
      nonces: [...(current?.nonces ?? []), toBase64Url(nonce)],
      firstAt: current?.firstAt ?? now,
      attemptAt: now,
    };
    const changes: Change[] = [{ collection: COLLECTION, id: marker, value }];
    if (!current) {
      const expired = ctx.store.ids(COLLECTION).filter((id) => {
        if (id === marker) return false;
        try {
          const r = recordOf(ctx, id);
          return r !== undefined && r.attemptAt < now - retentionMs;
        } catch {
          return false; // an invalid record is left as it is: pruning never decides on what it cannot read
        }
      });
      for (const id of expired.slice(0, PRUNE_PER_WRITE)) changes.push({ collection: COLLECTION, id, value: undefined });
    }
    return { changes, result: undefined };
  });
}

async function markRefused(ctx: Participant, marker: string): Promise<void> {
  await ctx.store.update(() => {
    const current = recordOf(ctx, marker);
    if (!current || current.state !== 'sending') return { changes: [], result: undefined };
    return { changes: [{ collection: COLLECTION, id: marker, value: { ...current, state: 'refused' } }], result: undefined };
  });
}

/** True when the Platform answered, and its answer was no: nothing was stored. */
function refused(error: unknown): boolean {
  if (isProtocolError(error, 'protocol.message.inboxFull')) return true;
  return error instanceof PlatformError && error.kind === 'backbone' && !error.outcomeUnknown && (error.status ?? 0) >= 400 && (error.status ?? 0) < 500;
}

/** What an earlier send with this key to these recipients sent, if it is known to have been sent. */
async function earlier(ctx: Participant, marker: string, recipients: string[], seen: SendRecord | undefined): Promise<Message | undefined> {
  if (!seen) return undefined;
  if (seen.state === 'sent' && seen.messageId) return getMessage(ctx, seen.messageId);
  const dto = await findSent(ctx, recipients, seen);
  if (!dto) return undefined;
  await recordSent(ctx, marker, dto.id);
  return openMessage(ctx, dto);
}

/**
 * The message an earlier send with this key to these recipients sent, or undefined: lets a caller
 * skip work (uploading attachments) for a send that `sendOnce` would answer with alreadySent.
 */
export async function sentWithKey(ctx: Participant, idempotencyKey: string, recipients: string[]): Promise<Message | undefined> {
  const unique = [...new Set(recipients.map((r) => r.trim()))];
  const marker = ctx.own.sendMarker(idempotencyKey, unique);
  await ctx.store.refresh();
  return earlier(ctx, marker, unique, recordOf(ctx, marker));
}

export async function sendOnce(ctx: Participant, idempotencyKey: string, input: SendMessageInput, options: SendOnceOptions = {}): Promise<SendOnceResult> {
  if (!idempotencyKey) throw new ProtocolError('protocol.input.invalid', 'The idempotency key must not be empty');
  const leaseMs = options.leaseMs ?? 120_000;
  const maxWaitMs = options.maxWaitMs ?? leaseMs;
  const retentionMs = options.retentionMs ?? 30 * 86_400_000;
  const recipients = [...new Set(input.recipients.map((r) => r.trim()))];
  const marker = ctx.own.sendMarker(idempotencyKey, recipients);
  const waitUntil = Date.now() + maxWaitMs;

  for (;;) {
    await ctx.store.refresh();
    const seen = recordOf(ctx, marker);
    const sent = await earlier(ctx, marker, recipients, seen);
    if (sent) return { message: sent, alreadySent: true };
    if (seen?.state === 'sending' && ctx.now().getTime() - seen.attemptAt < leaseMs) {
      // Another worker may be sending right now, or an attempt was cut off before its POST.
      if (Date.now() >= waitUntil) {
        throw new ProtocolError(
          'protocol.send.inProgress',
          `A send with this idempotency key started ${Math.round((ctx.now().getTime() - seen.attemptAt) / 1000)} s ago and has not finished`,
        );
      }
      await sleep(500 + Math.random() * 1_000);
      continue;
    }
    let posted = false;
    try {
      const message = await sendMessage(ctx, {
        ...input,
        beforePost: async (nonce) => {
          await input.beforePost?.(nonce);
          await claim(ctx, marker, seen, nonce, retentionMs);
          posted = true;
        },
      });
      // Should this fail (or the process die first), the record stays `sending` and the next send
      // with the key finds the message by its nonce.
      await recordSent(ctx, marker, message.id).catch(() => undefined);
      return { message, alreadySent: false };
    } catch (error) {
      if (error instanceof ClaimLost) continue;
      if (posted && refused(error)) await markRefused(ctx, marker).catch(() => undefined);
      throw error;
    }
  }
}
