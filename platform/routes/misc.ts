/**
 * Version, Tags, Announcements, Notifications, public template references, the /r/{id} onboarding page.
 */
import { createHash } from 'node:crypto';
import type { Router } from '../http/router';
import { noContent, ok } from '../http/router';
import { badRequest, Codes, invalid } from '../http/errors';
import { isAddress } from '../util';
import { youngestBetween } from '../domain/relationships';

const TAGS = {
  supportedLanguages: ['de', 'en'],
  tagsForAttributeValueTypes: {},
};
const TAGS_ETAG = `"${createHash('sha256').update(JSON.stringify(TAGS)).digest('hex').slice(0, 32)}"`;

export function registerMisc(router: Router): void {
  // majorVersion is a string; the client compares it numerically against 6–7
  router.add('GET', '/api/v2/Version', 'anonymous', () => ok({ majorVersion: '7' }));

  router.add('GET', '/api/v2/Tags', 'anonymous', (ctx) => {
    if (ctx.header('if-none-match') === TAGS_ETAG) return { status: 304, headers: { ETag: TAGS_ETAG } };
    return { status: 200, result: TAGS, headers: { ETag: TAGS_ETAG } };
  });

  router.add('GET', '/api/v2/Announcements', 'required', () => ok([]));

  router.add('GET', '/api/poc/PublicRelationshipTemplateReferences', 'required', (ctx) => ok(ctx.platform.config.publicTemplateReferences));

  router.add('POST', '/api/v2/Notifications', 'required', async (ctx) => {
    const p = ctx.platform;
    const body = await ctx.json();
    const recipients = (body.arr('recipients', { required: true }) ?? []).map((r) => {
      if (typeof r !== 'string') throw invalid("'Recipients' must be a list of addresses.");
      if (!isAddress(r)) throw invalid("'Recipients' contains an invalid address.");
      return r;
    });
    const code = body.str('code', { required: true, max: 200 }) as string;
    if (recipients.length < 1 || recipients.length > 100) throw invalid('The number of recipients must be between 1 and 100.');
    if (!p.config.notificationCodes.includes(code)) throw badRequest(Codes.notification.codeDoesNotExist, `The notification code '${code}' does not exist.`);
    for (const r of recipients) {
      const rel = youngestBetween(p, ctx.user.address, r);
      if (!rel) throw badRequest(Codes.notification.noRelationship, 'No relationship to one or more recipients exists.');
      if (!['Pending', 'Active', 'Terminated'].includes(rel.status))
        throw badRequest(Codes.notification.wrongStatus, 'The relationship to a recipient is not in the correct status.');
    }
    // Push notifications are not delivered by the emulator.
    return noContent();
  });

  router.add('GET', '/r/{id}', 'anonymous', (ctx) => {
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>enmeshed</title></head><body><p>Open this link with an enmeshed app: ${ctx.params.id.replace(/[^A-Za-z0-9]/g, '')}</p></body></html>`;
    return { status: 200, raw: { contentType: 'text/html; charset=utf-8', body: Buffer.from(html) } };
  });
}
