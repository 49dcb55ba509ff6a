/**
 * Push notifications (Backbone Devices module: PushService and its SSE connector), as far as the local
 * Platform delivers them: over server-sent events only (routes/sse.ts). A notification goes to the devices
 * its filter selects that have a push registration; registrations are de-duplicated by handle (every SSE
 * registration has the handle "sse-handle", so one event per notification), and for each one the event is
 * enqueued on the SSE channel of the registration's identity. If that identity has no channel, the SSE
 * server answers "not registered" and the registration is deleted (ErrorReason.InvalidHandle).
 * Registrations of other platforms (fcm, apns, dummy) are stored but never delivered.
 *
 * Sent after the change that causes them has committed (PlatformDb.onCommit), as the Backbone publishes
 * domain events after saving.
 */
import type { Platform } from '../core';
import { newId } from '../util';

/** The push notification's class name without "PushNotification" = the SSE event name. */
export type PushEvent = 'ExternalEventCreated' | 'DatawalletModificationsCreated';

export const SSE_HANDLE = 'sse-handle';

export function sendPush(p: Platform, address: string, event: PushEvent, exceptDevice?: string): void {
  p.db.onCommit(() => {
    const registrations = p.db
      .all<{ id: string; push_handle: string }>(
        "SELECT id, push_handle FROM devices WHERE address = ? AND push_platform = 'sse' AND push_handle IS NOT NULL ORDER BY created_at, rowid",
        address,
      )
      .filter((d) => d.id !== exceptDevice);
    const handles = new Set<string>();
    for (const r of registrations) {
      if (handles.has(r.push_handle)) continue;
      handles.add(r.push_handle);
      if (!p.sse.enqueue(address, event)) deletePushRegistration(p, r.id);
    }
  });
}

/** UpdateDeviceRegistration: the device's registration (one per device) becomes `platform`/`handle`. */
export function setPushRegistration(p: Platform, deviceId: string, platform: string, handle: string): string {
  const existing = p.db.get<{ push_identifier: string | null }>('SELECT push_identifier FROM devices WHERE id = ?', deviceId);
  const identifier = existing?.push_identifier ?? newId('DPI');
  p.db.run('UPDATE devices SET push_platform = ?, push_handle = ?, push_identifier = ? WHERE id = ?', platform, handle, identifier, deviceId);
  return identifier;
}

export function deletePushRegistration(p: Platform, deviceId: string): void {
  p.db.run('UPDATE devices SET push_platform = NULL, push_handle = NULL WHERE id = ?', deviceId);
}
