/**
 * Sync runs (§5.2): one run at a time per identity; an expired unfinalized run is cancelled by the next start
 * (its events go back with syncErrorCount+1); ExternalEventSync takes all unsynced events; finalize acknowledges
 * listed events and detaches failed/unlisted ones (dropped after 3 failures).
 */
import type { Router, Ctx } from '../http/router';
import { created, ok, paged } from '../http/router';
import { ApiError, badRequest, Codes, invalid, notFound } from '../http/errors';
import type { Platform } from '../core';
import { iso, isId, newId } from '../util';
import { identityStatus } from '../domain/identity';
import {
  appendModifications,
  checkSupportedVersion,
  latestIndex,
  parseModifications,
  supportedVersion,
  walletVersion,
} from '../domain/datawallet';

const TYPES = ['ExternalEventSync', 'DatawalletVersionUpgrade'] as const;
const MAX_SYNC_ERRORS = 3;

interface RunRow {
  id: string;
  owner: string;
  idx: number;
  type: string;
  expires_at: string;
  created_at: string;
  created_by_device: string;
  event_count: number;
  finalized_at: string | null;
}

interface EventRow {
  id: string;
  idx: number;
  type: string;
  payload: string;
  created_at: string;
  sync_error_count: number;
}

const runDto = (r: RunRow) => ({
  id: r.id,
  type: r.type,
  expiresAt: r.expires_at,
  index: r.idx,
  createdAt: r.created_at,
  createdBy: r.owner,
  createdByDevice: r.created_by_device,
  eventCount: r.event_count,
});

const eventDto = (e: EventRow) => ({
  id: e.id,
  type: e.type,
  index: e.idx,
  createdAt: e.created_at,
  syncErrorCount: e.sync_error_count,
  payload: JSON.parse(e.payload) as unknown,
});

function loadRun(ctx: Ctx): RunRow {
  const id = ctx.params.id;
  if (!isId(id, 'SYR')) throw invalid("'Id' is not a valid sync run id.");
  const run = ctx.platform.db.get<RunRow>('SELECT * FROM sync_runs WHERE id = ? AND owner = ?', id, ctx.user.address);
  if (!run) throw notFound('SyncRun');
  return run;
}

const UNSYNCED = 'owner = ? AND sync_run_id IS NULL AND blocked = 0 AND sync_error_count < ?';

function cancelRun(p: Platform, run: RunRow): void {
  // syncRunCanceled counts as a failure for every event of the run
  p.db.run('UPDATE external_events SET sync_run_id = NULL, sync_error_count = sync_error_count + 1 WHERE sync_run_id = ?', run.id);
  p.db.run('UPDATE sync_runs SET finalized_at = ? WHERE id = ?', p.nowIso(), run.id);
}

export function registerSyncRuns(router: Router): void {
  router.add('POST', '/api/v2/SyncRuns', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const type = body.enumOf('type', TYPES) ?? 'ExternalEventSync';
    const duration = body.int('duration', { min: 1, max: 65535 }) ?? p.config.defaultSyncRunDurationSeconds;
    const supported = supportedVersion(ctx, true);

    return p.db.tx(() => {
      if (identityStatus(p, me.address) !== 'Active')
        throw badRequest(Codes.syncRun.identityToBeDeleted, 'A sync run cannot be started while the identity is to be deleted.');
      const wallet = walletVersion(p, me.address);
      if (type === 'ExternalEventSync' && wallet === null) throw notFound('Datawallet');
      if (wallet !== null) checkSupportedVersion(supported, wallet);

      const previous = p.db.get<RunRow>('SELECT * FROM sync_runs WHERE owner = ? ORDER BY idx DESC LIMIT 1', me.address);
      if (previous && previous.finalized_at === null) {
        if (previous.expires_at > p.nowIso())
          throw badRequest(Codes.syncRun.anotherRunning, `A sync run with id '${previous.id}' is currently running. Try again later.`);
        cancelRun(p, previous);
      }

      let events: { id: string }[] = [];
      if (type === 'ExternalEventSync') {
        events = p.db.all<{ id: string }>(`SELECT id FROM external_events WHERE ${UNSYNCED} ORDER BY idx`, me.address, MAX_SYNC_ERRORS);
        if (events.length === 0) return ok({ status: 'NoNewEvents', syncRun: null });
      }
      const run: RunRow = {
        id: newId('SYR'),
        owner: me.address,
        idx: previous ? previous.idx + 1 : 0,
        type,
        expires_at: iso(p.nowMs() + duration * 1000),
        created_at: p.nowIso(),
        created_by_device: me.deviceId,
        event_count: events.length,
        finalized_at: null,
      };
      p.db.run(
        'INSERT INTO sync_runs(id, owner, idx, type, expires_at, created_at, created_by_device, event_count) VALUES(?,?,?,?,?,?,?,?)',
        run.id,
        run.owner,
        run.idx,
        run.type,
        run.expires_at,
        run.created_at,
        run.created_by_device,
        run.event_count,
      );
      for (const e of events) p.db.run('UPDATE external_events SET sync_run_id = ? WHERE id = ?', run.id, e.id);
      return created({ status: 'Created', syncRun: runDto(run) });
    });
  });

  router.add('GET', '/api/v2/SyncRuns/{id}', 'required', (ctx) => ok(runDto(loadRun(ctx))));

  router.add('PUT', '/api/v2/SyncRuns/{id}/RefreshExpirationTime', 'required', (ctx) => {
    const p = ctx.platform;
    const run = loadRun(ctx);
    if (run.created_by_device !== ctx.user.deviceId)
      throw badRequest(Codes.syncRun.refreshByAnotherDevice, 'You cannot refresh the expiration time of a sync run started by another device.');
    if (run.finalized_at) throw badRequest(Codes.syncRun.alreadyFinalized, 'The sync run is already finalized.');
    const expiresAt = iso(p.nowMs() + p.config.defaultSyncRunDurationSeconds * 1000);
    p.db.run('UPDATE sync_runs SET expires_at = ? WHERE id = ?', expiresAt, run.id);
    return ok({ expiresAt });
  });

  router.add('GET', '/api/v2/SyncRuns/{id}/ExternalEvents', 'required', (ctx) => {
    const run = loadRun(ctx);
    const paging = ctx.paging();
    if (run.created_by_device !== ctx.user.deviceId)
      throw badRequest(Codes.syncRun.readByAnotherDevice, 'You cannot read the external events of a sync run started by another device.');
    if (run.finalized_at) throw badRequest(Codes.syncRun.alreadyFinalized, 'The sync run is already finalized.');
    const rows = ctx.platform.db.all<EventRow>('SELECT * FROM external_events WHERE sync_run_id = ? ORDER BY idx', run.id);
    return paged(rows, paging, eventDto);
  });

  router.add('PUT', '/api/v2/SyncRuns/{id}/FinalizeExternalEventSync', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const results = (body.objArr('externalEventResults') ?? []).map((r) => ({
      id: r.str('externalEventId', { required: true, max: 100 }) as string,
      errorCode: r.str('errorCode', { max: 100 }) ?? null,
    }));
    const mods = parseModifications(body.objArr('datawalletModifications'));
    const run = loadRun(ctx);
    checkFinalizable(run, me.deviceId, 'ExternalEventSync');

    return p.db.tx(() => {
      const acknowledged = new Set(results.filter((r) => !r.errorCode || r.errorCode === '').map((r) => r.id));
      const events = p.db.all<{ id: string }>('SELECT id FROM external_events WHERE sync_run_id = ?', run.id);
      for (const e of events) {
        if (acknowledged.has(e.id)) continue; // done for good (stays attached to the run)
        // errorCode given, or not listed (notProcessed): detach and count a failure
        p.db.run('UPDATE external_events SET sync_run_id = NULL, sync_error_count = sync_error_count + 1 WHERE id = ?', e.id);
      }
      p.db.run('UPDATE sync_runs SET finalized_at = ? WHERE id = ?', p.nowIso(), run.id);
      // appended without localIndex check
      const added = mods.length > 0 ? appendModifications(p, me.address, me.deviceId, mods) : [];
      const more = p.db.get("SELECT 1 FROM external_events WHERE owner = ? AND sync_run_id IS NULL AND blocked = 0 AND sync_error_count = 0 LIMIT 1", me.address);
      return ok({
        newDatawalletModificationIndex: latestIndex(p, me.address),
        datawalletModifications: added,
        newUnsyncedExternalEventsExist: !!more,
      });
    });
  });

  router.add('PUT', '/api/v2/SyncRuns/{id}/FinalizeDatawalletVersionUpgrade', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const newVersion = body.int('newDatawalletVersion', { required: true, min: 0, max: 65535 }) as number;
    if (newVersion === 0) throw invalid("'NewDatawalletVersion' must not be 0.");
    const mods = parseModifications(body.objArr('datawalletModifications'));
    const run = loadRun(ctx);
    checkFinalizable(run, me.deviceId, 'DatawalletVersionUpgrade');

    return p.db.tx(() => {
      const current = walletVersion(p, me.address);
      if (current !== null && newVersion < current)
        throw new ApiError(400, Codes.datawallet.cannotDowngrade, `The datawallet cannot be downgraded from version ${current} to ${newVersion}.`);
      p.db.run('UPDATE identities SET datawallet_version = ? WHERE address = ?', newVersion, me.address);
      p.db.run('UPDATE sync_runs SET finalized_at = ? WHERE id = ?', p.nowIso(), run.id);
      const added = mods.length > 0 ? appendModifications(p, me.address, me.deviceId, mods) : [];
      return ok({ newDatawalletModificationIndex: latestIndex(p, me.address), datawalletModifications: added });
    });
  });
}

function checkFinalizable(run: RunRow, deviceId: string, type: string): void {
  if (run.created_by_device !== deviceId)
    throw badRequest(Codes.syncRun.finalizeByAnotherDevice, 'You cannot finalize a sync run started by another device.');
  if (run.finalized_at) throw badRequest(Codes.syncRun.alreadyFinalized, 'The sync run is already finalized.');
  if (run.type !== type) throw badRequest(Codes.syncRun.unexpectedType, `The sync run has the wrong type (expected ${type}).`);
}
