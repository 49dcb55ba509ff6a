import type { StreamState } from '../backbone';
import { subscribeEvents, type SubscribeOptions } from './event-hub';
import type { Participant } from './participant';

/**
 * When to poll, for a trigger that reacts within a second: on every `ExternalEventCreated` of the
 * identity's event stream (event-hub.ts), on every (re)connect — the stream replays nothing, so
 * whatever happened while it was down or silenced is caught up by reading — and, while the stream is
 * not open (not deployed, unreachable, refused, reconnecting), every `fallbackPollMs`.
 *
 * The poll itself (what is new since the cursor, exactly once) is the caller's job; here it only
 * runs one at a time per job, with wake-ups during a poll folded into one more poll after it, and
 * one at a time per identity in the process (several workflows on one credential would otherwise
 * start sync runs against each other, and one would find the others' run busy). A failed poll is
 * retried with a doubling delay up to the fallback interval.
 */

export type WakeReason = 'start' | 'connected' | 'event' | 'fallback' | 'retry' | 'more';

/** Events after which something may be new for a trigger: messages and relationship changes are external events. */
const WAKING_EVENTS: ReadonlySet<string> = new Set(['ExternalEventCreated']);

export interface InstantJob {
  /** One poll; resolves true when more is waiting at once (a capped batch). */
  poll(reason: WakeReason): Promise<boolean>;
  /** A poll failed; `streak` counts the failures in a row (1 = the first). It is retried later. */
  failed?(error: unknown, streak: number): void;
  /** The stream's state changed (for the user's logs). */
  stateChanged?(state: StreamState): void;
}

export interface InstantOptions extends SubscribeOptions {
  /** Poll interval while the stream is not open. */
  fallbackPollMs: number;
  /** First delay before a failed poll is retried (default 1 s). */
  retryMs?: number;
  /** Poll once at start, whatever the stream does (a cursor from before a restart). */
  pollAtStart?: boolean;
}

export interface InstantRun {
  close(): void;
}

/** The poll running or queued per identity in this process. */
const lanes = new WeakMap<Participant, Promise<unknown>>();

function inLane<T>(participant: Participant, run: () => Promise<T>): Promise<T> {
  const previous = lanes.get(participant) ?? Promise.resolve();
  const mine = previous.then(run, run);
  lanes.set(
    participant,
    mine.catch(() => undefined),
  );
  return mine;
}

export function runInstant(participant: Participant, job: InstantJob, options: InstantOptions): InstantRun {
  let closed = false;
  let polling = false;
  let again: WakeReason | undefined;
  let failures = 0;
  let fallback: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;

  const wake = (reason: WakeReason): void => {
    if (closed) return;
    if (polling) {
      again ??= reason;
      return;
    }
    void drain(reason);
  };

  const drain = async (first: WakeReason): Promise<void> => {
    polling = true;
    clearTimeout(retry);
    retry = undefined;
    let next: WakeReason | undefined = first;
    while (next && !closed) {
      const reason: WakeReason = next;
      again = undefined;
      try {
        const more: boolean = await inLane(participant, (): Promise<boolean> => (closed ? Promise.resolve(false) : job.poll(reason)));
        failures = 0;
        next = more ? 'more' : again;
      } catch (error) {
        failures++;
        if (!closed) job.failed?.(error, failures);
        const delay = Math.min(options.fallbackPollMs, (options.retryMs ?? 1_000) * 2 ** Math.min(failures - 1, 30));
        retry = setTimeout(() => wake('retry'), delay);
        next = undefined;
      }
    }
    polling = false;
  };

  const startFallback = (): void => {
    if (fallback || closed) return;
    fallback = setInterval(() => wake('fallback'), options.fallbackPollMs);
  };

  const subscription = subscribeEvents(
    participant,
    {
      onEvent: (name) => {
        if (WAKING_EVENTS.has(name)) wake('event');
      },
      onState: (state) => {
        if (closed) return;
        job.stateChanged?.(state);
        if (state.kind === 'open') {
          clearInterval(fallback);
          fallback = undefined;
          wake('connected');
        } else {
          startFallback();
        }
      },
    },
    options,
  );
  if (options.pollAtStart) wake('start');

  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(fallback);
      clearTimeout(retry);
      subscription.unsubscribe();
    },
  };
}
