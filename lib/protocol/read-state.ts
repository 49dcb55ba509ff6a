import type { Participant } from './participant';

/**
 * Which messages are read. The Backbone only records that a recipient fetched a message
 * (`receivedAt`, set by the first GET); "read" is ours alone, so it lives in the datawallet, where
 * every worker of the identity sees it and it survives restarts.
 *
 * Collection `n8n.read`, one object per UTC day of the messages' createdAt, holding the sorted ids of
 * that day's messages marked read; marking unread removes the id, and an emptied day is deleted. The
 * Backbone hands a fresh reader only the newest version of each object, so reading the state costs
 * one object per day on which something was read, however often it changed. Unmarked messages are
 * unread. Changes are compare-and-swap updates (lib/state/datawallet), so parallel marks from
 * several workers all stick.
 */

const COLLECTION = 'n8n.read' as const;

export interface ReadStateKey {
  id: string;
  createdAt: string;
}

interface DayBucket {
  ids: string[];
}

const dayOf = (m: ReadStateKey): string => m.createdAt.slice(0, 10);

export interface ReadState {
  isRead(message: ReadStateKey): boolean;
}

/** The read state as the datawallet holds it now. */
export async function loadReadState(ctx: Participant): Promise<ReadState> {
  await ctx.store.refresh();
  const days = new Map<string, Set<string>>();
  return {
    isRead(message) {
      const day = dayOf(message);
      let ids = days.get(day);
      if (!ids) {
        ids = new Set((ctx.store.get(COLLECTION, day)?.value as DayBucket | undefined)?.ids ?? []);
        days.set(day, ids);
      }
      return ids.has(message.id);
    },
  };
}

/** Marks messages read (or unread) in one datawallet update. */
export async function setRead(ctx: Participant, messages: readonly ReadStateKey[], read: boolean): Promise<void> {
  if (messages.length === 0) return;
  const byDay = new Map<string, string[]>();
  for (const m of messages) byDay.set(dayOf(m), [...(byDay.get(dayOf(m)) ?? []), m.id]);
  await ctx.store.update(() => {
    const changes = [];
    for (const [day, ids] of byDay) {
      const current = new Set((ctx.store.get(COLLECTION, day)?.value as DayBucket | undefined)?.ids ?? []);
      const before = current.size;
      for (const id of ids) {
        if (read) current.add(id);
        else current.delete(id);
      }
      if (current.size === before) continue;
      changes.push({ collection: COLLECTION, id: day, value: current.size ? ({ ids: [...current].sort() } satisfies DayBucket) : undefined });
    }
    return { changes, result: undefined };
  });
}
