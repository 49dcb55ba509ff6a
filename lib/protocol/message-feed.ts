import type { MessageDto } from '../backbone';
import type { Participant } from './participant';

/**
 * Reading the message list from its tail. The Backbone lists an identity's messages oldest first
 * and has no date filter, so a naive poll costs O(all messages). We remember how many messages
 * there were and which one stood last (`tail`). A read first asks for that one record (page `total`
 * of size 1): still the same message and the same count, nothing is new — one request whatever the
 * list's length; the same message and a higher count, messages were only appended — the read goes
 * forward from it, O(new). Anything else (a message listed before the tail: one that became visible
 * late; or messages hidden) sends the read to the look-back window: from the page holding message
 * number `total`, back while a page may still hold messages newer than `watermark − lookBackMs`.
 * npm run bench shows the costs with 1,000 and 10,000 old messages.
 *
 * Exactly-once is the caller's job (the trigger): a read returns every message after the tail, or
 * every message inside the window that is not in `seen`, so a message that becomes visible late (its
 * createdAt a little older than one already read) is still caught.
 */

/** A handled message: its id and createdAt (the caller forgets it once it leaves the look-back window). */
export type SeenMessage = [id: string, createdAt: string];

export interface FeedPosition {
  /** Total number of messages at the last read (or the position of the last one handled). */
  total: number;
  /** createdAt of the newest message emitted or skipped. */
  watermark?: string;
  /** Messages with createdAt ≥ watermark − lookBack that were already handled. */
  seen: SeenMessage[];
  /** The id of the message at position `total`, when it and every message listed before it were handled. */
  tail?: string;
}

export interface FeedRead {
  /** New messages: in list order after a forward read, otherwise oldest first. */
  messages: MessageDto[];
  /** Total at this read. */
  total: number;
  /** The id at position `total` when the read proved the whole list up to it (absent: the next read reads the window). */
  tail?: string;
  /**
   * Set when `messages` are the list's positions `from`, `from + 1`, … up to `total` (a forward read
   * that saw the list settled): a caller that handles only the first k can stand at position from + k − 1.
   */
  from?: number;
  /** Requests made (for benchmarks). */
  requests: number;
}

export const FEED_PAGE_SIZE = 100;
export const FEED_LOOK_BACK_MS = 5 * 60_000;

function tooOld(dto: MessageDto, floor: number): boolean {
  return Date.parse(dto.createdAt) < floor;
}

type Page = { items: MessageDto[]; pagination?: { totalRecords: number; totalPages?: number } };
type PageReader = (page: number, size?: number) => Promise<Page>;

/** The count a page reports. The Backbone omits pagination for a list of one page, so there it is the page's length. */
function totalOf(page: Page, pageNumber: number, otherwise: number): number {
  return page.pagination?.totalRecords ?? (pageNumber === 1 ? page.items.length : otherwise);
}

/** Each message of `list` not in `seen`, once (the first time it comes), in list order. */
function unseenOnce(list: MessageDto[], seen: Set<string>): MessageDto[] {
  return [...new Map(list.filter((dto) => !seen.has(dto.id)).map((dto) => [dto.id, dto])).values()];
}

/**
 * Messages appended after the tail, when `first`, the page holding position `total`, still has the
 * tail there (the one record said so, but the list may have changed since). Pages after it are read to
 * the end. A message listed before the tail meanwhile shifts the later pages, so one message comes
 * twice; one hidden shifts them back, so the pages hold fewer than the count: either way what was
 * read is returned without a tail, and the next read covers the window. (One of each during the
 * same read cancel out: the limit of the one-record check too.) Undefined: the tail moved.
 */
async function readForward(position: FeedPosition, seen: Set<string>, first: Page, pageNumber: number, fetch: PageReader, pageSize: number): Promise<Omit<FeedRead, 'requests'> | undefined> {
  const at = position.total - 1 - (pageNumber - 1) * pageSize;
  if (first.items[at]?.id !== position.tail) return undefined;
  const total = totalOf(first, pageNumber, position.total);
  const lastPage = Math.max(pageNumber, first.pagination?.totalPages ?? pageNumber);
  const listed = first.items.slice(at + 1);
  let last = first;
  for (let p = pageNumber + 1; p <= lastPage; p++) {
    last = await fetch(p);
    listed.push(...last.items);
  }
  const fresh = unseenOnce(listed, seen);
  const consecutive = fresh.length === listed.length && position.total + listed.length === total;
  // Consecutive, the last page ends with the newest message; a page the Platform claims but serves empty leaves no tail.
  const tail = consecutive ? last.items.at(-1)?.id : undefined;
  return { messages: fresh, total, tail, ...(consecutive && fresh.length ? { from: position.total + 1 } : {}) };
}

export async function readFeed(ctx: Participant, position: FeedPosition, pageSize = FEED_PAGE_SIZE, lookBackMs = FEED_LOOK_BACK_MS): Promise<FeedRead> {
  const seen = new Set(position.seen.map(([id]) => id));
  const floor = position.watermark ? Date.parse(position.watermark) - lookBackMs : -Infinity;
  let requests = 0;
  const fetch: PageReader = async (page, size = pageSize) => {
    requests++;
    return ctx.client.messagesPage(page, size);
  };

  // The page that holds message number `total` (1-based): where new ones begin, for both reads below.
  let pageNumber = Math.max(1, Math.ceil(Math.max(position.total, 1) / pageSize));
  let page: Page | undefined;

  // One record: is the message at position `total` still the one the cursor handled there?
  if (position.total === 0) {
    if ((await fetch(1, 1)).items.length === 0) return { messages: [], total: 0, requests };
  } else if (position.tail || seen.size) {
    const probe = await fetch(position.total, 1);
    const there = probe.items.length === 1 ? probe.items[0].id : undefined;
    const total = totalOf(probe, position.total, position.total);
    // A cursor without a tail (capped, or of an earlier version) vouches only for its seen ids, and only when the count is unchanged.
    const handledThere = there !== undefined && (position.tail ? there === position.tail : seen.has(there));
    if (handledThere && total === position.total) return { messages: [], total, tail: position.tail, requests };
    if (handledThere && position.tail && total > position.total) {
      page = await fetch(pageNumber);
      const forward = await readForward(position, seen, page, pageNumber, fetch, pageSize);
      if (forward) return { ...forward, requests };
    }
  }

  // The window, from the same page (already read when the tail had moved).
  page ??= await fetch(pageNumber);
  let total = totalOf(page, pageNumber, position.total);
  if (page.items.length === 0 && pageNumber > 1) {
    // The list shrank (e.g. a decomposed relationship hid messages): start again from the real last page.
    const probe = await fetch(1);
    total = totalOf(probe, 1, 0);
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
  const unique = unseenOnce(inWindow, seen);
  // Messages of the same instant keep the Platform's list order (the sort is stable).
  unique.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  // Its last message is the tail when the last page holds what the count says. A message listed
  // before it after this read moves it off position `total`, which the next read's one record sees.
  const lastItems = pages.get(lastPage) ?? [];
  const complete = (lastPage - 1) * pageSize + lastItems.length === total;
  return { messages: unique, total, ...(complete && lastItems.length ? { tail: lastItems[lastItems.length - 1].id } : {}), requests };
}

/**
 * The newest message and every one within `lookBackMs` before it: where a cursor that starts now
 * stands (the trigger's seed), in O(1) requests however long the list is — the count (page 1 of
 * size 1), the newest message (the last page of size 1), then the tail pages the look-back reaches.
 */
export async function readTail(ctx: Participant, pageSize = FEED_PAGE_SIZE, lookBackMs = FEED_LOOK_BACK_MS): Promise<FeedRead> {
  const probe = await ctx.client.messagesPage(1, 1);
  const total = totalOf(probe, 1, 0);
  if (total <= 1) return { messages: probe.items, total, ...(probe.items.length ? { tail: probe.items[0].id } : {}), requests: 1 };
  const [newest] = (await ctx.client.messagesPage(total, 1)).items;
  // The list shrank between the two reads: read it whole, as a cursor without a position does.
  const read = await readFeed(ctx, newest ? { total, watermark: newest.createdAt, seen: [] } : { total: 0, seen: [] }, pageSize, lookBackMs);
  return { ...read, requests: read.requests + 2 };
}

/** Newest first, for "Get Many": walks pages from the tail; the consumer stops when it has enough. */
export async function* messagesNewestFirst(ctx: Participant, pageSize = FEED_PAGE_SIZE): AsyncGenerator<MessageDto> {
  const total = totalOf(await ctx.client.messagesPage(1, 1), 1, 0); // one record: just the total
  for (let p = Math.ceil(total / pageSize); p >= 1; p--) {
    const items = (await ctx.client.messagesPage(p, pageSize)).items;
    for (let i = items.length - 1; i >= 0; i--) yield items[i];
  }
}
