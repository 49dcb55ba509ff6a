/** Relationship rows, DTOs and lookups shared by the relationship and message routes. */
import type { Platform } from '../core';
import { b64u } from '../util';

export type RelationshipStatus = 'Pending' | 'Active' | 'Rejected' | 'Revoked' | 'Terminated' | 'DeletionProposed' | 'ReadyForDeletion';

export interface RelationshipRow {
  id: string;
  template_id: string | null;
  from_address: string;
  to_address: string;
  status: RelationshipStatus;
  created_at: string;
  creation_content: Buffer | null;
  creation_response_content: Buffer | null;
  from_decomposed: number;
  to_decomposed: number;
}

export interface AuditRow {
  seq: number;
  created_at: string;
  created_by: string;
  created_by_device: string;
  reason: string;
  old_status: string | null;
  new_status: string;
}

export function auditLog(p: Platform, relationshipId: string): AuditRow[] {
  return p.db.all<AuditRow>('SELECT * FROM relationship_audit WHERE relationship_id = ? ORDER BY seq', relationshipId);
}

export function metadataDto(p: Platform, r: RelationshipRow) {
  return {
    id: r.id,
    relationshipTemplateId: r.template_id,
    from: r.from_address,
    to: r.to_address,
    createdAt: r.created_at,
    status: r.status,
    auditLog: auditLog(p, r.id).map((a) => ({
      createdAt: a.created_at,
      createdBy: a.created_by,
      createdByDevice: a.created_by_device,
      reason: a.reason,
      oldStatus: a.old_status,
      newStatus: a.new_status,
    })),
  };
}

export function fullDto(p: Platform, r: RelationshipRow) {
  return { ...metadataDto(p, r), creationContent: b64u(r.creation_content), creationResponseContent: b64u(r.creation_response_content) };
}

/** The youngest relationship between two identities (either direction). */
export function youngestBetween(p: Platform, a: string, b: string): RelationshipRow | undefined {
  return p.db.get<RelationshipRow>(
    'SELECT * FROM relationships WHERE (from_address = ? AND to_address = ?) OR (from_address = ? AND to_address = ?) ORDER BY created_at DESC, rowid DESC LIMIT 1',
    a,
    b,
    b,
    a,
  );
}

/** A relationship that blocks a new one (Pending, Active, Terminated or DeletionProposed). */
export function blockingRelationshipExists(p: Platform, a: string, b: string): boolean {
  return !!p.db.get(
    "SELECT 1 FROM relationships WHERE ((from_address = ? AND to_address = ?) OR (from_address = ? AND to_address = ?)) AND status IN ('Pending','Active','Terminated','DeletionProposed')",
    a,
    b,
    b,
    a,
  );
}

export function hasDecomposed(r: RelationshipRow, address: string): boolean {
  return (r.from_address === address && r.from_decomposed === 1) || (r.to_address === address && r.to_decomposed === 1);
}

export function peerOf(r: RelationshipRow, address: string): string {
  return r.from_address === address ? r.to_address : r.from_address;
}
