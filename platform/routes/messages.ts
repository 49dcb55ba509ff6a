/**
 * Messages (§8): send (per-recipient relationship/limit checks, MessageReceived held back while the relationship
 * is Pending/Terminated), get and list (the first fetch by a recipient marks its entry received; a recipient
 * sees only its own entry; decomposition hides messages / anonymises recipients).
 */
import type { Router, Ctx } from '../http/router';
import { created, ok } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import type { Platform } from '../core';
import { b64u, isAddress, isId, newId } from '../util';
import { checkQuotas } from '../domain/quotas';
import { addEvent } from '../domain/events';
import { hasDecomposed, youngestBetween, type RelationshipRow } from '../domain/relationships';

const MAX_BODY = 10 * 1024 * 1024;

interface MessageRow {
  id: string;
  created_by: string;
  created_by_device: string;
  body: Buffer;
  created_at: string;
  attachments: string;
}

interface RecipientRow {
  message_id: string;
  position: number;
  address: string;
  encrypted_key: Buffer;
  received_at: string | null;
  received_by_device: string | null;
  relationship_id: string;
}

function relationship(p: Platform, id: string): RelationshipRow | undefined {
  return p.db.get<RelationshipRow>('SELECT * FROM relationships WHERE id = ?', id);
}

/** Returns the recipient entries the caller may see, or undefined when the message is invisible to it. */
function visibleRecipients(p: Platform, m: MessageRow, caller: string): { rows: RecipientRow[]; anonymise: Set<string> } | undefined {
  const recipients = p.db.all<RecipientRow>('SELECT * FROM message_recipients WHERE message_id = ? ORDER BY position', m.id);
  if (m.created_by === caller) {
    const anonymise = new Set<string>();
    for (const r of recipients) {
      const rel = relationship(p, r.relationship_id);
      if (rel && hasDecomposed(rel, caller)) anonymise.add(r.address);
    }
    // the sender loses access only after decomposing towards all recipients
    if (recipients.length > 0 && anonymise.size === recipients.length) return undefined;
    return { rows: recipients, anonymise };
  }
  const own = recipients.find((r) => r.address === caller);
  if (!own) return undefined;
  const rel = relationship(p, own.relationship_id);
  if (rel && hasDecomposed(rel, caller)) return undefined;
  return { rows: [own], anonymise: new Set() };
}

/**
 * The messages the caller may see, in list order (createdAt, then id), by the rules of visibleRecipients but in one
 * query for all of them, without bodies: those it sent (unless it decomposed towards every recipient) and those it
 * received (unless it decomposed the relationship they came through). Each half walks its own index (sender,
 * recipient address) and SQLite sorts, so a list costs one indexed query, not a scan of every message in JavaScript.
 */
const DECOMPOSED_BY_CALLER = 'COALESCE((r.from_address = ?1 AND r.from_decomposed = 1) OR (r.to_address = ?1 AND r.to_decomposed = 1), 0)';
const VISIBLE_MESSAGES = `
  SELECT m.id, m.created_at FROM messages m
   WHERE m.created_by = ?1
     AND (NOT EXISTS (SELECT 1 FROM message_recipients mr WHERE mr.message_id = m.id)
          OR EXISTS (SELECT 1 FROM message_recipients mr LEFT JOIN relationships r ON r.id = mr.relationship_id
                      WHERE mr.message_id = m.id AND NOT ${DECOMPOSED_BY_CALLER}))
  UNION ALL
  SELECT m.id, m.created_at FROM message_recipients mr
    JOIN messages m ON m.id = mr.message_id
    LEFT JOIN relationships r ON r.id = mr.relationship_id
   WHERE mr.address = ?1 AND m.created_by <> ?1 AND NOT ${DECOMPOSED_BY_CALLER}
  ORDER BY created_at, id`;

function visibleMessageIds(p: Platform, caller: string): string[] {
  return p.db.all<{ id: string }>(VISIBLE_MESSAGES, caller).map((r) => r.id);
}

function markReceived(p: Platform, m: MessageRow, caller: string, deviceId: string, rows: RecipientRow[]): void {
  if (m.created_by === caller) return;
  for (const r of rows)
    if (r.address === caller && r.received_at === null) {
      r.received_at = p.nowIso();
      r.received_by_device = deviceId;
      p.db.run(
        'UPDATE message_recipients SET received_at = ?, received_by_device = ? WHERE message_id = ? AND position = ?',
        r.received_at,
        deviceId,
        r.message_id,
        r.position,
      );
    }
}

function dto(p: Platform, m: MessageRow, v: { rows: RecipientRow[]; anonymise: Set<string> }) {
  return {
    id: m.id,
    createdAt: m.created_at,
    createdBy: m.created_by,
    createdByDevice: m.created_by_device,
    body: b64u(m.body),
    attachments: (JSON.parse(m.attachments) as string[]).map((id) => ({ id })),
    recipients: v.rows.map((r) => ({
      address: v.anonymise.has(r.address) ? p.anonymous : r.address,
      encryptedKey: b64u(r.encrypted_key),
      receivedAt: r.received_at,
      receivedByDevice: r.received_by_device,
    })),
  };
}

function readAndMark(ctx: Ctx, ms: MessageRow[]) {
  const p = ctx.platform;
  const me = ctx.user;
  return p.db.tx(() =>
    ms.map((m) => {
      const v = visibleRecipients(p, m, me.address)!;
      markReceived(p, m, me.address, me.deviceId, v.rows);
      return dto(p, m, v);
    }),
  );
}

export function registerMessages(router: Router): void {
  router.add('POST', '/api/v2/Messages', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const recipientsIn = body.objArr('recipients', { required: true })!;
    const recipients = recipientsIn.map((r) => {
      const address = r.str('address', { required: true, max: 100 }) as string;
      if (!isAddress(address)) throw invalid("'Recipients[].Address' is not a valid address.");
      const encryptedKey = r.bytes('encryptedKey', { required: true, min: 30, max: 300 }) as Buffer;
      return { address, encryptedKey };
    });
    const content = body.bytes('body', { required: true, min: 1, max: MAX_BODY }) as Buffer;
    const attachments = (body.objArr('attachments') ?? []).map((a) => a.id('id', 'FIL', { required: true }) as string);
    if (recipients.length < 1 || recipients.length > p.config.maxNumberOfMessageRecipients)
      throw invalid(`The number of recipients must be between 1 and ${p.config.maxNumberOfMessageRecipients}.`);
    if (new Set(recipients.map((r) => r.address)).size !== recipients.length) throw invalid('Recipients must be unique.');
    if (attachments.length > 20) throw invalid('A message can have at most 20 attachments.');
    checkQuotas(p, me.address, ['NumberOfSentMessages']);

    const checked = recipients.map((r) => {
      const rel = youngestBetween(p, me.address, r.address);
      if (!rel) throw badRequest(Codes.message.noRelationship, `No relationship to recipient ${r.address} exists.`);
      if (rel.status !== 'Active' && rel.status !== 'Pending' && rel.status !== 'Terminated')
        throw badRequest(Codes.message.relationshipNotActive, `The relationship to recipient ${r.address} is not active.`);
      const unreceived = p.db.get<{ n: number }>(
        'SELECT COUNT(*) n FROM message_recipients mr JOIN messages m ON m.id = mr.message_id WHERE m.created_by = ? AND mr.address = ? AND mr.received_at IS NULL',
        me.address,
        r.address,
      )!.n;
      if (unreceived >= p.config.maxUnreceivedMessages)
        throw badRequest(
          Codes.message.maxUnreceived,
          `The maximum number of unreceived messages (${p.config.maxUnreceivedMessages}) to recipient ${r.address} has been reached.`,
        );
      return { ...r, rel };
    });

    const id = newId('MSG');
    const createdAt = p.nowIso();
    p.db.tx(() => {
      p.db.run(
        'INSERT INTO messages(id, created_by, created_by_device, body, created_at, attachments) VALUES(?,?,?,?,?,?)',
        id,
        me.address,
        me.deviceId,
        content,
        createdAt,
        JSON.stringify(attachments),
      );
      checked.forEach((r, i) => {
        p.db.run(
          'INSERT INTO message_recipients(message_id, position, address, encrypted_key, relationship_id) VALUES(?,?,?,?,?)',
          id,
          i,
          r.address,
          r.encryptedKey,
          r.rel.id,
        );
        // held back while Pending/Terminated; released on (re)activation
        const blocked = r.rel.status === 'Pending' || r.rel.status === 'Terminated';
        addEvent(p, r.address, 'MessageReceived', { id }, { blocked, relationshipId: r.rel.id });
      });
    });
    return created({ id, createdAt });
  });

  router.add('GET', '/api/v2/Messages/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const id = ctx.params.id;
    if (!isId(id, 'MSG')) throw invalid("'Id' is not a valid message id.");
    const m = p.db.get<MessageRow>('SELECT * FROM messages WHERE id = ?', id);
    if (!m || !visibleRecipients(p, m, ctx.user.address)) throw notFound('Message');
    return ok(readAndMark(ctx, [m])[0]);
  });

  router.add('GET', '/api/v2/Messages', 'required', (ctx) => {
    const p = ctx.platform;
    const me = ctx.user.address;
    const paging = ctx.paging();
    const ids = ctx.qAll('ids');
    for (const id of ids) if (!isId(id, 'MSG')) throw invalid("'Ids' contains an invalid message id.");
    const load = (id: string) => p.db.get<MessageRow>('SELECT * FROM messages WHERE id = ?', id);
    let visible: string[];
    if (ids.length > 0) {
      visible = [...new Set(ids)]
        .map(load)
        .filter((m): m is MessageRow => !!m && !!visibleRecipients(p, m, me))
        .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1))
        .map((m) => m.id);
    } else {
      visible = visibleMessageIds(p, me);
    }
    const start = (paging.pageNumber - 1) * paging.pageSize;
    const pageItems = readAndMark(ctx, visible.slice(start, start + paging.pageSize).map((id) => load(id)!));
    // reuse paging math on the already-sliced page
    const totalPages = Math.ceil(visible.length / paging.pageSize);
    return {
      status: 200,
      result: pageItems,
      pagination: totalPages > 1 ? { pageNumber: paging.pageNumber, pageSize: paging.pageSize, totalPages, totalRecords: visible.length } : undefined,
    };
  });

}
