import type { EventStream, EventStreamOptions, StreamState } from '../backbone';
import type { Participant } from './participant';

/**
 * One event stream per identity per process, shared by everyone in the process who listens to that
 * identity (every active workflow with a credential of it). A second stream of the same identity
 * would not add a listener: the SseServer would end it at once and silence the first. So streams
 * are kept here, keyed by Backbone and address (not by credential: two credentials of one identity
 * still share one stream), opened by the first active subscriber and closed with the last.
 *
 * The stream outlives its last subscriber by `lingerMs`, so that a workflow being updated or
 * reactivated keeps it instead of closing and reopening it: the SseServer processes a stream's end
 * whenever it notices it, and that end removes the identity's channel — a new stream opened just
 * before would be silenced.
 *
 * A passive subscriber (the editor's manual "listen for event") hears the stream this process holds
 * anyway, and never opens one: in queue mode with manual executions offloaded it may run in another
 * process than the one holding the production stream, which its own stream would silence.
 */

export interface EventSubscriber {
  /** An event of the stream (`ExternalEventCreated`, `DatawalletModificationsCreated`, …). */
  onEvent?(name: string): void;
  /** Every state of the stream, starting with the current one at subscription. */
  onState?(state: StreamState): void;
}

export interface SubscribeOptions {
  /** Listen only to a stream this process holds anyway; never open one. */
  passive?: boolean;
  /** The SseServer's keep-alive period this subscriber expects; the stream uses the longest among its subscribers. */
  keepAliveMs?: number;
  /** How long the stream stays open after the last active subscriber left (default 10 s; that subscriber's value applies). */
  lingerMs?: number;
  /** Knobs of the stream (tests, benchmarks); the first active subscriber's apply. */
  stream?: Omit<EventStreamOptions, 'baseUrl' | 'auth' | 'onEvent' | 'onState' | 'keepAliveMs'>;
}

export interface EventSubscription {
  readonly state: StreamState;
  unsubscribe(): void;
}

interface Channel {
  stream?: EventStream;
  /** Closes the stream after the last active subscriber left, unless another one comes first. */
  linger?: NodeJS.Timeout;
  state: StreamState;
  subscribers: Map<EventSubscriber, { passive: boolean; keepAliveMs?: number }>;
}

const channels = new Map<string, Channel>();

const keyOf = (participant: Participant): string => `${participant.baseUrl} ${participant.address}`;

function keepAliveOf(channel: Channel): number | undefined {
  const periods = [...channel.subscribers.values()].filter((s) => !s.passive && s.keepAliveMs !== undefined).map((s) => s.keepAliveMs!);
  return periods.length ? Math.max(...periods) : undefined;
}

export function subscribeEvents(participant: Participant, subscriber: EventSubscriber, options: SubscribeOptions = {}): EventSubscription {
  const key = keyOf(participant);
  let channel = channels.get(key);
  if (!channel) {
    channel = { state: { kind: 'closed' }, subscribers: new Map() };
    channels.set(key, channel);
  }
  const ch = channel;
  const passive = options.passive === true;
  ch.subscribers.set(subscriber, { passive, keepAliveMs: options.keepAliveMs });
  subscriber.onState?.(ch.state);
  if (!passive) {
    clearTimeout(ch.linger);
    ch.linger = undefined;
    const keepAliveMs = keepAliveOf(ch);
    if (!ch.stream) {
      ch.stream = participant.client.eventStream({
        ...options.stream,
        keepAliveMs,
        onEvent: (name) => {
          for (const s of [...ch.subscribers.keys()]) s.onEvent?.(name);
        },
        onState: (state) => {
          ch.state = state;
          for (const s of [...ch.subscribers.keys()]) s.onState?.(state);
        },
      });
      ch.stream.start();
    } else if (keepAliveMs !== undefined) {
      ch.stream.setKeepAlive(keepAliveMs, options.stream?.marginMs);
    }
  }

  let subscribed = true;
  return {
    get state() {
      return ch.state;
    },
    unsubscribe() {
      if (!subscribed) return;
      subscribed = false;
      ch.subscribers.delete(subscriber);
      const forget = (): void => {
        if (ch.subscribers.size === 0 && !ch.stream && channels.get(key) === ch) channels.delete(key);
      };
      const active = [...ch.subscribers.values()].some((s) => !s.passive);
      if (active || !ch.stream || ch.linger) return forget();
      const close = (): void => {
        ch.linger = undefined;
        ch.stream?.close();
        ch.stream = undefined;
        forget();
      };
      const lingerMs = options.lingerMs ?? 10_000;
      if (lingerMs <= 0) close();
      else {
        ch.linger = setTimeout(close, lingerMs);
        ch.linger.unref?.(); // the stream's socket alone decides whether it holds the process
      }
    },
  };
}
