/**
 * What the scale check asserts on the Platform, as the receiver (through lib/protocol, nothing of
 * n8n): every message the sender sent it, opened and verified with the receiver's relationship
 * keys, with the request number from its subject and the counter its key was wrapped with.
 *
 * The counter is the `cnt` of the recipient's key wrap; opening the message proves it is the one
 * the wrap was made with (the receive key and base nonce + cnt give the nonce, and the wrap only
 * decrypts with the right one). The approach of test/protocol/concurrency.test.ts.
 *
 * Also the receiver's drain: while the harness sends, a second reader of the receiver identity
 * fetches every new message (sync events → GET Messages?ids=…), which marks it received on the
 * Platform. Without it the Backbone's 20 unreceived messages per sender and recipient would stop a
 * burst after 20 messages until the trigger's next poll (once a minute) read them.
 */
import { base64UrlToJson, parseCipher } from '../../lib/crypto';
import type { MessageDto } from '../../lib/backbone';
import { isMail, openMessage, sync, type Participant, type Relationship } from '../../lib/protocol';
import { SUBJECT_PATTERN } from './workflows';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Drain {
  readonly fetched = new Set<string>();
  polls = 0;
  errors = 0;
  private stopped = true;
  private loop?: Promise<void>;

  constructor(private readonly receiver: Participant) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const n = await this.poll().catch(() => {
        this.errors++;
        return 0;
      });
      if (n === 0) await sleep(100);
    }
  }

  private async poll(): Promise<number> {
    this.polls++;
    const { events } = await sync(this.receiver);
    const ids = [...new Set(events.map((e) => e.messageId).filter((id): id is string => !!id && !this.fetched.has(id)))];
    for (let i = 0; i < ids.length; i += 50) {
      for await (const dto of this.receiver.client.messages(ids.slice(i, i + 50))) this.fetched.add(dto.id);
    }
    return ids.length;
  }
}

export interface Landed {
  id: string;
  createdAt: string;
  /** From the subject: "Scale <phase> #<n>". */
  phase?: string;
  n?: number;
  attachments: number;
  relationshipId?: string;
  direction: string;
  counter: number;
  /** Why the receiver could not open it (then phase/n are unknown). */
  error?: string;
}

/** Every message from `sender` that the receiver can see, opened. */
export async function landedMessages(receiver: Participant, sender: string, relationship: Relationship): Promise<Landed[]> {
  const dtos: MessageDto[] = (await receiver.client.all(receiver.client.messages())).filter((m) => m.createdBy === sender);
  const out: Landed[] = [];
  for (const dto of dtos) {
    const own = dto.recipients.find((r) => r.address === receiver.address);
    const wrap = own ? (JSON.parse(Buffer.from(own.encryptedKey, 'base64url').toString('utf8')) as { cnt?: unknown; nnc?: unknown }) : {};
    const base = {
      id: dto.id,
      createdAt: dto.createdAt,
      direction: `${dto.createdBy}->${receiver.address}`,
      counter: typeof wrap.cnt === 'number' && wrap.nnc === undefined ? wrap.cnt : -1,
      attachments: dto.attachments.length,
    };
    try {
      const message = await openMessage(receiver, dto, [relationship]);
      const match = isMail(message.content) ? SUBJECT_PATTERN.exec(message.content.subject) : null;
      out.push({
        ...base,
        relationshipId: message.relationshipId,
        attachments: message.attachments.length,
        phase: match?.[1],
        n: match ? Number(match[2]) : undefined,
        error: match ? undefined : 'not a scale-check Mail',
      });
    } catch (error) {
      out.push({ ...base, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}

/** Counter 0 of the templator's direction, used by the acceptance (creation response). */
export async function acceptanceWrap(templator: Participant, relationshipId: string): Promise<{ id: string; relationshipId: string; direction: string; counter: number }> {
  const dto = await templator.client.getRelationship(relationshipId);
  const outer = base64UrlToJson(dto.creationResponseContent!, 'creation response') as { cipher: unknown };
  const cipher = parseCipher(outer.cipher, 'creation response cipher');
  return { id: 'acceptance', relationshipId, direction: `${dto.to}->${dto.from}`, counter: cipher.cnt ?? -1 };
}

/** (relationship, direction, counter) used more than once. */
export function counterReuse(wraps: { id: string; relationshipId?: string; direction: string; counter: number }[]): string[] {
  const seen = new Map<string, string>();
  const reused: string[] = [];
  for (const w of wraps) {
    const key = `${w.relationshipId}|${w.direction}|${w.counter}`;
    const first = seen.get(key);
    if (first) reused.push(`${key} used by ${first} and ${w.id}`);
    else seen.set(key, w.id);
  }
  return reused;
}
