/**
 * Quotas (§1): configurable rules; an exhausted one answers 429 error.platform.quotaExhausted with
 * data [{metricKey, isExhaustedUntil}]. Usage is counted from the stored records created inside the current
 * period (the real server keeps metric statuses updated asynchronously; we compute them on demand).
 */
import type { Platform, QuotaMetric, QuotaPeriod } from '../core';
import { ApiError, Codes } from '../http/errors';
import { iso } from '../util';

function periodBegin(period: QuotaPeriod, now: Date): Date {
  const y = now.getUTCFullYear(), m = now.getUTCMonth(), d = now.getUTCDate();
  switch (period) {
    case 'Hour':
      return new Date(Date.UTC(y, m, d, now.getUTCHours()));
    case 'Day':
      return new Date(Date.UTC(y, m, d));
    case 'Week': {
      // .NET StartOfWeek in the Backbone tooling starts weeks on Monday (unconfirmed); we use Monday.
      const dow = (now.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - dow));
    }
    case 'Month':
      return new Date(Date.UTC(y, m, 1));
    case 'Year':
      return new Date(Date.UTC(y, 0, 1));
    case 'Total':
      return new Date(Date.UTC(1, 0, 1));
  }
}

/** End of period = last millisecond of it; Total → DateTime.MaxValue. */
function periodEnd(period: QuotaPeriod, now: Date): string {
  const b = periodBegin(period, now);
  switch (period) {
    case 'Hour':
      return iso(b.getTime() + 3600_000 - 1);
    case 'Day':
      return iso(b.getTime() + 86400_000 - 1);
    case 'Week':
      return iso(b.getTime() + 7 * 86400_000 - 1);
    case 'Month':
      return iso(Date.UTC(b.getUTCFullYear(), b.getUTCMonth() + 1, 1) - 1);
    case 'Year':
      return iso(Date.UTC(b.getUTCFullYear() + 1, 0, 1) - 1);
    case 'Total':
      return '9999-12-31T23:59:59.999Z';
  }
}

function usage(p: Platform, metric: QuotaMetric, address: string, since: string): number {
  const q = (sql: string, ...args: unknown[]): number => Number(p.db.get<{ n: number }>(sql, ...args)?.n ?? 0);
  switch (metric) {
    case 'NumberOfSentMessages':
      return q('SELECT COUNT(*) n FROM messages WHERE created_by = ? AND created_at >= ?', address, since);
    case 'NumberOfRelationships':
      // counts relationships the identity takes part in (created or accepted) (unconfirmed detail)
      return q('SELECT COUNT(*) n FROM relationships WHERE (from_address = ? OR to_address = ?) AND created_at >= ?', address, address, since);
    case 'NumberOfRelationshipTemplates':
      return q('SELECT COUNT(*) n FROM templates WHERE created_by = ? AND created_at >= ?', address, since);
    case 'NumberOfFiles':
      return q('SELECT COUNT(*) n FROM files WHERE created_by = ? AND created_at >= ?', address, since);
    case 'UsedFileStorageSpace':
      return q('SELECT COALESCE(SUM(cipher_size), 0) n FROM files WHERE created_by = ? AND created_at >= ? AND deleted_at IS NULL', address, since);
    case 'NumberOfTokens':
      return q('SELECT COUNT(*) n FROM tokens WHERE created_by = ? AND created_at >= ?', address, since);
  }
}

/** Throws 429 if any rule for one of `metrics` is exhausted for `address`. */
export function checkQuotas(p: Platform, address: string, metrics: QuotaMetric[]): void {
  const now = p.now();
  const exhausted: { metricKey: string; isExhaustedUntil: string }[] = [];
  for (const metric of metrics) {
    let until: string | undefined;
    for (const rule of p.config.quotas) {
      if (rule.metric !== metric || (rule.address && rule.address !== address)) continue;
      const used = usage(p, metric, address, iso(periodBegin(rule.period, now)));
      if (used >= rule.max) {
        const end = periodEnd(rule.period, now);
        if (!until || end > until) until = end;
      }
    }
    if (until) exhausted.push({ metricKey: metric, isExhaustedUntil: until });
  }
  if (exhausted.length > 0)
    throw new ApiError(429, Codes.quotaExhausted, 'You cannot do this, because one or more quotas are exhausted.', exhausted);
}
