/**
 * Retries with exponential backoff and full jitter, honouring the upstream's Retry-After. Only failures that
 * may pass are retried: connection errors (timeouts included), 408, 409, 429 and 5xx.
 */
import { APIConnectionError, APIError } from "../errors.js";

export const BASE_DELAY_MS = 500;
export const MAX_BACKOFF_MS = 8_000;
/** A longer wait than this is not waited for: the error goes to the caller, with `retryAfterMs` on it. */
export const MAX_RETRY_AFTER_MS = 60_000;

type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** How long the upstream asked us to wait, from `retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function parseRetryAfter(headers: Record<string, HeaderValue>, now: number = Date.now()): number | undefined {
  const ms = first(headers["retry-after-ms"]);
  if (ms !== undefined && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = first(headers["retry-after"])?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof APIConnectionError) return true;
  if (!(err instanceof APIError) || err.status === undefined) return false;
  return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
}

/**
 * The wait before retry number `retry` (0 for the first retry), or undefined when the error asks for a wait
 * longer than MAX_RETRY_AFTER_MS.
 */
export function retryDelayMs(err: unknown, retry: number, random: () => number = Math.random): number | undefined {
  const retryAfterMs = err instanceof APIError ? err.retryAfterMs : undefined;
  if (retryAfterMs !== undefined) return retryAfterMs <= MAX_RETRY_AFTER_MS ? retryAfterMs : undefined;
  return random() * Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** retry);
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions {
  numRetries: number;
  signal: AbortSignal | undefined;
  /** Asked after a failure: false when the request cannot be sent again (a one-shot stream was consumed). */
  canResend: () => boolean;
}

export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (retry >= options.numRetries || !isRetryable(err) || !options.canResend()) throw err;
      const delay = retryDelayMs(err, retry);
      if (delay === undefined) throw err;
      await sleep(delay, options.signal);
    }
  }
}
