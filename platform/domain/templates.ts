/**
 * Relationship-template visibility and allocation (§6), shared by GET template, list and POST /Relationships.
 * Everything that fails visibility is 404 (never 403).
 */
import type { Platform } from '../core';
import { badRequest, Codes, notFound } from '../http/errors';
import { b64u } from '../util';
import { addEvent } from './events';

export interface TemplateRow {
  id: string;
  created_by: string;
  created_by_device: string;
  max_allocations: number | null;
  expires_at: string | null;
  content: Buffer | null;
  created_at: string;
  for_identity: string | null;
  password: Buffer | null;
}

export const templateDto = (t: TemplateRow) => ({
  id: t.id,
  createdBy: t.created_by,
  createdByDevice: t.created_by_device,
  maxNumberOfAllocations: t.max_allocations,
  expiresAt: t.expires_at,
  content: b64u(t.content),
  createdAt: t.created_at,
  forIdentity: t.for_identity,
});

function hasAllocation(p: Platform, templateId: string, address: string): boolean {
  return !!p.db.get('SELECT 1 FROM template_allocations WHERE template_id = ? AND allocated_by = ?', templateId, address);
}

/** Visibility rules 1–3; returns undefined when the caller may not see the template. */
export function visibleTemplate(p: Platform, t: TemplateRow | undefined, caller: string, password: Buffer | undefined): TemplateRow | undefined {
  if (!t) return undefined;
  const isCreator = t.created_by === caller;
  if (t.for_identity !== null && t.for_identity !== caller && !isCreator) return undefined;
  if (t.expires_at !== null && t.expires_at <= p.nowIso()) {
    // expired: visible only to someone involved in a relationship created from it (the owner too, otherwise 404)
    const involved = p.db.get(
      'SELECT 1 FROM relationships WHERE template_id = ? AND (from_address = ? OR to_address = ?)',
      t.id,
      caller,
      caller,
    );
    if (!involved) return undefined;
  }
  if (t.password !== null && !isCreator && !hasAllocation(p, t.id, caller)) {
    if (!password || !password.equals(t.password)) return undefined;
  }
  return t;
}

/** GET-by-id semantics: visible (else 404) and allocated once per non-owner identity (else 400 exhausted). */
export function getAndAllocate(p: Platform, id: string, caller: { address: string; deviceId: string }, password: Buffer | undefined): TemplateRow {
  const t = visibleTemplate(p, p.db.get<TemplateRow>('SELECT * FROM templates WHERE id = ?', id), caller.address, password);
  if (!t) throw notFound('RelationshipTemplate');
  if (t.created_by === caller.address || hasAllocation(p, t.id, caller.address)) return t;
  const count = p.db.get<{ n: number }>('SELECT COUNT(*) n FROM template_allocations WHERE template_id = ?', t.id)!.n;
  if (t.max_allocations !== null && count >= t.max_allocations)
    throw badRequest(Codes.template.exhausted, 'The maximum number of allocations of this relationship template has been reached.');
  p.db.tx(() => {
    p.db.run(
      'INSERT INTO template_allocations(template_id, allocated_by, allocated_by_device, allocated_at) VALUES(?,?,?,?)',
      t.id,
      caller.address,
      caller.deviceId,
      p.nowIso(),
    );
    if (t.max_allocations !== null && count + 1 === t.max_allocations)
      addEvent(p, t.created_by, 'RelationshipTemplateAllocationsExhausted', { relationshipTemplateId: t.id });
  });
  return t;
}
