import type { MessageDto } from '../backbone';
import type { Participant } from './participant';

/**
 * Reading the message list from its tail. The Backbone lists an identity's messages oldest first
 * and has no date filter, so a naive poll costs O(all messages). We remember how many messages
 * there were; the next read starts at the page holding the first unseen one and only walks back
 * while a page may still hold messages newer than the watermark. Nothing new costs one request for
 * one record (`nothingNew`), whatever the list's length; a cursor that starts now reads only the tail
 * (`readTail`). npm run bench shows both with 1,000 and 10,000 old messages.
 *
 * Exactly-once is the caller's job (the trigger): this returns every message newer than
 * `watermark − lookBackMs` that is not in `seen`, so a message that becomes visible late (its
 * createdAt a little older than one already read) is still caught.
 */

export interface FeedPosition {
  /** Total number of messages at the last read. */
  total: number;
  /** createdAt of the newest message emitted or skipped. */
  watermark?: string;
  /** Ids with createdAt ≥ watermark − lookBack that were already handled. */
  seen: string[];
}

export interface FeedRead {
  /** New messages, oldest first. */
  messages: MessageDto[];
  /**
   * Every message read whose createdAt lies inside the look-back window, handled ones included: the
   * caller keeps only these of its `seen` ids (an id not among them has left the window). Absent when
   * one record showed that nothing changed: the caller's `seen` stands as it is.
   */
  window?: { id: string; createdAt: string }[];
  /** Total at this read. */
  total: number;
  /** Requests made (for benchmarks). */
  requests: number;
}

export const FEED_PAGE_SIZE = 100;
export const FEED_LOOK_BACK_MS = 5 * 60_000;

function tooOld(dto: MessageDto, floor: number): boolean {
  return Date.parse(dto.createdAt) < floor;
}

type PageReader = (page: number, size: number) => Promise<{ items: MessageDto[]; pagination?: { totalRecords: number } }>;

/**
 * Whether the list is as the cursor left it, from one record: the message at position `total` (page
 * `total` of size 1) must still be one the cursor handled — the newest — and the count unchanged.
 * The count is real only for a full page (the Backbone computes it from the page otherwise), which
 * a page of one record that exists is. Anything else (a longer or shorter list, another message at
 * that position, a cursor that handled none) sends the caller to the full read.
 *
 * Not seen here: a message that becomes visible late while our own identity hides exactly as many
 * (decomposing a relationship) in the same interval; the next read that sees a change catches it if
 * it is still inside the look-back window.
 */
async function nothingNew(position: FeedPosition, fetch: PageReader): Promise<boolean> {
  if (position.total === 0) return (await fetch(1, 1)).items.length === 0;
  if (!position.seen.length) return false;
  const page = await fetch(position.total, 1);
  const total = page.pagination?.totalRecords ?? page.items.length;
  return total === position.total && page.items.length === 1 && position.seen.includes(page.items[0].id);
}

export async function readFeed(ctx: Participant, position: FeedPosition, pageSize = FEED_PAGE_SIZE, lookBackMs = FEED_LOOK_BACK_MS): Promise<FeedRead> {
  const seen = new Set(position.seen);
  const floor = position.watermark ? Date.parse(position.watermark) - lookBackMs : -Infinity;
  let requests = 0;
  const fetch = async (page: number, size = pageSize) => {
    requests++;
    return ctx.client.messagesPage(page, size);
  };
  if (await nothingNew(position, fetch)) return { messages: [], total: position.total, requests };

  // Start at the page that holds message number `total` (1-based), i.e. where new ones begin.
  let pageNumber = Math.max(1, Math.ceil(Math.max(position.total, 1) / pageSize));
  let page = await fetch(pageNumber);
  let total = page.pagination?.totalRecords ?? (pageNumber === 1 ? page.items.length : position.total);
  if (page.items.length === 0 && pageNumber > 1) {
    // The list shrank (e.g. a decomposed relationship hid messages): start again from the real last page.
    const probe = await fetch(1);
    total = probe.pagination?.totalRecords ?? probe.items.length;
    pageNumber = Math.max(1, Math.ceil(total / pageSize));
    page = pageNumber === 1 ? probe : await fetch(pageNumber);
  }
  const lastPage = Math.max(1, page.pagination?.totalPages ?? 1);
  const pages = new Map<number, MessageDto[]>([[pageNumber, page.items]]);
  // Forward to the real last page (new messages beyond the remembered total).
  for (let p = pageNumber + 1; p <= lastPage; p++) pages.set(p, (await fetch(p)).items);
  // Backward while the earliest page read may still hold messages inside the look-back window.
  for (let p = pageNumber - 1; p >= 1; p--) {
    const first = pages.get(p + 1)?.[0];
    if (!first || tooOld(first, floor)) break;
    pages.set(p, (await fetch(p)).items);
  }
  const inWindow = [...pages.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, items]) => items)
    .filter((dto) => !tooOld(dto, floor));
  const unique = [...new Map(inWindow.filter((dto) => !seen.has(dto.id)).map((m) => [m.id, m])).values()];
  // Messages of the same instant keep the Platform's list order (the sort is stable).
  unique.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return { messages: unique, window: inWindow.map((dto) => ({ id: dto.id, createdAt: dto.createdAt })), total, requests };
}

/**
 * The newest message and every one within `lookBackMs` before it: where a cursor that starts now
 * stands (the trigger's seed), in O(1) requests however long the list is — the count (page 1 of
 * size 1), the newest message (the last page of size 1), then the tail pages the look-back reaches.
 */
export async function readTail(ctx: Participant, pageSize = FEED_PAGE_SIZE, lookBackMs = FEED_LOOK_BACK_MS): Promise<FeedRead> {
  const probe = await ctx.client.messagesPage(1, 1);
  const total = probe.pagination?.totalRecords ?? probe.items.length;
  if (total <= 1) return { messages: probe.items, total, requests: 1 };
  const [newest] = (await ctx.client.messagesPage(total, 1)).items;
  // The list shrank between the two reads: read it whole, as a cursor without a position does.
  const read = await readFeed(ctx, newest ? { total, watermark: newest.createdAt, seen: [] } : { total: 0, seen: [] }, pageSize, lookBackMs);
  return { ...read, requests: read.requests + 2 };
}

/** Newest first, for "Get Many": walks pages from the tail; the consumer stops when it has enough. */
export async function* messagesNewestFirst(ctx: Participant, pageSize = FEED_PAGE_SIZE): AsyncGenerator<MessageDto> {
  const probe = await ctx.client.messagesPage(1, 1); // one record: just the total
  const total = probe.pagination?.totalRecords ?? probe.items.length;
  for (let p = Math.ceil(total / pageSize); p >= 1; p--) {
    const items = (await ctx.client.messagesPage(p, pageSize)).items;
    for (let i = items.length - 1; i >= 0; i--) yield items[i];
  }
}
