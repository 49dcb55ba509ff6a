/**
 * The SSE server's event queue (Backbone SseServer, `EventQueue`), bug for bug: one channel per identity
 * address, a keep-alive loop per registered stream, and `deregister` by address.
 *
 *   - register(address): fails if the address already has a channel. Otherwise it adds one and starts a
 *     keep-alive loop that, every period (the first one a period after connecting) until the stream that
 *     started it closes, stops if the address has no channel at that moment and otherwise enqueues
 *     `keep-alive` into whatever channel the address has then (possibly a newer stream's).
 *   - deregister(address): removes the address's channel, whichever stream it belongs to.
 *   - enqueue(address, name): writes to the address's channel; false if there is none.
 *
 * The HTTP side (routes/sse.ts) deregisters when a stream ends, including a second stream that failed to
 * register: that removes the first stream's channel, so the first stream stays open but receives nothing
 * more; and when such an orphaned stream finally closes, it removes the channel of a newer one.
 */

export interface SseChannel {
  /** Writes one event (`event: <name>\ndata: _\n\n`). */
  send(name: string): void;
}

export class ClientAlreadyRegistered extends Error {}

export const KEEP_ALIVE_EVENT = 'keep-alive';

export class SseHub {
  private readonly channels = new Map<string, SseChannel>();
  private readonly open = new Set<() => void>();

  /** `end` runs the stream's cleanup; shutdown() runs those of the streams still open (before the database closes). */
  track(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  shutdown(): void {
    for (const end of [...this.open]) end();
  }

  /** Registers `channel` for `address` and starts its keep-alive loop, which runs until `stopKeepAlive` (the stream ended). */
  register(address: string, channel: SseChannel, keepAliveMs: number): { stopKeepAlive: () => void } {
    if (this.channels.has(address)) throw new ClientAlreadyRegistered();
    this.channels.set(address, channel);
    const timer = setInterval(() => {
      if (!this.channels.has(address)) {
        clearInterval(timer);
        return;
      }
      this.enqueue(address, KEEP_ALIVE_EVENT);
    }, keepAliveMs);
    timer.unref();
    return { stopKeepAlive: () => clearInterval(timer) };
  }

  deregister(address: string): void {
    this.channels.delete(address);
  }

  enqueue(address: string, name: string): boolean {
    const channel = this.channels.get(address);
    if (!channel) return false;
    channel.send(name);
    return true;
  }
}
