import { DW, b64u, createIdentity, expectError, relate, withPlatform, type PlatformHandle, type Identity } from './helpers';

let platform: PlatformHandle;
let base: string;
beforeAll(async () => {
  platform = await withPlatform();
  base = platform.baseUrl;
});
afterAll(() => platform.close());

const mod = (objectIdentifier: string, type = 'Create', payloadCategory: string | null = 'Content') => ({
  type,
  objectIdentifier,
  collection: 'Relationships',
  payloadCategory,
  encryptedPayload: b64u(`payload-${objectIdentifier}-${type}`),
  datawalletVersion: 1,
});

describe('datawallet version upgrade', () => {
  it('has no datawallet before the upgrade; header rules; upgrade then ExternalEventSync', async () => {
    const id = await createIdentity(base, { datawallet: false });
    expectError(await id.req('GET', '/api/v2/Datawallet'), 404, 'error.platform.recordNotFound');
    expectError(await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'ExternalEventSync' }, headers: DW }), 404, 'error.platform.recordNotFound');
    expectError(await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' } }), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(
      await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: { 'x-supported-datawallet-version': '0' } }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    const start = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: DW });
    expect(start.status).toBe(201);
    expect(start.body.result.status).toBe('Created');
    const run = start.body.result.syncRun;
    expect(run).toMatchObject({ type: 'DatawalletVersionUpgrade', index: 0, createdBy: id.address, createdByDevice: id.deviceId, eventCount: 0 });
    expect(run.id).toMatch(/^SYR[A-Za-z0-9]{17}$/);
    // a second start while the first runs
    const again = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: DW });
    expectError(again, 400, 'error.platform.validation.syncRun.cannotStartSyncRunWhenAnotherSyncRunIsRunning');
    expect(again.body.error.message).toContain(run.id);
    expectError(
      await id.req('PUT', `/api/v2/SyncRuns/${run.id}/FinalizeExternalEventSync`, { json: { externalEventResults: [] }, headers: DW }),
      400,
      'error.platform.validation.syncRun.unexpectedSyncRunType',
    );
    const fin = await id.req('PUT', `/api/v2/SyncRuns/${run.id}/FinalizeDatawalletVersionUpgrade`, {
      json: { newDatawalletVersion: 1, datawalletModifications: [] },
      headers: DW,
    });
    expect(fin.status).toBe(200);
    expect(fin.body.result).toEqual({ newDatawalletModificationIndex: null, datawalletModifications: [] });
    expectError(
      await id.req('PUT', `/api/v2/SyncRuns/${run.id}/FinalizeDatawalletVersionUpgrade`, { json: { newDatawalletVersion: 1 }, headers: DW }),
      400,
      'error.platform.validation.syncRun.syncRunAlreadyFinalized',
    );
    expect((await id.req('GET', '/api/v2/Datawallet')).body).toEqual({ result: { version: 1 } });
    const sync = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'ExternalEventSync' }, headers: DW });
    expect(sync.status).toBe(200);
    expect(sync.body.result).toEqual({ status: 'NoNewEvents', syncRun: null });
    // header lower than the wallet version after an upgrade to 2
    const up = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: { 'x-supported-datawallet-version': '2' } });
    expect(up.body.result.syncRun.index).toBe(1);
    await id.req('PUT', `/api/v2/SyncRuns/${up.body.result.syncRun.id}/FinalizeDatawalletVersionUpgrade`, {
      json: { newDatawalletVersion: 2 },
      headers: { 'x-supported-datawallet-version': '2' },
    });
    expectError(
      await id.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW }),
      400,
      'error.platform.validation.datawallet.insufficientSupportedDatawalletVersion',
    );
    expectError(await id.req('GET', '/api/v2/Datawallet/Modifications', { headers: DW }), 400, 'error.platform.validation.datawallet.insufficientSupportedDatawalletVersion');
    const down = await id.req('POST', '/api/v2/SyncRuns', { json: { type: 'DatawalletVersionUpgrade' }, headers: { 'x-supported-datawallet-version': '2' } });
    expectError(
      await id.req('PUT', `/api/v2/SyncRuns/${down.body.result.syncRun.id}/FinalizeDatawalletVersionUpgrade`, {
        json: { newDatawalletVersion: 1 },
        headers: { 'x-supported-datawallet-version': '2' },
      }),
      400,
      'error.platform.datawallet.cannotDowngrade',
    );
  });
});

describe('datawallet modifications', () => {
  it('gapless indexes, strict localIndex, dedup on read, no push during a sync run', async () => {
    const id = await createIdentity(base);
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { modifications: [mod('A')] }, headers: DW }),
      400,
      'error.platform.inputCannotBeParsed',
    );
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: null, modifications: [mod('A')] }, headers: DW }),
      400,
      'error.platform.inputCannotBeParsed',
    );
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: -1, modifications: [] }, headers: DW }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: -1, modifications: [mod('A')] } }),
      400,
      'error.platform.validation.invalidPropertyValue',
    );
    // empty wallet accepts any localIndex
    const first = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 41, modifications: [mod('A'), mod('B')] }, headers: DW });
    expect(first.status).toBe(201);
    expect(first.body.result.newIndex).toBe(1);
    expect(first.body.result.modifications.map((m: any) => m.index)).toEqual([0, 1]);
    expect(first.body.result.modifications[0].id).toMatch(/^DWM[A-Za-z0-9]{17}$/);
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 0, modifications: [mod('C')] }, headers: DW }),
      400,
      'error.platform.validation.datawallet.datawalletNotUpToDate',
    );
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 1, modifications: [{ ...mod('C'), datawalletVersion: 5 }] }, headers: DW }),
      400,
      'error.platform.datawallet.datawalletVersionOfModificationTooHigh',
    );
    const second = await id.req('POST', '/api/v2/Datawallet/Modifications', {
      json: { localIndex: 1, modifications: [mod('A', 'Update'), mod('A', 'Update'), mod('C', 'Delete', null)] },
      headers: DW,
    });
    expect(second.body.result.modifications.map((m: any) => m.index)).toEqual([2, 3, 4]);
    const all = await id.req('GET', '/api/v2/Datawallet/Modifications?localIndex=-1', { headers: DW });
    // A/Update at 2 is superseded by A/Update at 3
    expect(all.body.result.map((m: any) => m.index)).toEqual([0, 1, 3, 4]);
    expect(all.body.result[0]).toMatchObject({
      objectIdentifier: 'A',
      type: 'Create',
      collection: 'Relationships',
      payloadCategory: 'Content',
      datawalletVersion: 1,
      createdByDevice: id.deviceId,
      encryptedPayload: b64u('payload-A-Create'),
    });
    expect((await id.req('GET', '/api/v2/Datawallet/Modifications?localIndex=2')).body.result.map((m: any) => m.index)).toEqual([3, 4]);

    // an open (even expired) sync run blocks pushes; the next start cancels the expired one
    const other = await createIdentity(base);
    await relate(id, other, false); // gives `id` an event (creation of a relationship to its template)
    const run = await id.req('POST', '/api/v2/SyncRuns', { json: { duration: 1 }, headers: DW });
    expect(run.status).toBe(201);
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 4, modifications: [mod('D')] }, headers: DW }),
      400,
      'error.platform.validation.datawallet.cannotPushDatawalletModificationsDuringActiveSyncRun',
    );
    platform.advanceClock(2000);
    expectError(
      await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: 4, modifications: [mod('D')] }, headers: DW }),
      400,
      'error.platform.validation.datawallet.cannotPushDatawalletModificationsDuringActiveSyncRun',
    );
    const restart = await id.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW });
    expect(restart.status).toBe(201);
    const events = await id.req('GET', `/api/v2/SyncRuns/${restart.body.result.syncRun.id}/ExternalEvents`);
    // the cancelled run counted as a failure
    expect(events.body.result.every((e: any) => e.syncErrorCount === 1)).toBe(true);
    // finalize appends modifications without localIndex check
    const fin = await id.req('PUT', `/api/v2/SyncRuns/${restart.body.result.syncRun.id}/FinalizeExternalEventSync`, {
      json: { externalEventResults: events.body.result.map((e: any) => ({ externalEventId: e.id })), datawalletModifications: [mod('E')] },
      headers: DW,
    });
    expect(fin.body.result).toMatchObject({ newDatawalletModificationIndex: 5, newUnsyncedExternalEventsExist: false });
    expect(fin.body.result.datawalletModifications[0].index).toBe(5);
  });
});

describe('external events', () => {
  let a: Identity, b: Identity;
  beforeAll(async () => {
    a = await createIdentity(base);
    b = await createIdentity(base);
  });

  it('are acknowledged, retried at most 3 times, and counted by newUnsyncedExternalEventsExist', async () => {
    const rel = await relate(a, b, false); // a gets RelationshipStatusChanged
    const start = await a.req('POST', '/api/v2/SyncRuns', { json: { type: 'ExternalEventSync' }, headers: DW });
    expect(start.status).toBe(201);
    const runId = start.body.result.syncRun.id;
    expect(start.body.result.syncRun.eventCount).toBe(1);
    const ev = await a.req('GET', `/api/v2/SyncRuns/${runId}/ExternalEvents`);
    expect(ev.body.result).toHaveLength(1);
    expect(ev.body.result[0]).toMatchObject({ type: 'RelationshipStatusChanged', index: 0, syncErrorCount: 0, payload: { relationshipId: rel } });
    expect(ev.body.result[0].id).toMatch(/^SYI[A-Za-z0-9]{17}$/);
    expect((await a.req('GET', `/api/v2/SyncRuns/${runId}`)).body.result.id).toBe(runId);

    // report an error → detached with syncErrorCount 1, not counted as "new"
    let fin = await a.req('PUT', `/api/v2/SyncRuns/${runId}/FinalizeExternalEventSync`, {
      json: { externalEventResults: [{ externalEventId: ev.body.result[0].id, errorCode: 'error.transport.unknown' }] },
      headers: DW,
    });
    expect(fin.body.result.newUnsyncedExternalEventsExist).toBe(false);
    expectError(await a.req('GET', `/api/v2/SyncRuns/${runId}/ExternalEvents`), 400, 'error.platform.validation.syncRun.syncRunAlreadyFinalized');

    // second and third failures (second: not listed at all = notProcessed)
    for (const expected of [1, 2]) {
      const s = await a.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW });
      expect(s.status).toBe(201);
      const list = await a.req('GET', `/api/v2/SyncRuns/${s.body.result.syncRun.id}/ExternalEvents`);
      expect(list.body.result[0].syncErrorCount).toBe(expected);
      fin = await a.req('PUT', `/api/v2/SyncRuns/${s.body.result.syncRun.id}/FinalizeExternalEventSync`, { json: { externalEventResults: [] }, headers: DW });
      expect(fin.status).toBe(200);
    }
    // after 3 failures it is dropped
    expect((await a.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW })).body.result.status).toBe('NoNewEvents');

    // acknowledged events never come back; newUnsyncedExternalEventsExist sees events created during the run
    await b.req('PUT', `/api/v2/Relationships/${rel}/Revoke`, { json: {} }); // a: StatusChanged
    const s = await a.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW });
    const list = await a.req('GET', `/api/v2/SyncRuns/${s.body.result.syncRun.id}/ExternalEvents`);
    expect(list.body.result.map((e: any) => e.index)).toEqual([1]);
    await relate(a, b, false); // new event while the run is open
    fin = await a.req('PUT', `/api/v2/SyncRuns/${s.body.result.syncRun.id}/FinalizeExternalEventSync`, {
      json: { externalEventResults: [{ externalEventId: list.body.result[0].id }] },
      headers: DW,
    });
    expect(fin.body.result.newUnsyncedExternalEventsExist).toBe(true);
    const rest = await a.sync();
    expect(rest.map((e) => e.type)).toEqual(['RelationshipStatusChanged']);
    expect((await a.sync()).length).toBe(0);
  });

  it('only the creating device may read/finalize; RefreshExpirationTime', async () => {
    a = await createIdentity(base);
    b = await createIdentity(base);
    await relate(a, b, false);
    const s = await a.req('POST', '/api/v2/SyncRuns', { json: {}, headers: DW });
    const runId = s.body.result.syncRun.id;
    // a second device of a
    const { newChallenge, signChallenge, strongPassword, getToken } = await import('./helpers');
    const c = await newChallenge(base, a.token);
    const text = JSON.stringify({ expiresAt: c.expiresAt, id: c.id, type: 'Device' });
    const pw = strongPassword();
    const d = await a.req('POST', '/api/v2/Devices', { json: { devicePassword: pw, signedChallenge: { challenge: text, signature: signChallenge(text, a.keyPair) } } });
    const t2 = (await getToken(base, d.body.result.username, pw)).body.access_token;
    const { request } = await import('./helpers');
    expectError(
      await request(base, 'GET', `/api/v2/SyncRuns/${runId}/ExternalEvents`, { token: t2 }),
      400,
      'error.platform.validation.syncRun.cannotReadExternalEventsOfASyncRunStartedByAnotherDevice',
    );
    expectError(
      await request(base, 'PUT', `/api/v2/SyncRuns/${runId}/FinalizeExternalEventSync`, { token: t2, json: {}, headers: DW }),
      400,
      'error.platform.validation.syncRun.cannotFinalizeSyncRunStartedByAnotherDevice',
    );
    const refreshed = await a.req('PUT', `/api/v2/SyncRuns/${runId}/RefreshExpirationTime`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.result.expiresAt).toMatch(/Z$/);
    expect((await b.req('GET', `/api/v2/SyncRuns/${runId}`)).status).toBe(404);
    await a.req('PUT', `/api/v2/SyncRuns/${runId}/FinalizeExternalEventSync`, { json: { externalEventResults: [] }, headers: DW });
  });
});
