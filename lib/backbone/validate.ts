import { PlatformCodes, PlatformError } from './errors';
import type * as T from './types';

/**
 * Shape checks of the records the Platform hands out (messages, relationships, files, templates,
 * tokens): every field this package reads must have the type the API promises, or the answer is a
 * PlatformError `error.client.malformedResponse` naming the call and the field. Fields we do not
 * read are not checked, and unknown extra fields are ignored, so a newer Backbone still works.
 *
 * Without them an empty 2xx body, `"result": null` or a `null` list entry would crash the protocol
 * layer with a TypeError, and wrong types (a number for a date, an object for an address) would flow
 * into messages, trigger cursors and node outputs (test/faults/response-fuzzing serves such answers).
 * The crypto content of the fields (ciphers, signatures) is checked where it is opened.
 *
 * A record fetched by id must carry that id (`expectedId`), or the answer is a PlatformError
 * `error.client.wrongRecord`: the signed content of a message carries no message id, so an answer
 * about another (authentic) message would verify, and every caller would have to remember to compare.
 */

type Where = { method: string; path: string };

/** Backbone ids: a 3-letter prefix and 17 letters or digits (MSGxxxxxxxxxxxxxxxxx). */
const ID = /^[A-Z]{3}[A-Za-z0-9]{17}$/;
/** Addresses: did:e:<domain>:dids:<22 hex characters>. */
const ADDRESS = /^did:e:[a-z0-9.-]{1,253}:dids:[0-9a-f]{22}$/;
/** Enumerations (statuses, audit reasons): a word; unknown words pass, so a newer Backbone still works. */
const WORD = /^[A-Za-z]{1,60}$/;

class Shape {
  constructor(
    private readonly where: Where,
    private readonly what: string,
  ) {}

  fail(field: string, expected: string): never {
    throw new PlatformError({
      kind: 'malformedResponse',
      code: 'error.client.malformedResponse',
      method: this.where.method,
      path: this.where.path,
      message: `${this.where.method} ${this.where.path}: unexpected answer from the Platform (${this.what}${field ? `.${field}` : ''} is not ${expected})`,
    });
  }

  object(value: unknown, field = ''): Record<string, unknown> {
    if (!value || typeof value !== 'object' || Array.isArray(value)) this.fail(field, 'an object');
    return value as Record<string, unknown>;
  }

  string(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'a non-empty string');
  }

  id(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string' || !ID.test(v)) this.fail(field, 'an id');
  }

  address(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string' || !ADDRESS.test(v)) this.fail(field, 'an address');
  }

  date(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string' || v.length > 40 || !Number.isFinite(Date.parse(v))) this.fail(field, 'a date');
  }

  word(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string' || !WORD.test(v)) this.fail(field, 'a status word');
  }

  count(o: Record<string, unknown>, field: string, optional = false): void {
    const v = o[field];
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(field, 'a count');
  }

  /** Checked last, after the shape: the record is the one asked for (when the call names one). */
  sameId(o: Record<string, unknown>, expectedId: string | undefined): void {
    if (expectedId === undefined || o.id === expectedId) return;
    throw new PlatformError({
      kind: 'malformedResponse',
      code: PlatformCodes.wrongRecord,
      method: this.where.method,
      path: this.where.path,
      message: `The Platform answered the request for ${this.what} ${expectedId} with ${this.what} ${String(o.id)}`,
    });
  }

  array(o: Record<string, unknown>, field: string): unknown[] {
    const v = o[field];
    if (!Array.isArray(v)) this.fail(field, 'a list');
    return v as unknown[];
  }
}

export function checkMessage(value: unknown, where: Where, expectedId?: string): T.MessageDto {
  const s = new Shape(where, 'message');
  const o = s.object(value);
  s.id(o, 'id');
  s.address(o, 'createdBy');
  s.id(o, 'createdByDevice');
  s.string(o, 'body');
  s.date(o, 'createdAt');
  s.array(o, 'attachments').forEach((a, i) => s.id(s.object(a, `attachments[${i}]`), 'id'));
  s.array(o, 'recipients').forEach((r, i) => {
    const e = s.object(r, `recipients[${i}]`);
    s.address(e, 'address');
    s.string(e, 'encryptedKey');
    s.date(e, 'receivedAt', true);
    s.id(e, 'receivedByDevice', true);
  });
  s.sameId(o, expectedId);
  return value as T.MessageDto;
}

export function checkRelationship(value: unknown, where: Where, expectedId?: string): T.RelationshipDto {
  const s = new Shape(where, 'relationship');
  const o = s.object(value);
  s.id(o, 'id');
  s.id(o, 'relationshipTemplateId');
  s.address(o, 'from');
  s.address(o, 'to');
  s.word(o, 'status');
  s.date(o, 'createdAt');
  s.string(o, 'creationContent', true);
  s.string(o, 'creationResponseContent', true);
  s.array(o, 'auditLog').forEach((entry, i) => {
    const e = s.object(entry, `auditLog[${i}]`);
    s.date(e, 'createdAt');
    s.address(e, 'createdBy', true);
    s.id(e, 'createdByDevice', true);
    s.word(e, 'reason', true);
    s.word(e, 'oldStatus', true);
    s.word(e, 'newStatus');
  });
  s.sameId(o, expectedId);
  return value as T.RelationshipDto;
}

export function checkFileMetadata(value: unknown, where: Where, expectedId?: string): T.FileMetadataDto {
  const s = new Shape(where, 'file');
  const o = s.object(value);
  s.id(o, 'id');
  s.address(o, 'createdBy');
  s.address(o, 'owner');
  s.string(o, 'cipherHash');
  s.date(o, 'createdAt');
  s.date(o, 'expiresAt');
  s.count(o, 'cipherSize');
  s.id(o, 'createdByDevice', true);
  s.string(o, 'encryptedProperties', true);
  s.sameId(o, expectedId);
  return value as T.FileMetadataDto;
}

export function checkTemplate(value: unknown, where: Where, expectedId?: string): T.TemplateDto {
  const s = new Shape(where, 'template');
  const o = s.object(value);
  s.id(o, 'id');
  s.address(o, 'createdBy');
  s.string(o, 'content');
  s.id(o, 'createdByDevice', true);
  s.address(o, 'forIdentity', true);
  s.date(o, 'createdAt');
  s.date(o, 'expiresAt', true);
  s.count(o, 'maxNumberOfAllocations', true);
  s.sameId(o, expectedId);
  return value as T.TemplateDto;
}

export function checkToken(value: unknown, where: Where, expectedId?: string): T.TokenDto {
  const s = new Shape(where, 'token');
  const o = s.object(value);
  s.id(o, 'id');
  s.address(o, 'createdBy', true);
  s.id(o, 'createdByDevice', true);
  s.address(o, 'forIdentity', true);
  s.string(o, 'content', true);
  s.date(o, 'createdAt');
  s.date(o, 'expiresAt');
  s.sameId(o, expectedId);
  return value as T.TokenDto;
}

export function checkDeletionProcess(value: unknown, where: Where, expectedId?: string): T.DeletionProcessDto {
  const s = new Shape(where, 'deletion process');
  const o = s.object(value);
  s.id(o, 'id');
  s.word(o, 'status');
  s.date(o, 'createdAt');
  s.date(o, 'approvedAt', true);
  s.date(o, 'gracePeriodEndsAt', true);
  s.date(o, 'cancelledAt', true);
  s.sameId(o, expectedId);
  return value as T.DeletionProcessDto;
}
