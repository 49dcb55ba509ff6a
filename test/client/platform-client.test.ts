/**
 * lib/backbone against the local Platform over real HTTP: every call the package makes, paging,
 * error mapping, token expiry and re-login.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { PlatformClient, PlatformError, isPlatformError } from '../../lib/backbone';
import { createIdentity, type OnboardingResult } from '../../lib/protocol/onboarding';
import { cryptoReady, toBase64Url } from '../../lib/crypto';

let platform: PlatformHandle;
let a: OnboardingResult;
let b: OnboardingResult;

const blob = (n = 64): string => toBase64Url(randomBytes(n));
const future = (ms = 3_600_000): string => new Date(Date.now() + ms).toISOString();

function clientFor(who: OnboardingResult, extra: Partial<ConstructorParameters<typeof PlatformClient>[0]> = {}): PlatformClient {
  return new PlatformClient({
    baseUrl: platform.baseUrl,
    login: {
      clientId: 'test',
      clientSecret: 'test',
      username: who.identity.username,
      password: who.identity.keys.devicePassword,
    },
    ...extra,
  });
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformError);
    return (error as PlatformError).code;
  }
  return 'no error';
}

/** Creates an Active relationship a→b with opaque (unencrypted) contents: the Platform does not look inside. */
async function relate(ca: PlatformClient, cb: PlatformClient): Promise<string> {
  const template = await ca.createTemplate({ content: blob(), maxNumberOfAllocations: 1, expiresAt: future() });
  await cb.getTemplate(template.id);
  const rel = await cb.createRelationship(template.id, blob());
  await ca.acceptRelationship(rel.id, blob());
  return rel.id;
}

beforeAll(async () => {
  await cryptoReady();
  platform = await startPlatform({});
  [a, b] = await Promise.all([
    createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' }),
    createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' }),
  ]);
});

afterAll(async () => {
  await platform?.close();
});

describe('onboarding and identity', () => {
  test('the created identity can log in; address and device match', async () => {
    const client = clientFor(a);
    expect((await client.getIdentity()).address).toBe(a.identity.address);
    expect((await client.getDevice()).username).toBe(a.identity.username);
    expect((await client.getDatawallet()).version).toBe(1);
    expect((await client.getVersion()).majorVersion).toMatch(/^\d+$/);
  });

  test('a wrong client secret is an authentication error naming the Platform answer', async () => {
    const client = new PlatformClient({
      baseUrl: platform.baseUrl,
      login: { clientId: 'test', clientSecret: 'wrong', username: a.identity.username, password: a.identity.keys.devicePassword },
    });
    const error = await client.getIdentity().catch((e: unknown) => e as PlatformError);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).kind).toBe('authentication');
    expect((error as PlatformError).code).toMatch(/^error\.oauth\./);
    expect(JSON.stringify(error)).not.toContain(a.identity.keys.devicePassword);
  });

  test('onboarding with a wrong client secret fails with the Backbone code', async () => {
    expect(await code(createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'nope' }))).toBe(
      'error.platform.unauthorized',
    );
  });
});

describe('tokens, expiry and re-login', () => {
  test('a token the Platform no longer accepts (401) is replaced once, transparently', async () => {
    const client = clientFor(a);
    await client.getIdentity();
    expect(client.logins).toBe(1);
    platform.advanceClock(301_000); // the server now considers the token expired
    try {
      await client.getIdentity();
    } finally {
      platform.advanceClock(-301_000);
    }
    expect(client.logins).toBe(2);
  });

  test('the client logs in again before its token expires (10 s early), without a 401', async () => {
    let now = Date.now();
    const client = clientFor(a, { now: () => now });
    await client.getIdentity();
    now += 289_000; // token valid for 300 s: still more than 10 s left
    await client.getIdentity();
    expect(client.logins).toBe(1);
    now += 2_000; // less than 10 s left
    await client.getIdentity();
    expect(client.logins).toBe(2);
  });

  test('concurrent first calls share one login', async () => {
    const client = clientFor(b);
    await Promise.all(Array.from({ length: 8 }, () => client.getIdentity()));
    expect(client.logins).toBe(1);
  });
});

describe('sync runs, external events and the datawallet', () => {
  test('NoNewEvents, then events after a relationship request, finalize acknowledges them', async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const idle = await ca.startSyncRun('ExternalEventSync');
    expect(idle).toEqual({ status: 'NoNewEvents', syncRun: null });

    const template = await ca.createTemplate({ content: blob(), maxNumberOfAllocations: 1 });
    await cb.getTemplate(template.id);
    const rel = await cb.createRelationship(template.id, blob());

    const run = await ca.startSyncRun('ExternalEventSync');
    expect(run.status).toBe('Created');
    const events = await ca.all(ca.externalEvents(run.syncRun!.id));
    const changed = events.filter((e) => e.type === 'RelationshipStatusChanged');
    expect(changed.map((e) => e.payload.relationshipId)).toContain(rel.id);
    const result = await ca.finalizeExternalEventSync(
      run.syncRun!.id,
      events.map((e) => ({ externalEventId: e.id })),
    );
    expect(result.newUnsyncedExternalEventsExist).toBe(false);
    expect((await ca.startSyncRun('ExternalEventSync')).status).toBe('NoNewEvents');
    await ca.rejectRelationship(rel.id);
  });

  test('a second sync run while one is open is refused with its code', async () => {
    const cb = clientFor(b);
    const ca = clientFor(a);
    await relate(cb, ca).then((id) => cb.terminateRelationship(id)); // events for a
    const run = await ca.startSyncRun('ExternalEventSync');
    expect(run.status).toBe('Created');
    expect(await code(ca.startSyncRun('ExternalEventSync'))).toBe(
      'error.platform.validation.syncRun.cannotStartSyncRunWhenAnotherSyncRunIsRunning',
    );
    const events = await ca.all(ca.externalEvents(run.syncRun!.id));
    await ca.finalizeExternalEventSync(run.syncRun!.id, events.map((e) => ({ externalEventId: e.id })));
  });

  test('datawallet modifications: compare-and-swap on localIndex, paging of the list', async () => {
    const ca = clientFor(a, { pageSize: 2 });
    const mod = (i: number) => ({
      type: 'Create' as const,
      objectIdentifier: `OBJ${i}`,
      collection: 'Test',
      payloadCategory: 'Content',
      encryptedPayload: blob(16),
      datawalletVersion: 1,
    });
    const first = await ca.pushDatawalletModifications(-1, [mod(0), mod(1), mod(2)]);
    expect(first.newIndex).toBe(2);
    expect(first.modifications.map((m) => m.index)).toEqual([0, 1, 2]);
    expect(await code(ca.pushDatawalletModifications(1, [mod(3)]))).toBe('error.platform.validation.datawallet.datawalletNotUpToDate');
    expect((await ca.pushDatawalletModifications(2, [mod(3), mod(4)])).newIndex).toBe(4);
    const all = await ca.all(ca.datawalletModifications(-1));
    expect(all.map((m) => m.index)).toEqual([0, 1, 2, 3, 4]); // five items over three pages of two
    expect((await ca.all(ca.datawalletModifications(2))).map((m) => m.objectIdentifier)).toEqual(['OBJ3', 'OBJ4']);
  });
});

describe('templates, relationships', () => {
  test('template: create, get (allocates), list, exhaustion, password, delete', async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const t = await ca.createTemplate({ content: blob(), maxNumberOfAllocations: 1, expiresAt: future() });
    expect(t.id).toMatch(/^RLT[A-Za-z0-9]{17}$/);
    const got = await cb.getTemplate(t.id);
    expect(got).toMatchObject({ id: t.id, createdBy: a.identity.address, maxNumberOfAllocations: 1 });
    const listed = await ca.all(ca.templates([{ id: t.id }]));
    expect(listed.map((x) => x.id)).toEqual([t.id]);

    const c = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    expect(await code(clientFor(c).getTemplate(t.id))).toBe(
      'error.platform.validation.relationshipTemplate.maxNumberOfAllocationsExhausted',
    );

    const password = Buffer.from('hash-of-a-password').toString('base64');
    const locked = await ca.createTemplate({ content: blob(), password });
    expect(await code(cb.getTemplate(locked.id))).toBe('error.platform.recordNotFound');
    expect((await cb.getTemplate(locked.id, password)).id).toBe(locked.id);

    await ca.deleteTemplate(locked.id);
    expect(await code(ca.getTemplate(locked.id))).toBe('error.platform.recordNotFound');
  });

  test('relationship lifecycle: create, canCreate, get with contents, list, accept, terminate, reactivate, decompose', async () => {
    const c = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    const ca = clientFor(a);
    const cc = clientFor(c);
    expect(await cc.canCreateRelationship(a.identity.address)).toMatchObject({ canCreate: true });
    const t = await ca.createTemplate({ content: blob() });
    await cc.getTemplate(t.id);
    const creation = blob(100);
    const rel = await cc.createRelationship(t.id, creation);
    expect(rel).toMatchObject({ from: c.identity.address, to: a.identity.address, status: 'Pending', relationshipTemplateId: t.id });
    expect(rel.auditLog[0]).toMatchObject({ reason: 'Creation', newStatus: 'Pending', oldStatus: null });
    expect((await cc.canCreateRelationship(a.identity.address)).canCreate).toBe(false);

    const seen = await ca.getRelationship(rel.id);
    expect(seen.creationContent).toBe(creation);
    expect(await code(cc.acceptRelationship(rel.id))).toBe(
      'error.platform.validation.relationship.cannotAcceptOrRejectRelationshipAddressedToSomeoneElse',
    );
    const response = blob(80);
    const accepted = await ca.acceptRelationship(rel.id, response);
    expect(accepted.status).toBe('Active');
    expect((await cc.getRelationship(rel.id)).creationResponseContent).toBe(response);
    expect((await cc.all(cc.relationships([rel.id]))).map((r) => r.status)).toEqual(['Active']);

    expect((await cc.terminateRelationship(rel.id)).status).toBe('Terminated');
    await ca.requestReactivation(rel.id);
    expect((await cc.acceptReactivation(rel.id)).status).toBe('Active');
    await ca.terminateRelationship(rel.id);
    await cc.requestReactivation(rel.id);
    await ca.rejectReactivation(rel.id);
    await cc.requestReactivation(rel.id);
    await cc.revokeReactivation(rel.id);
    expect((await ca.decomposeRelationship(rel.id)).status).toBe('DeletionProposed');
    expect(await code(ca.getRelationship(rel.id))).toBe('error.platform.validation.relationship.relationshipAlreadyDecomposed');
    const audit = (await cc.getRelationship(rel.id)).auditLog.map((e) => e.reason);
    expect(audit).toEqual([
      'Creation',
      'AcceptanceOfCreation',
      'Termination',
      'ReactivationRequested',
      'AcceptanceOfReactivation',
      'Termination',
      'ReactivationRequested',
      'RejectionOfReactivation',
      'ReactivationRequested',
      'RevocationOfReactivation',
      'Decomposition',
    ]);
  });

  test('revoke by the requester', async () => {
    const c = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    const ca = clientFor(a);
    const cc = clientFor(c);
    const t = await ca.createTemplate({ content: blob() });
    await cc.getTemplate(t.id);
    const rel = await cc.createRelationship(t.id, blob());
    expect((await cc.revokeRelationship(rel.id)).status).toBe('Revoked');
  });
});

describe('messages', () => {
  test('send, read as recipient (marks received), list across pages, limits', async () => {
    const c = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    const ca = clientFor(a, { pageSize: 3 });
    const cc = clientFor(c, { pageSize: 3 });
    await relate(ca, cc);
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) {
      const m = await ca.sendMessage({ recipients: [{ address: c.identity.address, encryptedKey: blob(60) }], body: blob(200), attachments: [] });
      expect(m.id).toMatch(/^MSG[A-Za-z0-9]{17}$/);
      sent.push(m.id);
    }
    const mine = await ca.all(ca.messages());
    expect(mine.map((m) => m.id)).toEqual(expect.arrayContaining(sent));
    expect(mine[mine.length - 1].recipients[0].receivedAt).toBeNull();

    const one = await cc.getMessage(sent[0]);
    expect(one.createdBy).toBe(a.identity.address);
    expect(one.recipients).toHaveLength(1);
    expect(one.recipients[0].receivedAt).not.toBeNull();
    // 2 pages of 3; sorted by createdAt (messages created in the same millisecond in any order)
    const listed = await cc.all(cc.messages(sent.slice(0, 5)));
    expect(listed.map((m) => m.id).sort()).toEqual(sent.slice(0, 5).sort());
    expect(listed.map((m) => m.createdAt)).toEqual(listed.map((m) => m.createdAt).sort());

    expect(
      await code(ca.sendMessage({ recipients: [{ address: c.identity.address, encryptedKey: blob(60) }, { address: b.identity.address, encryptedKey: blob(60) }], body: blob(), attachments: [] })),
    ).toBe('error.platform.validation.invalidPropertyValue');
    const stranger = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    expect(await code(ca.sendMessage({ recipients: [{ address: stranger.identity.address, encryptedKey: blob(60) }], body: blob(), attachments: [] }))).toBe(
      'error.platform.validation.message.noRelationshipToRecipientExists',
    );
  });

  test('the unreceived-messages limit (20) is reported with its code', async () => {
    const c = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    const cb = clientFor(b);
    await relate(clientFor(c), cb);
    const send = () => cb.sendMessage({ recipients: [{ address: c.identity.address, encryptedKey: blob(60) }], body: blob(), attachments: [] });
    for (let i = 0; i < 20; i++) await send();
    expect(await code(send())).toBe('error.platform.validation.message.maxNumberOfUnreceivedMessagesReached');
  });
});

describe('files and tokens', () => {
  test('upload (multipart), metadata, download byte-identical, list own, delete', async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const content = randomBytes(300_000);
    const meta = await ca.uploadFile({
      content,
      cipherHash: blob(64),
      owner: a.identity.address,
      ownerSignature: blob(100),
      expiresAt: future(),
      encryptedProperties: blob(200),
    });
    expect(meta.id).toMatch(/^FIL[A-Za-z0-9]{17}$/);
    expect(meta.cipherSize).toBe(content.length);
    expect((await cb.getFileMetadata(meta.id)).owner).toBe(a.identity.address);
    expect((await cb.downloadFile(meta.id)).equals(content)).toBe(true);
    expect((await ca.all(ca.files())).map((f) => f.id)).toContain(meta.id);
    expect(await code(cb.deleteFile(meta.id))).toBe('error.platform.forbidden');
    await ca.deleteFile(meta.id);
    expect(await code(ca.downloadFile(meta.id))).toBe('error.platform.recordNotFound');
  });

  /** A blob source over `bytes`, recording the size of every read; cipherHash as given or the real one. */
  const sourceOf = (bytes: Buffer, reads: number[] = [], cipherHash?: string) => ({
    length: bytes.length,
    open() {
      let at = 0;
      return {
        read(target: Buffer) {
          const n = bytes.copy(target, 0, at);
          at += n;
          reads.push(n);
          return n;
        },
        cipherHash: () => cipherHash ?? toBase64Url(createHash('sha512').update(bytes.subarray(0, at)).digest()),
      };
    },
  });

  test('streamed upload: the blob is read while it is sent, its cipherHash after it; the same file as a buffered upload', async () => {
    const content = randomBytes(300_001);
    const reads: number[] = [];
    const meta = await clientFor(a).uploadFileStreamed({
      content: sourceOf(content, reads),
      owner: a.identity.address,
      ownerSignature: blob(100),
      expiresAt: future(),
      encryptedProperties: blob(200),
    });
    expect(meta.cipherSize).toBe(content.length);
    expect(meta.cipherHash).toBe(toBase64Url(createHash('sha512').update(content).digest()));
    expect((await clientFor(b).downloadFile(meta.id)).equals(content)).toBe(true);
    expect(reads.length).toBeGreaterThan(2); // in pieces, not at once
  });

  test('streamed upload over 10 MiB: refused by the Platform, and the client says so', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x41);
    const result = await code(
      clientFor(a).uploadFileStreamed({ content: sourceOf(big, [], blob(64)), owner: a.identity.address, ownerSignature: blob(100), expiresAt: future(), encryptedProperties: blob() }),
    );
    expect(result).toMatch(/requestBodyTooLarge|invalidPropertyValue/);
  });

  test('an upload over 10 MiB is refused by the Platform, and the client says so', async () => {
    const ca = clientFor(a);
    const result = await code(
      ca.uploadFile({ content: Buffer.alloc(10 * 1024 * 1024 + 1), cipherHash: blob(64), owner: a.identity.address, ownerSignature: blob(100), expiresAt: future(), encryptedProperties: blob() }),
    );
    expect(result).toMatch(/requestBodyTooLarge|invalidPropertyValue/);
  });

  test('token: create, read anonymously and as a peer, password, list, delete', async () => {
    const ca = clientFor(a);
    const cb = clientFor(b);
    const anon = new PlatformClient({ baseUrl: platform.baseUrl });
    const content = blob(120);
    const t = await ca.createToken({ content, expiresAt: future() });
    expect((await anon.getToken(t.id)).content).toBe(content);
    expect((await cb.getToken(t.id)).createdBy).toBe(a.identity.address);
    const password = Buffer.from('pw-hash').toString('base64');
    const p = await ca.createToken({ content, expiresAt: future(), password });
    expect(await code(cb.getToken(p.id))).toBe('error.platform.recordNotFound');
    expect((await cb.getToken(p.id, password)).isPasswordProtected).toBe(true);
    expect((await ca.all(ca.tokens([t.id, p.id]))).length).toBe(2);
    await ca.deleteToken(t.id);
    expect(await code(anon.getToken(t.id))).toBe('error.platform.recordNotFound');
  });
});

describe('error mapping', () => {
  test('unknown ids, malformed ids and missing login are typed errors with the call named', async () => {
    const ca = clientFor(a);
    const error = await ca.getMessage('MSGaaaaaaaaaaaaaaaaa').catch((e: unknown) => e as PlatformError);
    expect(isPlatformError(error, 'error.platform.recordNotFound')).toBe(true);
    expect((error as PlatformError).status).toBe(404);
    expect((error as PlatformError).call).toBe('GET /api/v2/Messages/MSGaaaaaaaaaaaaaaaaa');
    expect(await code(ca.getMessage('nonsense'))).toBe('error.platform.validation.invalidPropertyValue');
    expect(await code(new PlatformClient({ baseUrl: platform.baseUrl }).getIdentity())).toBe('error.client.noLogin');
  });

  test('a template password never appears in an error (it travels in the query string)', async () => {
    const ca = clientFor(a);
    const secret = Buffer.from('very secret password hash').toString('base64');
    const error = await ca.getTemplate('RLTaaaaaaaaaaaaaaaaa', secret).catch((e: unknown) => e as PlatformError);
    expect(error).toBeInstanceOf(PlatformError);
    expect(`${(error as Error).message} ${(error as PlatformError).call} ${JSON.stringify(error)}`).not.toContain(secret);
  });
});
