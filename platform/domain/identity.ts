/** Identity/device helpers shared by the identity and device routes. */
import type { Platform } from '../core';
import { badRequest, Codes } from '../http/errors';
import { hashPassword } from '../http/auth';
import { newId } from '../util';

/** ASP.NET Identity production policy: ≥10 chars, upper, lower, digit, non-alphanumeric. */
export function checkPasswordPolicy(p: Platform, password: string, code: string): void {
  if (password.length === 0 || password.length > 1000) throw badRequest(code, 'The device password is invalid.');
  if (!p.config.strictPasswordPolicy) return;
  const okPolicy =
    password.length >= 10 && /[A-Z]/.test(password) && /[a-z]/.test(password) && /[0-9]/.test(password) && /[^A-Za-z0-9]/.test(password);
  if (!okPolicy)
    throw badRequest(code, 'Passwords must be at least 10 characters and contain an upper case letter, a lower case letter, a digit and a symbol.');
}

export function checkLanguage(lang: string | undefined): string {
  if (lang === undefined) return 'en';
  if (!/^[a-z]{2}$/i.test(lang))
    throw badRequest(Codes.invalidDeviceCommunicationLanguage, 'The device communication language must be a valid two letter ISO code.');
  return lang.toLowerCase();
}

export function createDevice(
  p: Platform,
  address: string,
  password: string,
  opts: { createdByDevice?: string; language: string; isBackupDevice: boolean },
): { id: string; username: string; createdAt: string; createdByDevice: string } {
  const id = newId('DVC');
  const username = newId('USR');
  const createdAt = p.nowIso();
  const createdByDevice = opts.createdByDevice ?? id;
  p.db.run(
    'INSERT INTO devices(id, address, username, password_hash, created_at, created_by_device, communication_language, is_backup_device) VALUES(?,?,?,?,?,?,?,?)',
    id,
    address,
    username,
    hashPassword(password),
    createdAt,
    createdByDevice,
    opts.language,
    opts.isBackupDevice ? 1 : 0,
  );
  return { id, username, createdAt, createdByDevice };
}

export function identityStatus(p: Platform, address: string): string | undefined {
  return p.db.get<{ status: string }>('SELECT status FROM identities WHERE address = ?', address)?.status;
}

/** Peers in a Pending, Active or Terminated relationship (for PeerToBeDeleted & co). */
export function activePeers(p: Platform, address: string): { peer: string; relationshipId: string }[] {
  return p.db
    .all<{ id: string; from_address: string; to_address: string }>(
      "SELECT id, from_address, to_address FROM relationships WHERE (from_address = ? OR to_address = ?) AND status IN ('Pending','Active','Terminated')",
      address,
      address,
    )
    .map((r) => ({ relationshipId: r.id, peer: r.from_address === address ? r.to_address : r.from_address }));
}
