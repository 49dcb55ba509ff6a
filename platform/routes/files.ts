/**
 * Files (§9): multipart upload, metadata, download (raw octet-stream), list own, delete, ownership token
 * validate/claim/regenerate. Any authenticated identity that knows the id may read a file.
 */
import type { Router, Ctx } from '../http/router';
import { created, noContent, ok, paged } from '../http/router';
import { badRequest, cannotParse, Codes, forbidden, invalid, notFound } from '../http/errors';
import { parseMultipart } from '../http/body';
import { checkBytes, type In } from '../http/input';
import type { Platform } from '../core';
import { b64u, decodeBase64Loose, iso, isId, isValidOwnershipTokenSyntax, newId, newOwnershipToken, parseIsoDate } from '../util';
import { checkQuotas } from '../domain/quotas';
import { addEvent } from '../domain/events';

interface FileRow {
  id: string;
  created_by: string;
  created_by_device: string;
  created_at: string;
  modified_at: string;
  modified_by: string;
  modified_by_device: string;
  deleted_at: string | null;
  deleted_by: string | null;
  deleted_by_device: string | null;
  owner: string;
  owner_signature: Buffer;
  ownership_token: string;
  ownership_locked: number;
  cipher_size: number;
  cipher_hash: Buffer;
  content: Buffer | null;
  expires_at: string;
  encrypted_properties: Buffer;
}

const metadataDto = (f: FileRow) => ({
  id: f.id,
  createdAt: f.created_at,
  createdBy: f.created_by,
  createdByDevice: f.created_by_device,
  modifiedAt: f.modified_at,
  modifiedBy: f.modified_by,
  modifiedByDevice: f.modified_by_device,
  deletedAt: f.deleted_at,
  deletedBy: f.deleted_by,
  deletedByDevice: f.deleted_by_device,
  owner: f.owner,
  ownerSignature: b64u(f.owner_signature),
  ownershipIsLocked: f.ownership_locked === 1,
  cipherSize: f.cipher_size,
  cipherHash: b64u(f.cipher_hash),
  expiresAt: f.expires_at,
  encryptedProperties: b64u(f.encrypted_properties),
});

const META_COLUMNS =
  'id, created_by, created_by_device, created_at, modified_at, modified_by, modified_by_device, deleted_at, deleted_by, deleted_by_device, owner, owner_signature, ownership_token, ownership_locked, cipher_size, cipher_hash, expires_at, encrypted_properties';

function fileId(ctx: Ctx): string {
  const id = ctx.params.id;
  if (!isId(id, 'FIL')) throw invalid("'Id' is not a valid file id.");
  return id;
}

/** Readable file (not expired, not deleted) or 404. Content is loaded only when asked for. */
function loadReadable(p: Platform, id: string, withContent = false): FileRow {
  const f = p.db.get<FileRow>(`SELECT ${withContent ? '*' : META_COLUMNS} FROM files WHERE id = ?`, id);
  if (!f || f.deleted_at !== null || f.expires_at <= p.nowIso()) throw notFound('File');
  return f;
}

function readOwnershipToken(body: In): string {
  const token = body.str('ownershipToken', { required: true }) as string;
  if (!isValidOwnershipTokenSyntax(token)) throw invalid("'OwnershipToken' is not a valid ownership token.");
  return token;
}

function lock(p: Platform, f: FileRow): void {
  if (f.ownership_locked === 1) return;
  p.db.run('UPDATE files SET ownership_locked = 1 WHERE id = ?', f.id);
  addEvent(p, f.owner, 'FileOwnershipLocked', { fileId: f.id });
}

export function registerFiles(router: Router): void {
  router.add('POST', '/api/v2/Files', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const ct = ctx.header('content-type') ?? '';
    const buf = await ctx.body();
    if (!/^multipart\/form-data/i.test(ct)) throw cannotParse('$', "The request must be sent as 'multipart/form-data'.");
    const parts = parseMultipart(buf, ct);
    const field = (name: string) => parts.find((x) => x.name.toLowerCase() === name.toLowerCase());
    const text = (name: string): string => {
      const part = field(name);
      const value = part?.data.toString('utf8') ?? '';
      if (!part || value === '') throw cannotParse(`$.${name}`, `The ${name} field is required.`);
      return value;
    };
    const bytes = (name: string, min: number, max: number): Buffer => {
      const decoded = decodeBase64Loose(text(name));
      if (!decoded) throw invalid(`'${name}' is not valid base64.`);
      checkBytes(name, decoded, { min, max });
      return decoded;
    };
    const contentPart = field('content');
    if (!contentPart) throw cannotParse('$.content', 'The content field is required.');
    const content = contentPart.data;
    checkBytes('Content', content, { min: 1, max: p.config.maxFileSize });
    const cipherHash = bytes('cipherHash', 1, 128);
    const ownerSignature = bytes('ownerSignature', 1, 512);
    const encryptedProperties = bytes('encryptedProperties', 0, 1024 * 1024);
    const expiresAt = parseIsoDate(text('expiresAt'));
    if (!expiresAt) throw cannotParse('$.expiresAt', 'The value is not a valid date.');
    if (expiresAt.getTime() <= p.nowMs()) throw invalid("'ExpiresAt' must be in the future.");
    // `owner` is sent by the reference client but ignored: the uploader is always the owner
    checkQuotas(p, me.address, ['NumberOfFiles', 'UsedFileStorageSpace']);

    const now = p.nowIso();
    const f: FileRow = {
      id: newId('FIL'),
      created_by: me.address,
      created_by_device: me.deviceId,
      created_at: now,
      modified_at: now,
      modified_by: me.address,
      modified_by_device: me.deviceId,
      deleted_at: null,
      deleted_by: null,
      deleted_by_device: null,
      owner: me.address,
      owner_signature: ownerSignature,
      ownership_token: newOwnershipToken(),
      ownership_locked: 0,
      cipher_size: content.length,
      cipher_hash: cipherHash,
      content,
      expires_at: iso(expiresAt),
      encrypted_properties: encryptedProperties,
    };
    p.db.run(
      'INSERT INTO files(id, created_by, created_by_device, created_at, modified_at, modified_by, modified_by_device, owner, owner_signature, ownership_token, cipher_size, cipher_hash, content, expires_at, encrypted_properties) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
      f.id,
      f.created_by,
      f.created_by_device,
      f.created_at,
      f.modified_at,
      f.modified_by,
      f.modified_by_device,
      f.owner,
      f.owner_signature,
      f.ownership_token,
      f.cipher_size,
      f.cipher_hash,
      f.content,
      f.expires_at,
      f.encrypted_properties,
    );
    const m = metadataDto(f);
    return created({
      id: m.id,
      createdAt: m.createdAt,
      createdBy: m.createdBy,
      createdByDevice: m.createdByDevice,
      modifiedAt: m.modifiedAt,
      modifiedBy: m.modifiedBy,
      deletedAt: null,
      deletedBy: null,
      owner: m.owner,
      ownerSignature: m.ownerSignature,
      ownershipToken: f.ownership_token,
      cipherSize: m.cipherSize,
      cipherHash: m.cipherHash,
      expiresAt: m.expiresAt,
    });
  });

  router.add('GET', '/api/v2/Files/{id}/Metadata', 'required', (ctx) => ok(metadataDto(loadReadable(ctx.platform, fileId(ctx)))));

  router.add('GET', '/api/v2/Files/{id}', 'required', (ctx) => {
    const f = loadReadable(ctx.platform, fileId(ctx), true);
    return { status: 200, raw: { contentType: 'application/octet-stream', body: f.content ?? Buffer.alloc(0) } };
  });

  router.add('GET', '/api/v2/Files', 'required', (ctx) => {
    const p = ctx.platform;
    const paging = ctx.paging();
    const ids = ctx.qAll('ids');
    for (const id of ids) if (!isId(id, 'FIL')) throw invalid("'Ids' contains an invalid file id.");
    let rows = p.db.all<FileRow>(
      `SELECT ${META_COLUMNS} FROM files WHERE created_by = ? AND deleted_at IS NULL AND expires_at > ? ORDER BY created_at, rowid`,
      ctx.user.address,
      p.nowIso(),
    );
    if (ids.length > 0) rows = rows.filter((f) => ids.includes(f.id));
    return paged(rows, paging, metadataDto);
  });

  router.add('DELETE', '/api/v2/Files/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const f = loadReadable(p, fileId(ctx));
    if (f.created_by !== ctx.user.address) throw forbidden('Only the creator of a file can delete it.');
    p.db.run(
      'UPDATE files SET deleted_at = ?, deleted_by = ?, deleted_by_device = ?, content = NULL WHERE id = ?',
      p.nowIso(),
      ctx.user.address,
      ctx.user.deviceId,
      f.id,
    );
    return noContent();
  });

  router.add('POST', '/api/v2/Files/{id}/ValidateOwnershipToken', 'required', async (ctx) => {
    const p = ctx.platform;
    const id = fileId(ctx);
    const token = readOwnershipToken(await ctx.json());
    const f = loadReadable(p, id);
    if (f.ownership_locked === 1) return ok({ isValid: false });
    const isValid = token === f.ownership_token;
    // a wrong token from a non-owner locks the ownership and notifies the owner
    if (!isValid && f.owner !== ctx.user.address) lock(p, f);
    return ok({ isValid });
  });

  router.add('PATCH', '/api/v2/Files/{id}/ClaimOwnership', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const id = fileId(ctx);
    const token = readOwnershipToken(await ctx.json());
    const f = loadReadable(p, id);
    if (f.owner === me.address) throw badRequest(Codes.file.cannotClaimOwnFile, 'You cannot claim the ownership of a file you already own.');
    if (f.ownership_locked === 1) throw forbidden('The ownership of this file is locked.');
    if (token !== f.ownership_token) {
      lock(p, f);
      throw forbidden('The ownership token is not correct. The ownership of the file is now locked.');
    }
    const newToken = newOwnershipToken();
    p.db.tx(() => {
      p.db.run(
        'UPDATE files SET owner = ?, ownership_token = ?, modified_at = ?, modified_by = ?, modified_by_device = ? WHERE id = ?',
        me.address,
        newToken,
        p.nowIso(),
        me.address,
        me.deviceId,
        f.id,
      );
      addEvent(p, f.owner, 'FileOwnershipClaimed', { fileId: f.id, newOwnerAddress: me.address });
    });
    return ok({ newOwnershipToken: newToken });
  });

  router.add('PATCH', '/api/v2/Files/{id}/RegenerateOwnershipToken', 'required', (ctx) => {
    const p = ctx.platform;
    const f = loadReadable(p, fileId(ctx));
    if (f.owner !== ctx.user.address) throw forbidden('Only the owner of a file can regenerate its ownership token.');
    // Deviation: we persist the new token and the unlock (the real handler appears not to, see spec §9).
    const newToken = newOwnershipToken();
    p.db.run('UPDATE files SET ownership_token = ?, ownership_locked = 0 WHERE id = ?', newToken, f.id);
    return ok({ newOwnershipToken: newToken });
  });

}
