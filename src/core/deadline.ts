/**
 * The one deadline mechanism: an attempt gets a single AbortSignal that aborts when its caller's signal does
 * or when its time is up, with one timer. The transport has no timer of its own: it follows the signal, and
 * tells a deadline (DeadlineExceeded) from a cancellation by the abort reason.
 */

/** The abort reason of a signal whose time ran out. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`deadline of ${timeoutMs / 1000} s exceeded`);
    this.name = "DeadlineExceeded";
  }
}

/** Starts a timer and returns its cancel function; a fake clock's in tests. */
export type SetTimer = (ms: number, onTimeout: () => void) => () => void;

/** setTimeout cannot wait longer (it would fire at once); a longer timeout means none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemTimer: SetTimer = (ms, onTimeout) => {
  if (ms > MAX_TIMER_MS) return () => undefined;
  const timer = setTimeout(onTimeout, ms);
  return () => clearTimeout(timer);
};

export interface Deadline {
  readonly signal: AbortSignal;
  /** Whether it was the time, not the caller, that aborted the signal. */
  readonly expired: boolean;
  /** Stops the timer and detaches from the caller's signal; call it when the attempt is over. */
  dispose(): void;
}

export interface DeadlineOptions {
  timeoutMs: number;
  parent?: AbortSignal | undefined;
  setTimer?: SetTimer;
  /** The abort reason when time runs out; DeadlineExceeded by default. */
  reason?: () => Error;
}

export function startDeadline(options: DeadlineOptions): Deadline {
  const { parent, timeoutMs } = options;
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener("abort", onParentAbort, { once: true });
  const cancelTimer = (options.setTimer ?? systemTimer)(timeoutMs, () => {
    expired = true;
    controller.abort(options.reason?.() ?? new DeadlineExceeded(timeoutMs));
  });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      cancelTimer();
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}
