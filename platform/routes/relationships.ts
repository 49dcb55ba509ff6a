/**
 * Relationships (§7): CanCreate, create (allocates the template), get, list (ids required), and the state
 * machine Accept/Reject/Revoke/Terminate/Reactivate(+Accept/Reject/Revoke)/Decompose with audit log and events.
 */
import type { Router, Ctx } from '../http/router';
import { created, ok, paged } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import type { Platform } from '../core';
import { isAddress, isId, newId } from '../util';
import { checkQuotas } from '../domain/quotas';
import { getAndAllocate } from '../domain/templates';
import { identityStatus } from '../domain/identity';
import { addEvent, deleteBlockedMessageEvents, deleteUndeliveredMessageEvents, unblockMessageEvents, type EventType } from '../domain/events';
import {
  auditLog,
  blockingRelationshipExists,
  fullDto,
  hasDecomposed,
  metadataDto,
  peerOf,
  type RelationshipRow,
  type RelationshipStatus,
} from '../domain/relationships';

const MAX_CONTENT = 10 * 1024 * 1024;

function addAudit(p: Platform, r: RelationshipRow, by: { address: string; deviceId: string }, reason: string, oldStatus: string | null, newStatus: string): void {
  p.db.run(
    'INSERT INTO relationship_audit(id, relationship_id, created_at, created_by, created_by_device, reason, old_status, new_status) VALUES(?,?,?,?,?,?,?,?)',
    newId('RAL'),
    r.id,
    p.nowIso(),
    by.address,
    by.deviceId,
    reason,
    oldStatus,
    newStatus,
  );
}

function loadForParticipant(ctx: Ctx): RelationshipRow {
  const id = ctx.params.id;
  if (!isId(id, 'REL')) throw invalid("'Id' is not a valid relationship id.");
  const r = ctx.platform.db.get<RelationshipRow>('SELECT * FROM relationships WHERE id = ?', id);
  if (!r || (r.from_address !== ctx.user.address && r.to_address !== ctx.user.address)) throw notFound('Relationship');
  return r;
}

function wrongStatus(r: RelationshipRow, expected: string): never {
  throw badRequest(Codes.relationship.wrongStatus, `The relationship has to be in status '${expected}' (current status: '${r.status}').`);
}

function setStatus(p: Platform, r: RelationshipRow, status: RelationshipStatus): void {
  p.db.run('UPDATE relationships SET status = ? WHERE id = ?', status, r.id);
  r.status = status;
}

export function registerRelationships(router: Router): void {
  router.add('GET', '/api/v2/Relationships/CanCreate', 'required', (ctx) => {
    const p = ctx.platform;
    const peer = ctx.q('peer');
    if (!isAddress(peer)) throw invalid("'Peer' is not a valid address.");
    const status = identityStatus(p, peer);
    if (!status) throw notFound('Identity');
    if (status !== 'Active') return ok({ canCreate: false, code: Codes.relationship.peerIsToBeDeleted });
    // CanCreate does not check for self (like the real server)
    if (blockingRelationshipExists(p, ctx.user.address, peer)) return ok({ canCreate: false, code: Codes.relationship.alreadyExists });
    return ok({ canCreate: true, code: null });
  });

  router.add('POST', '/api/v2/Relationships', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const templateId = body.id('relationshipTemplateId', 'RLT', { required: true }) as string;
    const creationContent = body.bytes('creationContent', { max: MAX_CONTENT }) ?? null;
    checkQuotas(p, me.address, ['NumberOfRelationships']);
    // allocation is committed here and kept even if a later step fails (like the real server)
    const t = getAndAllocate(p, templateId, me, undefined);
    if (identityStatus(p, t.created_by) !== 'Active')
      throw badRequest(Codes.relationship.peerIsToBeDeleted, 'The peer of the relationship is to be deleted.');
    if (t.created_by === me.address) throw badRequest(Codes.relationship.withYourself, 'You cannot create a relationship with yourself.');
    if (blockingRelationshipExists(p, me.address, t.created_by))
      throw badRequest(Codes.relationship.alreadyExists, 'A relationship to the target identity already exists.');
    const r: RelationshipRow = {
      id: newId('REL'),
      template_id: t.id,
      from_address: me.address,
      to_address: t.created_by,
      status: 'Pending',
      created_at: p.nowIso(),
      creation_content: creationContent,
      creation_response_content: null,
      from_decomposed: 0,
      to_decomposed: 0,
    };
    p.db.tx(() => {
      p.db.run(
        'INSERT INTO relationships(id, template_id, from_address, to_address, status, created_at, creation_content) VALUES(?,?,?,?,?,?,?)',
        r.id,
        r.template_id,
        r.from_address,
        r.to_address,
        r.status,
        r.created_at,
        r.creation_content,
      );
      addAudit(p, r, me, 'Creation', null, 'Pending');
      addEvent(p, r.to_address, 'RelationshipStatusChanged', { relationshipId: r.id });
    });
    return created(metadataDto(p, r));
  });

  router.add('GET', '/api/v2/Relationships/{id}', 'required', (ctx) => {
    const r = loadForParticipant(ctx);
    if (hasDecomposed(r, ctx.user.address)) throw badRequest(Codes.relationship.alreadyDecomposed, 'The relationship was already decomposed.');
    return ok(fullDto(ctx.platform, r));
  });

  router.add('GET', '/api/v2/Relationships', 'required', (ctx) => {
    const p = ctx.platform;
    const paging = ctx.paging();
    const ids = ctx.qAll('ids');
    if (ids.length === 0) throw invalid("'Ids' must contain at least one id.");
    for (const id of ids) if (!isId(id, 'REL')) throw invalid("'Ids' contains an invalid relationship id.");
    const me = ctx.user.address;
    const rows = [...new Set(ids)]
      .map((id) => p.db.get<RelationshipRow>('SELECT * FROM relationships WHERE id = ?', id))
      .filter((r): r is RelationshipRow => !!r && (r.from_address === me || r.to_address === me))
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    // the list does not hide relationships the caller decomposed (only GET by id refuses them)
    return paged(rows, paging, (r) => fullDto(p, r));
  });

  type Action = (ctx: Ctx, r: RelationshipRow, body: { creationResponseContent: Buffer | null }) => void;

  const stateChange = (path: string, needsBody: boolean, action: Action, quota = false): void => {
    router.add('PUT', `/api/v2/Relationships/{id}/${path}`, 'required', async (ctx) => {
      const p = ctx.platform;
      let creationResponseContent: Buffer | null = null;
      if (needsBody) {
        const body = await ctx.json();
        creationResponseContent = body.bytes('creationResponseContent', { max: MAX_CONTENT }) ?? null;
      }
      if (!isId(ctx.params.id, 'REL')) throw invalid("'Id' is not a valid relationship id.");
      // quota before business rules: an exhausted quota wins even over a missing relationship
      if (quota) checkQuotas(p, ctx.user.address, ['NumberOfRelationships']);
      const r = loadForParticipant(ctx);
      p.db.tx(() => action(ctx, r, { creationResponseContent }));
      return ok(metadataDto(p, r));
    });
  };

  const notify = (p: Platform, r: RelationshipRow, actor: string, type: EventType): void => {
    addEvent(p, peerOf(r, actor), type, { relationshipId: r.id });
  };

  stateChange(
    'Accept',
    true,
    (ctx, r, b) => {
      const p = ctx.platform, me = ctx.user;
      if (r.status !== 'Pending') wrongStatus(r, 'Pending');
      if (r.to_address !== me.address)
        throw badRequest(Codes.relationship.acceptOrRejectNotAddressed, 'You cannot accept or reject a relationship that is addressed to someone else.');
      setStatus(p, r, 'Active');
      p.db.run('UPDATE relationships SET creation_response_content = ? WHERE id = ?', b.creationResponseContent, r.id);
      addAudit(p, r, me, 'AcceptanceOfCreation', 'Pending', 'Active');
      notify(p, r, me.address, 'RelationshipStatusChanged');
      unblockMessageEvents(p, r.id);
    },
    true,
  );

  stateChange('Reject', true, (ctx, r, b) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Pending') wrongStatus(r, 'Pending');
    if (r.to_address !== me.address)
      throw badRequest(Codes.relationship.acceptOrRejectNotAddressed, 'You cannot accept or reject a relationship that is addressed to someone else.');
    setStatus(p, r, 'Rejected');
    p.db.run('UPDATE relationships SET creation_response_content = ? WHERE id = ?', b.creationResponseContent, r.id);
    addAudit(p, r, me, 'RejectionOfCreation', 'Pending', 'Rejected');
    notify(p, r, me.address, 'RelationshipStatusChanged');
    deleteBlockedMessageEvents(p, r.id);
  });

  stateChange('Revoke', true, (ctx, r, b) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Pending') wrongStatus(r, 'Pending');
    if (r.from_address !== me.address)
      throw badRequest(Codes.relationship.revokeNotCreated, 'You cannot revoke a relationship that was not created by yourself.');
    setStatus(p, r, 'Revoked');
    if (b.creationResponseContent) p.db.run('UPDATE relationships SET creation_response_content = ? WHERE id = ?', b.creationResponseContent, r.id);
    addAudit(p, r, me, 'RevocationOfCreation', 'Pending', 'Revoked');
    notify(p, r, me.address, 'RelationshipStatusChanged');
    deleteBlockedMessageEvents(p, r.id);
  });

  stateChange('Terminate', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Active') wrongStatus(r, 'Active');
    setStatus(p, r, 'Terminated');
    addAudit(p, r, me, 'Termination', 'Active', 'Terminated');
    notify(p, r, me.address, 'RelationshipStatusChanged');
  });

  const latestAudit = (p: Platform, r: RelationshipRow) => {
    const log = auditLog(p, r.id);
    return log[log.length - 1];
  };

  stateChange('Reactivate', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Terminated') wrongStatus(r, 'Terminated');
    if (latestAudit(p, r)?.reason === 'ReactivationRequested')
      throw badRequest(Codes.relationship.openReactivation, 'There is already an open reactivation request for this relationship.');
    addAudit(p, r, me, 'ReactivationRequested', 'Terminated', 'Terminated');
    notify(p, r, me.address, 'RelationshipReactivationRequested');
  });

  stateChange('Reactivate/Accept', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Terminated') wrongStatus(r, 'Terminated');
    const last = latestAudit(p, r);
    if (last?.reason !== 'ReactivationRequested' || last.created_by === me.address)
      throw badRequest(Codes.relationship.noAcceptableReactivation, 'There is no reactivation request you could accept.');
    setStatus(p, r, 'Active');
    addAudit(p, r, me, 'AcceptanceOfReactivation', 'Terminated', 'Active');
    notify(p, r, me.address, 'RelationshipReactivationCompleted');
    unblockMessageEvents(p, r.id);
  });

  stateChange('Reactivate/Reject', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Terminated') wrongStatus(r, 'Terminated');
    const last = latestAudit(p, r);
    if (last?.reason !== 'ReactivationRequested' || last.created_by === me.address)
      throw badRequest(Codes.relationship.noRejectableReactivation, 'There is no reactivation request you could reject.');
    addAudit(p, r, me, 'RejectionOfReactivation', 'Terminated', 'Terminated');
    notify(p, r, me.address, 'RelationshipReactivationCompleted');
  });

  stateChange('Reactivate/Revoke', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (r.status !== 'Terminated') wrongStatus(r, 'Terminated');
    const last = latestAudit(p, r);
    if (last?.reason !== 'ReactivationRequested' || last.created_by !== me.address)
      throw badRequest(Codes.relationship.noRevocableReactivation, 'There is no reactivation request of yours you could revoke.');
    addAudit(p, r, me, 'RevocationOfReactivation', 'Terminated', 'Terminated');
    notify(p, r, me.address, 'RelationshipReactivationCompleted');
  });

  stateChange('Decompose', false, (ctx, r) => {
    const p = ctx.platform, me = ctx.user;
    if (hasDecomposed(r, me.address)) throw badRequest(Codes.relationship.alreadyDecomposed, 'The relationship was already decomposed.');
    const column = r.from_address === me.address ? 'from_decomposed' : 'to_decomposed';
    if (r.status === 'Rejected' || r.status === 'Revoked' || r.status === 'Terminated') {
      const old = r.status;
      setStatus(p, r, 'DeletionProposed');
      addAudit(p, r, me, 'Decomposition', old, 'DeletionProposed');
      notify(p, r, me.address, 'RelationshipStatusChanged');
    } else if (r.status === 'DeletionProposed') {
      setStatus(p, r, 'ReadyForDeletion');
      addAudit(p, r, me, 'Decomposition', 'DeletionProposed', 'ReadyForDeletion');
    } else {
      wrongStatus(r, 'Terminated, Rejected or Revoked');
    }
    p.db.run(`UPDATE relationships SET ${column} = 1 WHERE id = ?`, r.id);
    if (column === 'from_decomposed') r.from_decomposed = 1;
    else r.to_decomposed = 1;
    deleteUndeliveredMessageEvents(p, r.id, me.address);
  });
}
