/**
 * Time, injectable (tests drive cooldowns, timeouts and waits with a fake clock instead of sleeping), and
 * the waits that an AbortSignal must be able to cut short.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Runs `fn` after `ms`; returns a function that cancels it. `unref` timers (background chores such as
   * heartbeats and health passes) do not keep the process alive.
   */
  setTimer(ms: number, fn: () => void, options?: { unref?: boolean }): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn, options) {
    const timer = setTimeout(fn, ms);
    if (options?.unref) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** The reason a signal was aborted with, as an Error to throw. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The promise's result, or the signal's reason as soon as it aborts: work that ignores its signal cannot
 * keep a request past its timeout or its client's departure.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The promise's result, or `timedOut()` once `ms` have passed on the clock: a dependency that hangs costs one
 * bounded wait. The promise's work goes on, unwaited for.
 */
export function within<T>(clock: Clock, promise: Promise<T>, ms: number, timedOut: () => Error, options?: { unref?: boolean }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // A loop that was busy past the deadline runs its timers before the I/O that came in meanwhile: the
    // timeout waits for that I/O to be read (setImmediate runs after it), so that an answer which arrived in
    // time is not refused for a stall of this process's own.
    const cancel = clock.setTimer(ms, () => setImmediate(() => reject(timedOut())), options);
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}
