/**
 * Devices (§4): Self, password change, additional devices (signed with the identity key), list, delete,
 * push-notification registration (only `sse` registrations are delivered: domain/push.ts, routes/sse.ts).
 */
import type { Router } from '../http/router';
import { created, noContent, ok, paged } from '../http/router';
import { badRequest, Codes, invalid, notFound } from '../http/errors';
import { hashPassword, verifyPassword } from '../http/auth';
import { isId } from '../util';
import { checkSignedChallenge } from './challenges';
import { checkLanguage, checkPasswordPolicy, createDevice } from '../domain/identity';
import { deletePushRegistration, setPushRegistration } from '../domain/push';

interface DeviceRow {
  id: string;
  address: string;
  username: string;
  password_hash: string;
  created_at: string;
  created_by_device: string;
  last_login: string | null;
  communication_language: string;
  is_backup_device: number;
  push_identifier: string | null;
}

const dto = (d: DeviceRow) => ({
  id: d.id,
  username: d.username,
  createdAt: d.created_at,
  createdByDevice: d.created_by_device,
  lastLogin: d.last_login ? { time: d.last_login } : null,
  communicationLanguage: d.communication_language,
  isBackupDevice: d.is_backup_device === 1,
});

export function registerDevices(router: Router): void {
  router.add('GET', '/api/v2/Devices/Self', 'required', (ctx) => {
    const d = ctx.platform.db.get<DeviceRow>('SELECT * FROM devices WHERE id = ?', ctx.user.deviceId)!;
    return ok(dto(d));
  });

  router.add('PUT', '/api/v2/Devices/Self', 'required', async (ctx) => {
    const body = await ctx.json();
    const lang = checkLanguage(body.str('communicationLanguage', { required: true, max: 50 }));
    ctx.platform.db.run('UPDATE devices SET communication_language = ? WHERE id = ?', lang, ctx.user.deviceId);
    return noContent();
  });

  router.add('PUT', '/api/v2/Devices/Self/Password', 'required', async (ctx) => {
    const p = ctx.platform;
    const body = await ctx.json();
    const oldPassword = body.str('oldPassword', { required: true, max: 1000 }) as string;
    const newPassword = body.str('newPassword', { required: true, max: 1000 }) as string;
    const d = p.db.get<DeviceRow>('SELECT * FROM devices WHERE id = ?', ctx.user.deviceId)!;
    if (!verifyPassword(oldPassword, d.password_hash))
      throw badRequest(Codes.device.changePasswordFailed, 'Changing the password failed: the old password is wrong.');
    checkPasswordPolicy(p, newPassword, Codes.device.changePasswordFailed);
    p.db.run('UPDATE devices SET password_hash = ? WHERE id = ?', hashPassword(newPassword), d.id);
    return noContent();
  });

  router.add('POST', '/api/v2/Devices', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const devicePassword = body.str('devicePassword', { required: true, max: 1000 }) as string;
    const signed = body.obj('signedChallenge', { required: true })!;
    signed.str('challenge', { required: true, max: 10000 });
    signed.str('signature', { required: true, max: 10000 });
    const isBackupDevice = body.bool('isBackupDevice') ?? false;
    const language = checkLanguage(body.str('communicationLanguage', { max: 50 }));
    const identity = p.db.get<{ public_key: Buffer }>('SELECT public_key FROM identities WHERE address = ?', me.address)!;
    checkSignedChallenge(p, signed, identity.public_key);
    if (isBackupDevice && p.db.get('SELECT 1 FROM devices WHERE address = ? AND is_backup_device = 1', me.address))
      throw badRequest(Codes.device.onlyOneBackupDeviceCanExist, 'Only one backup device can exist per identity.');
    checkPasswordPolicy(p, devicePassword, Codes.device.registrationFailed);
    const d = createDevice(p, me.address, devicePassword, { createdByDevice: me.deviceId, language, isBackupDevice });
    return created({ id: d.id, username: d.username, createdAt: d.createdAt, createdByDevice: d.createdByDevice, isBackupDevice });
  });

  router.add('GET', '/api/v2/Devices', 'required', (ctx) => {
    const ids = ctx.qAll('ids');
    for (const id of ids) if (!isId(id, 'DVC')) throw invalid("'Ids' contains an invalid device id.");
    let rows = ctx.platform.db.all<DeviceRow>('SELECT * FROM devices WHERE address = ? ORDER BY created_at, rowid', ctx.user.address);
    if (ids.length > 0) rows = rows.filter((r) => ids.includes(r.id));
    return paged(rows, ctx.paging(), dto);
  });

  router.add('DELETE', '/api/v2/Devices/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const id = ctx.params.id;
    if (!isId(id, 'DVC')) throw invalid("'Id' is not a valid device id.");
    const d = p.db.get<DeviceRow>('SELECT * FROM devices WHERE id = ? AND address = ?', id, ctx.user.address);
    if (!d) throw notFound('Device');
    // The real server only deletes devices that were never onboarded (no login yet) (unconfirmed).
    if (d.id === ctx.user.deviceId || d.last_login)
      throw invalid('Only devices that have not been onboarded yet can be deleted.');
    p.db.run('DELETE FROM devices WHERE id = ?', id);
    return noContent();
  });

  router.add('PUT', '/api/v2/Devices/Self/PushNotifications', 'required', async (ctx) => {
    const p = ctx.platform;
    const body = await ctx.json();
    const platformName = body.str('platform', { required: true, max: 50 }) as string;
    const handle = body.str('handle', { required: true, max: 5000 }) as string;
    body.str('appId', { required: true, max: 200 });
    body.str('environment', { max: 50 });
    if (!/^(fcm|apns|dummy|sse)$/i.test(platformName)) throw invalid("'Platform' must be one of fcm, apns, dummy, sse.");
    return ok({ devicePushIdentifier: setPushRegistration(p, ctx.user.deviceId, platformName.toLowerCase(), handle) });
  });

  router.add('DELETE', '/api/v2/Devices/Self/PushNotifications', 'required', (ctx) => {
    deletePushRegistration(ctx.platform, ctx.user.deviceId);
    return noContent();
  });
}
