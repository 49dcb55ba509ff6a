/**
 * Datawallet (§5.1): GET version, GET modifications (deduplicated, index > localIndex; an indexed read, see
 * readModifications), POST modifications with the strict localIndex compare-and-swap the client relies on to
 * predict indexes.
 */
import type { Router } from '../http/router';
import { created, ok } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import {
  appendModifications,
  checkSupportedVersion,
  latestIndex,
  modificationDto,
  parseModifications,
  readModifications,
  supportedVersion,
  walletVersion,
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
    const { rows, pagination } = readModifications(p, ctx.user.address, localIndex, paging);
    return { status: 200, result: rows.map(modificationDto), pagination };
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
