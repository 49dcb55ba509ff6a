import type { MessageDto } from '../backbone';
import type { Participant } from './participant';

/**
 * Reading the message list from its tail. The Backbone lists an identity's messages oldest first
 * and has no date filter, so a naive poll costs O(all messages). We remember how many messages
 * there were; the next read starts at the page holding the first unseen one and only walks back
 * while a page may still hold messages newer than the watermark. Nothing new costs one request, or
 * two when the last five minutes hold more messages than that page (npm run bench: 2 requests with
 * 1,000 and with 10,000 old messages alike).
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

export async function readFeed(ctx: Participant, position: FeedPosition, pageSize = FEED_PAGE_SIZE, lookBackMs = FEED_LOOK_BACK_MS): Promise<FeedRead> {
  const seen = new Set(position.seen);
  const floor = position.watermark ? Date.parse(position.watermark) - lookBackMs : -Infinity;
  let requests = 0;
  const fetch = async (page: number) => {
    requests++;
    return ctx.client.messagesPage(page, pageSize);
  };

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
  const messages = [...pages.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, items]) => items)
    .filter((dto) => !tooOld(dto, floor) && !seen.has(dto.id));
  const unique = [...new Map(messages.map((m) => [m.id, m])).values()];
  // Messages of the same instant keep the Platform's list order (the sort is stable).
  unique.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return { messages: unique, total, requests };
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
