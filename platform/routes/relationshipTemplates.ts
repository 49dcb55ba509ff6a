/**
 * Relationship templates (§6): create, GET (allocates), list (templates.N.id/password or legacy ids=), delete.
 */
import type { Router } from '../http/router';
import { created, noContent, ok, paged } from '../http/router';
import { forbidden, invalid, notFound } from '../http/errors';
import { decodeBase64Std, isId, iso, newId } from '../util';
import { checkQuotas } from '../domain/quotas';
import { checkBytes } from '../http/input';
import { getAndAllocate, templateDto, visibleTemplate, type TemplateRow } from '../domain/templates';

const MAX_CONTENT = 10 * 1024 * 1024;

export function readPasswordParam(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const buf = decodeBase64Std(raw);
  if (!buf) throw invalid("The value of 'password' is not valid base64.");
  return buf;
}

export function registerRelationshipTemplates(router: Router): void {
  router.add('POST', '/api/v2/RelationshipTemplates', 'required', async (ctx) => {
    const p = ctx.platform;
    const me = ctx.user;
    const body = await ctx.json();
    const content = body.bytes('content', { max: MAX_CONTENT });
    if (!content) throw invalid("'Content' must not be empty.");
    const expiresAt = body.date('expiresAt');
    if (expiresAt && expiresAt.getTime() <= p.nowMs()) throw invalid("'ExpiresAt' must be in the future.");
    const maxAllocations = body.int('maxNumberOfAllocations');
    if (maxAllocations !== undefined && maxAllocations <= 0) throw invalid("'MaxNumberOfAllocations' must be greater than '0'.");
    const forIdentity = body.address('forIdentity');
    const password = body.bytes('password');
    if (password) checkBytes('Password', password, { min: 1, max: 200 });
    checkQuotas(p, me.address, ['NumberOfRelationshipTemplates']);
    const row: TemplateRow = {
      id: newId('RLT'),
      created_by: me.address,
      created_by_device: me.deviceId,
      max_allocations: maxAllocations ?? null,
      expires_at: expiresAt ? iso(expiresAt) : null,
      content,
      created_at: p.nowIso(),
      for_identity: forIdentity ?? null,
      password: password ?? null,
    };
    p.db.run(
      'INSERT INTO templates(id, created_by, created_by_device, max_allocations, expires_at, content, created_at, for_identity, password) VALUES(?,?,?,?,?,?,?,?,?)',
      row.id,
      row.created_by,
      row.created_by_device,
      row.max_allocations,
      row.expires_at,
      row.content,
      row.created_at,
      row.for_identity,
      row.password,
    );
    return created({ id: row.id, createdAt: row.created_at });
  });

  router.add('GET', '/api/v2/RelationshipTemplates/{id}', 'required', (ctx) => {
    const id = ctx.params.id;
    if (!isId(id, 'RLT')) throw invalid("'Id' is not a valid relationship template id.");
    const password = readPasswordParam(ctx.q('password'));
    return ok(templateDto(getAndAllocate(ctx.platform, id, ctx.user, password)));
  });

  router.add('GET', '/api/v2/RelationshipTemplates', 'required', (ctx) => {
    const p = ctx.platform;
    const paging = ctx.paging();
    const wanted = new Map<number, { id?: string; password?: string }>();
    const legacy: string[] = [];
    for (const [k, v] of ctx.query) {
      const m = /^templates(?:\.(\d{1,4})|\[(\d{1,4})\])\.(id|password)$/i.exec(k);
      if (m) {
        const i = Number(m[1] ?? m[2]);
        const item = wanted.get(i) ?? {};
        if (m[3].toLowerCase() === 'id') item.id = v;
        else item.password = v;
        wanted.set(i, item);
      } else if (k.toLowerCase() === 'ids') legacy.push(v);
    }
    let items = [...wanted.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    if (items.length === 0) items = legacy.map((id) => ({ id }));
    if (items.length === 0) throw invalid("'Templates' must contain at least one item.");
    const found: TemplateRow[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      if (!isId(item.id, 'RLT')) throw invalid("'Templates' contains an invalid relationship template id.");
      const password = readPasswordParam(item.password);
      if (seen.has(item.id)) continue;
      const t = visibleTemplate(p, p.db.get<TemplateRow>('SELECT * FROM templates WHERE id = ?', item.id), ctx.user.address, password);
      if (t) {
        found.push(t);
        seen.add(t.id);
      }
    }
    found.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    return paged(found, paging, templateDto);
  });

  router.add('DELETE', '/api/v2/RelationshipTemplates/{id}', 'required', (ctx) => {
    const p = ctx.platform;
    const id = ctx.params.id;
    if (!isId(id, 'RLT')) throw invalid("'Id' is not a valid relationship template id.");
    const t = p.db.get<TemplateRow>('SELECT * FROM templates WHERE id = ?', id);
    if (!t) throw notFound('RelationshipTemplate');
    if (t.created_by !== ctx.user.address) throw forbidden('Only the creator of a relationship template can delete it.');
    p.db.tx(() => {
      p.db.run('DELETE FROM template_allocations WHERE template_id = ?', id);
      p.db.run('DELETE FROM templates WHERE id = ?', id);
    });
    return noContent();
  });
}
