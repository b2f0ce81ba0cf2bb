import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
} from "../../src/errors.js";
import { isRetryable, MAX_BACKOFF_MS, parseRetryAfter, retryDelayMs, sleep, withRetries } from "../../src/upstream/retry.js";

describe("parseRetryAfter", () => {
  it("reads seconds, HTTP dates and retry-after-ms (which wins)", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(parseRetryAfter({ "retry-after": "30" }), 30_000);
    assert.equal(parseRetryAfter({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }, now), 5_000);
    assert.equal(parseRetryAfter({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }, now), 0);
    assert.equal(parseRetryAfter({ "retry-after-ms": "50", "retry-after": "30" }), 50);
    assert.equal(parseRetryAfter({ "retry-after": ["2", "9"] }), 2_000);
  });

  it("ignores what it cannot read", () => {
    assert.equal(parseRetryAfter({}), undefined);
    assert.equal(parseRetryAfter({ "retry-after": "soon" }), undefined);
    assert.equal(parseRetryAfter({ "retry-after-ms": "-5" }), undefined);
    assert.equal(parseRetryAfter({ "retry-after-ms": "" }), undefined);
  });
});

describe("isRetryable", () => {
  it("retries connection errors, timeouts, 408, 409, 429 and 5xx only", () => {
    assert.equal(isRetryable(new APIConnectionError("reset")), true);
    assert.equal(isRetryable(new APITimeoutError("slow")), true);
    assert.equal(isRetryable(new APIError(408, "timeout")), true);
    assert.equal(isRetryable(new APIError(409, "cancelled")), true);
    assert.equal(isRetryable(new RateLimitError("busy")), true);
    assert.equal(isRetryable(new InternalServerError("boom")), true);
    assert.equal(isRetryable(new ServiceUnavailableError("loading")), true);
    assert.equal(isRetryable(new APIError(504, "gateway")), true);
    assert.equal(isRetryable(new BadRequestError("bad")), false);
    assert.equal(isRetryable(new NotFoundError("gone")), false);
    assert.equal(isRetryable(new APIError(422, "invalid")), false);
    assert.equal(isRetryable(new Error("not ours")), false);
  });
});

describe("retryDelayMs", () => {
  it("backs off exponentially with full jitter, capped", () => {
    const err = new InternalServerError("boom");
    assert.equal(retryDelayMs(err, 0, () => 1), 500);
    assert.equal(retryDelayMs(err, 1, () => 1), 1000);
    assert.equal(retryDelayMs(err, 2, () => 0.5), 1000);
    assert.equal(retryDelayMs(err, 10, () => 1), MAX_BACKOFF_MS);
    assert.equal(retryDelayMs(err, 3, () => 0), 0);
  });

  it("waits what the upstream asked, up to 60 s; beyond that it does not retry", () => {
    assert.equal(retryDelayMs(new ServiceUnavailableError("loading", { retryAfterMs: 30_000 }), 0), 30_000);
    assert.equal(retryDelayMs(new RateLimitError("busy", { retryAfterMs: 60_000 }), 5), 60_000);
    assert.equal(retryDelayMs(new RateLimitError("quota", { retryAfterMs: 3_600_000 }), 0), undefined);
  });
});

describe("withRetries", () => {
  it("retries a retryable failure and stops at the first success", async () => {
    let attempts = 0;
    const result = await withRetries(
      async () => {
        attempts++;
        if (attempts < 3) throw new ServiceUnavailableError("loading", { retryAfterMs: 0 });
        return "ok";
      },
      { numRetries: 2, signal: undefined, canResend: () => true },
    );
    assert.equal(result, "ok");
    assert.equal(attempts, 3);
  });

  it("gives up after num_retries, on other 4xx at once, and when the request cannot be sent again", async () => {
    const failing = (err: Error): { attempts: number; run: () => Promise<never> } => {
      const state = {
        attempts: 0,
        run: async (): Promise<never> => {
          state.attempts++;
          throw err;
        },
      };
      return state;
    };
    const always503 = failing(new ServiceUnavailableError("down", { retryAfterMs: 0 }));
    await assert.rejects(withRetries(always503.run, { numRetries: 2, signal: undefined, canResend: () => true }), ServiceUnavailableError);
    assert.equal(always503.attempts, 3);

    const notFound = failing(new NotFoundError("no such model"));
    await assert.rejects(withRetries(notFound.run, { numRetries: 2, signal: undefined, canResend: () => true }), NotFoundError);
    assert.equal(notFound.attempts, 1);

    const consumed = failing(new ServiceUnavailableError("down", { retryAfterMs: 0 }));
    await assert.rejects(withRetries(consumed.run, { numRetries: 2, signal: undefined, canResend: () => false }), ServiceUnavailableError);
    assert.equal(consumed.attempts, 1);
  });

  it("stops waiting as soon as the signal aborts during a backoff", async () => {
    const controller = new AbortController();
    let attempts = 0;
    const call = withRetries(
      async () => {
        attempts++;
        // Aborted once the retry loop is waiting its 30 s.
        setImmediate(() => controller.abort(new Error("caller gave up")));
        throw new ServiceUnavailableError("loading", { retryAfterMs: 30_000 });
      },
      { numRetries: 2, signal: controller.signal, canResend: () => true },
    );
    await assert.rejects(call, { message: "caller gave up" });
    assert.equal(attempts, 1);
  });
});

describe("sleep", () => {
  it("rejects at once with the reason of an already aborted signal", async () => {
    await assert.rejects(sleep(60_000, AbortSignal.abort(new Error("stop"))), { message: "stop" });
  });
});
