/**
 * Datawallet (§5.1): GET version, GET modifications (deduplicated, index > localIndex), POST modifications with
 * the strict localIndex compare-and-swap the client relies on to predict indexes.
 */
import type { Router } from '../http/router';
import { created, ok, paged } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import {
  appendModifications,
  checkSupportedVersion,
  latestIndex,
  modificationDto,
  parseModifications,
  supportedVersion,
  walletVersion,
  type ModificationRow,
} from '../domain/datawallet';

export function registerDatawallet(router: Router): void {
  router.add('GET', '/api/v2/Datawallet', 'required', (ctx) => {
    const version = walletVersion(ctx.platform, ctx.user.address);
    if (version === null) throw notFound('Datawallet');
    return ok({ version });
  });

  router.add('GET', '/api/v2/Datawallet/Modifications', 'required', (ctx) => {
    const p = ctx.platform;
    const supported = supportedVersion(ctx, false);
    const rawLocal = ctx.q('localIndex');
    let localIndex = -1;
    if (rawLocal !== undefined && rawLocal !== '') {
      if (!/^\s*-?\d{1,9}\s*$/.test(rawLocal)) throw invalid("The value of 'localIndex' is not valid.");
      localIndex = Number(rawLocal);
    }
    const paging = ctx.paging();
    const version = walletVersion(p, ctx.user.address);
    if (version === null) throw notFound('Datawallet');
    if (supported > 0) checkSupportedVersion(supported, version);
    const rows = p.db.all<ModificationRow>(
      'SELECT * FROM datawallet_modifications WHERE owner = ? AND idx > ? ORDER BY idx',
      ctx.user.address,
      localIndex,
    );
    // Only the newest modification per (objectIdentifier, type, payloadCategory) in the range.
    const newest = new Map<string, number>();
    for (const r of rows) newest.set(JSON.stringify([r.object_identifier, r.type, r.payload_category]), r.idx);
    const deduped = rows.filter((r) => newest.get(JSON.stringify([r.object_identifier, r.type, r.payload_category])) === r.idx);
    return paged(deduped, paging, modificationDto);
  });

  router.add('POST', '/api/v2/Datawallet/Modifications', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    // localIndex is required in the JSON: missing/null → inputCannotBeParsed
    const localIndex = body.int('localIndex', { required: true }) as number;
    const mods = parseModifications(body.objArr('modifications', { required: true }));
    if (mods.length === 0) throw invalid("'Modifications' must not be empty.");
    const supported = supportedVersion(ctx, true);

    const result = p.db.tx(() => {
      const running = p.db.get('SELECT id FROM sync_runs WHERE owner = ? AND finalized_at IS NULL', me.address);
      if (running)
        throw badRequest(Codes.datawallet.cannotPushDuringActiveSyncRun, 'Datawallet modifications cannot be pushed while a sync run is active.');
      const version = walletVersion(p, me.address);
      if (version === null) throw notFound('Datawallet');
      checkSupportedVersion(supported, version);
      const latest = latestIndex(p, me.address);
      if (latest !== null && localIndex !== latest)
        throw badRequest(
          Codes.datawallet.datawalletNotUpToDate,
          `The sent localIndex (${localIndex}) does not match the index of the latest modification (${latest}).`,
        );
      return appendModifications(p, me.address, me.deviceId, mods);
    });
    return created({ newIndex: result[result.length - 1].index, modifications: result });
  });
}
