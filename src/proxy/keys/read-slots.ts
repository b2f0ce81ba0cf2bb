/**
 * How many key reads the cache has at the database at once. A burst of unknown keys (a restart, a flood of
 * made-up ones) then takes a few of the pool's connections, never all of them: the rest stay free for spend
 * writes and the admin routes. A read that finds no slot waits in line, for a bounded time and in a bounded
 * line; past either, it fails at once, which the key check answers as a 503.
 */
import type { Clock } from "../router/clock.js";

/** No slot came free in time, or the line was full. */
export class ReadSlotsBusyError extends Error {
  override readonly name = "ReadSlotsBusyError";
}

export interface ReadSlotsOptions {
  /** Reads at once. */
  limit: number;
  /** Reads waiting for a slot; past it, a read fails at once. */
  maxWaiting: number;
  /** How long a read waits for a slot. */
  waitMs: number;
  clock: Clock;
}

export class ReadSlots {
  private active = 0;
  /** In arrival order (a Set iterates in insertion order and deletes in O(1)). */
  private readonly waiting = new Set<() => void>();

  constructor(private readonly options: ReadSlotsOptions) {}

  run<T>(read: () => Promise<T>): Promise<T> {
    if (this.active < this.options.limit) return this.start(read);
    if (this.waiting.size >= this.options.maxWaiting) return Promise.reject(new ReadSlotsBusyError("too many key reads waiting"));
    return new Promise<T>((resolve, reject) => {
      const cancel = this.options.clock.setTimer(this.options.waitMs, () => {
        this.waiting.delete(go);
        reject(new ReadSlotsBusyError(`no key read slot came free in ${this.options.waitMs} ms`));
      });
      const go = (): void => {
        cancel();
        this.start(read).then(resolve, reject);
      };
      this.waiting.add(go);
    });
  }

  private start<T>(read: () => Promise<T>): Promise<T> {
    this.active++;
    let running: Promise<T>;
    try {
      running = read();
    } catch (error) {
      running = Promise.reject(error);
    }
    return running.finally(() => {
      this.active--;
      const next = this.waiting.values().next();
      if (!next.done) {
        this.waiting.delete(next.value);
        next.value();
      }
    });
  }
}
