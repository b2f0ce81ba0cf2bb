// The seam the admit stage calls with a key's and a team's scopes, and the 429 a client gets from it: the
// OpenAI error shape, LiteLLM's type, a stable code, a message naming the limit and its scope by alias (never
// the key), Retry-After and the x-ratelimit-* headers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toHttpError } from "../../../src/proxy/http/errors.js";
import { admitLimits, LimitExceededError, MemoryLimiter, type Scope } from "../../../src/proxy/limits/index.js";
import { FakeClock } from "../router/helpers.js";

const LIMITS = { bodyLimitBytes: 1024 };
const keyScope = (limits: Scope["limits"]): Scope => ({ kind: "key", id: "5f2b…hash", name: "billing-app", limits });
const teamScope = (limits: Scope["limits"]): Scope => ({ kind: "team", id: "team-7", name: "finance", limits });

async function refusedWith(limiter: MemoryLimiter, scopes: Scope[], tokens = 0): Promise<LimitExceededError> {
  try {
    await admitLimits(limiter, scopes, tokens);
  } catch (error) {
    assert.ok(error instanceof LimitExceededError);
    return error;
  }
  assert.fail("admitted, but should have been refused");
}

test("admitLimits counts a request against the key and its team, and its ticket gives the headers' quota", async () => {
  const limiter = new MemoryLimiter({ clock: new FakeClock() });
  const ticket = await admitLimits(limiter, [keyScope({ rpm: 5, tpm: 1000 }), teamScope({ rpm: 3 })], 100);
  assert.deepEqual(ticket.quota, { requests: { limit: 3, remaining: 2 }, tokens: { limit: 1000, remaining: 900 } });
  ticket.done(40);
  const usage = await limiter.usage([keyScope({ rpm: 5, tpm: 1000 })]);
  assert.deepEqual(usage.get("key:5f2b…hash"), { requests: 1, tokens: 40, parallel: 0 });
  await limiter.close();
});

test("over an rpm limit: 429, throttling_error, rate_limit_exceeded, the key named by its alias, Retry-After and headers", async () => {
  const clock = new FakeClock();
  const limiter = new MemoryLimiter({ clock });
  const scopes = [keyScope({ rpm: 2 }), teamScope({ rpm: 100 })];
  await admitLimits(limiter, scopes, 0);
  await admitLimits(limiter, scopes, 0);
  clock.advance(15_500);
  const error = await refusedWith(limiter, scopes);
  const http = toHttpError(error, LIMITS);
  assert.equal(http.status, 429);
  assert.deepEqual(http.body, {
    error: {
      message: "Rate limit exceeded: key 'billing-app' is at its rpm_limit (2 requests a minute). Retry in 46 s.",
      type: "throttling_error",
      param: null,
      code: "rate_limit_exceeded",
    },
  });
  assert.deepEqual(http.headers, {
    "retry-after": "46",
    "x-ratelimit-limit-requests": "2",
    "x-ratelimit-remaining-requests": "0",
  });
  assert.doesNotMatch(http.body.error.message, /hash/);
  await limiter.close();
});

test("over a tpm limit the message says what was counted; over max_parallel_requests the code says so", async () => {
  const limiter = new MemoryLimiter({ clock: new FakeClock() });
  const team = teamScope({ tpm: 500 });
  (await admitLimits(limiter, [team], 100)).done(450);
  const tokens = await refusedWith(limiter, [keyScope({}), team], 100);
  assert.match(tokens.message, /^Rate limit exceeded: team 'finance' is at its tpm_limit \(500 tokens a minute; 450 counted in the last minute\)\. Retry in 61 s\.$/);
  assert.equal(toHttpError(tokens, LIMITS).headers["x-ratelimit-remaining-tokens"], "50");

  const key = keyScope({ maxParallel: 1 });
  const held = await admitLimits(limiter, [key], 0);
  const parallel = toHttpError(await refusedWith(limiter, [key]), LIMITS);
  assert.equal(parallel.body.error.code, "parallel_request_limit_reached");
  assert.equal(parallel.body.error.type, "throttling_error");
  assert.match(parallel.body.error.message, /key 'billing-app' is at its max_parallel_requests \(1 in flight at once\)\. Retry when one of them is done/);
  assert.equal(parallel.headers["retry-after"], "1");
  held.done();
  (await admitLimits(limiter, [key], 0)).done();
  await limiter.close();
});

test("a limit that admits nothing says so, and tells clients not to retry", async () => {
  const limiter = new MemoryLimiter({ clock: new FakeClock() });
  const http = toHttpError(await refusedWith(limiter, [keyScope({ rpm: 0 })]), LIMITS);
  assert.equal(http.status, 429);
  assert.equal(http.body.error.code, "rate_limit_allows_nothing");
  assert.match(http.body.error.message, /key 'billing-app' has rpm_limit 0, which admits no request: raise the limit/);
  assert.equal(http.headers["x-should-retry"], "false");
  assert.equal(http.headers["retry-after"], undefined);
  await limiter.close();
});
