/**
 * Identities (§3.2, §4): create (anonymous, signed challenge), Self, IsDeleted, deletion processes.
 * Deletion processes are modelled minimally: starting one makes the identity ToBeDeleted and notifies peers;
 * cancelling restores Active. The grace-period expiry (actual deletion) is not emulated.
 */
import type { Router } from '../http/router';
import { created, ok, paged } from '../http/router';
import { ApiError, badRequest, Codes, invalid, notFound } from '../http/errors';
import { deriveAddress, iso, isId, newId } from '../util';
import { TIER_ID, type Platform } from '../core';
import { parsePublicKey } from '../domain/crypto';
import { checkSignedChallenge } from './challenges';
import { activePeers, checkLanguage, checkPasswordPolicy, createDevice } from '../domain/identity';
import { addEvent } from '../domain/events';

interface DeletionRow {
  id: string;
  address: string;
  status: string;
  created_at: string;
  created_by_device: string;
  grace_period_ends_at: string | null;
  cancelled_at: string | null;
}

const deletionDto = (d: DeletionRow) => ({
  id: d.id,
  status: d.status,
  createdAt: d.created_at,
  createdByDevice: d.created_by_device,
  approvedAt: d.created_at,
  approvedByDevice: d.created_by_device,
  gracePeriodEndsAt: d.grace_period_ends_at,
  gracePeriodReminder1SentAt: null,
  gracePeriodReminder2SentAt: null,
  gracePeriodReminder3SentAt: null,
  cancelledAt: d.cancelled_at,
});

export function registerIdentities(router: Router): void {
  router.add('POST', '/api/v2/Identities', 'anonymous', async (ctx) => {
    const p = ctx.platform;
    const body = await ctx.json();
    const clientId = body.str('clientId', { required: true, max: 200 }) as string;
    const clientSecret = body.str('clientSecret', { required: true, max: 500 }) as string;
    const publicKeyText = body.str('identityPublicKey', { required: true, max: 2000 }) as string;
    const devicePassword = body.str('devicePassword', { required: true, max: 1000 }) as string;
    const identityVersion = body.int('identityVersion') ?? 0;
    if (identityVersion < 0 || identityVersion > 255) throw invalid("'IdentityVersion' must be a byte.");
    const language = checkLanguage(body.str('deviceCommunicationLanguage', { max: 50 }));
    const signed = body.obj('signedChallenge', { required: true })!;
    signed.str('challenge', { required: true, max: 10000 });
    signed.str('signature', { required: true, max: 10000 });

    // 1. client
    const client = p.db.get<{ client_secret: string; max_identities: number | null }>('SELECT * FROM clients WHERE client_id = ?', clientId);
    if (!client || client.client_secret !== clientSecret)
      throw badRequest(Codes.unauthorized, 'The given client credentials are invalid.');
    const publicKey = parsePublicKey(publicKeyText);
    if (!publicKey) throw invalid("'IdentityPublicKey' is not a valid Ed25519 public key.");
    // 2./3. signature, challenge
    checkSignedChallenge(p, signed, publicKey);
    // 4. address
    const address = deriveAddress(publicKey, p.config.didDomain);
    if (p.db.get('SELECT 1 FROM identities WHERE address = ?', address))
      throw badRequest(Codes.device.addressAlreadyExists, 'The address derived from the given public key already exists.');
    // 5. client limit
    if (client.max_identities !== null) {
      const n = p.db.get<{ n: number }>('SELECT COUNT(*) n FROM identities WHERE client_id = ?', clientId)!.n;
      if (n >= client.max_identities)
        throw badRequest(Codes.device.clientReachedIdentitiesLimit, 'The client has reached the maximum number of identities.');
    }
    checkPasswordPolicy(p, devicePassword, Codes.device.registrationFailed);
    // 6. create
    const createdAt = p.nowIso();
    const device = p.db.tx(() => {
      p.db.run(
        "INSERT INTO identities(address, client_id, public_key, identity_version, tier_id, status, created_at) VALUES(?,?,?,?,?, 'Active', ?)",
        address,
        clientId,
        publicKey,
        identityVersion,
        TIER_ID,
        createdAt,
      );
      return createDevice(p, address, devicePassword, { language, isBackupDevice: false });
    });
    return created({ address, createdAt, device: { id: device.id, username: device.username, createdAt: device.createdAt } });
  });

  router.add('GET', '/api/v2/Identities/Self', 'required', (ctx) => {
    const i = ctx.platform.db.get<Record<string, unknown>>('SELECT * FROM identities WHERE address = ?', ctx.user.address)!;
    return ok({
      address: i.address,
      createdAt: i.created_at,
      identityVersion: i.identity_version,
      tierId: i.tier_id,
      status: i.status,
      deletionGracePeriodEndsAt: i.deletion_grace_period_ends_at ?? null,
    });
  });

  router.add('GET', '/api/v2/Identities/IsDeleted', 'anonymous', (ctx) => {
    const username = ctx.q('username');
    if (!isId(username, 'USR')) throw invalid("'Username' is not a valid username.");
    const dev = ctx.platform.db.get<{ address: string }>('SELECT address FROM devices WHERE username = ?', username);
    if (!dev) throw notFound('Device');
    return ok({ isDeleted: false, deletionDate: null });
  });

  router.add('POST', '/api/v2/Identities/Self/DeletionProcesses', 'required', async (ctx) => {
    const p = ctx.platform;
    const body = await ctx.jsonOrEmpty();
    const days = body.int('lengthOfGracePeriodInDays', { min: 0, max: 3650 }) ?? 14;
    const me = ctx.user;
    if (p.db.get("SELECT 1 FROM deletion_processes WHERE address = ? AND status = 'Approved'", me.address))
      throw badRequest(Codes.device.onlyOneActiveDeletionProcessAllowed, 'Only one active deletion process is allowed.');
    const row: DeletionRow = {
      id: newId('IDP'),
      address: me.address,
      status: 'Approved',
      created_at: p.nowIso(),
      created_by_device: me.deviceId,
      grace_period_ends_at: iso(p.nowMs() + days * 86400_000),
      cancelled_at: null,
    };
    p.db.tx(() => {
      p.db.run(
        'INSERT INTO deletion_processes(id, address, status, created_at, created_by_device, grace_period_ends_at) VALUES(?,?,?,?,?,?)',
        row.id,
        row.address,
        row.status,
        row.created_at,
        row.created_by_device,
        row.grace_period_ends_at,
      );
      p.db.run("UPDATE identities SET status = 'ToBeDeleted', deletion_grace_period_ends_at = ? WHERE address = ?", row.grace_period_ends_at, me.address);
      for (const { peer, relationshipId } of activePeers(p, me.address))
        addEvent(p, peer, 'PeerToBeDeleted', { relationshipId, deletionDate: row.grace_period_ends_at });
    });
    return created(deletionDto(row));
  });

  router.add('GET', '/api/v2/Identities/Self/DeletionProcesses', 'required', (ctx) => {
    const rows = ctx.platform.db.all<DeletionRow>('SELECT * FROM deletion_processes WHERE address = ? ORDER BY created_at', ctx.user.address);
    return paged(rows, ctx.paging(), deletionDto);
  });

  const load = (ctxAddress: string, id: string, p: Platform): DeletionRow => {
    if (!isId(id, 'IDP')) throw invalid("'Id' is not a valid deletion process id.");
    const row = p.db.get<DeletionRow>('SELECT * FROM deletion_processes WHERE id = ? AND address = ?', id, ctxAddress);
    if (!row) throw notFound('IdentityDeletionProcess');
    return row;
  };

  router.add('GET', '/api/v2/Identities/Self/DeletionProcesses/{id}', 'required', (ctx) =>
    ok(deletionDto(load(ctx.user.address, ctx.params.id, ctx.platform))),
  );

  router.add('PUT', '/api/v2/Identities/Self/DeletionProcesses/{id}/Cancel', 'required', (ctx) => {
    const p = ctx.platform;
    const row = load(ctx.user.address, ctx.params.id, p);
    if (row.status !== 'Approved')
      throw new ApiError(400, 'error.platform.validation.device.deletionProcessIsNotInRequiredStatus', 'The deletion process is not in the required status.');
    const now = p.nowIso();
    p.db.tx(() => {
      p.db.run("UPDATE deletion_processes SET status = 'Cancelled', cancelled_at = ? WHERE id = ?", now, row.id);
      p.db.run("UPDATE identities SET status = 'Active', deletion_grace_period_ends_at = NULL WHERE address = ?", row.address);
      for (const { peer, relationshipId } of activePeers(p, row.address)) addEvent(p, peer, 'PeerDeletionCancelled', { relationshipId });
    });
    return ok(deletionDto({ ...row, status: 'Cancelled', cancelled_at: now }));
  });

}
