// Deployments' rpm/tpm (litellm_params): a deployment at its limit is skipped, not failed; when every one is,
// the client gets a 429 with Retry-After; the answer carries the model group's quota; every attempt's ticket
// is given back however the attempt ended.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { APITimeoutError, fromUpstream, InternalServerError } from "../../../src/errors.js";
import { type Admission, type Limiter, LimitExceededError, MemoryLimiter, type Scope, type Ticket } from "../../../src/proxy/limits/index.js";
import { usageBased } from "../../../src/proxy/router/strategies/usage-based.js";
import { config, cooldownOf, entry, FakeClock, inConfigOrder, limitUsage, ok, reset, scripted, stall, testRouter } from "./helpers.js";

describe("a deployment's rpm", () => {
  test("a deployment at its limit is skipped for another, without an attempt, a retry or a failure counted", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a", { rpm: 2 }), entry("g", "b", { rpm: 2 })], { allowed_fails: 1 }), {
      strategy: inConfigOrder,
    });
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await router.execute("g", ok);
      answered.push(answer.deployment.id);
      assert.equal(answer.attempts, 1);
    }
    assert.deepEqual(answered, ["a", "a", "b", "b"]);
    assert.equal(await cooldownOf(state, "a", clock.now()), undefined);
    assert.equal(await state.recordFailure("a", clock.now()), 1, "no failure was counted before this one");
  });

  test("the answer carries the group's quota: its deployments' limits summed, this request counted", async () => {
    const { router } = testRouter(config([entry("g", "a", { rpm: 2, tpm: 100 }), entry("g", "b", { rpm: 3, tpm: 50 })]));
    const remaining: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const { quota } = await router.execute("g", ok, { estimateTokens: () => 10, tokensOf: () => 10 });
      assert.equal(quota.requests?.limit, 5);
      assert.equal(quota.tokens?.limit, 150);
      remaining.push(quota.requests?.remaining);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
  });

  test("a group with one unlimited deployment has no quota of that kind", async () => {
    const { router } = testRouter(config([entry("g", "a", { rpm: 2 }), entry("g", "b", {})]));
    assert.deepEqual((await router.execute("g", ok)).quota, { requests: undefined, tokens: undefined });
  });

  test("when every deployment is at its limit: a 429 naming them, Retry-After when the first frees, and no call", async () => {
    const { router, clock, state } = testRouter(config([entry("g", "a", { rpm: 2 }), entry("g", "b", { rpm: 1 })]), { strategy: inConfigOrder });
    await router.execute("g", ok);
    await router.execute("g", ok);
    clock.advance(10_000);
    await router.execute("g", ok);
    clock.advance(5_000);
    const { call, called } = scripted({});
    const error = await router.execute("g", call).then(
      () => assert.fail("answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof LimitExceededError);
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limit_exceeded");
    assert.equal(error.type, "throttling_error");
    // a's two requests leave the span 61 s after they came: 46 s from now; b's only in 56 s.
    assert.equal(error.retryAfterMs, 46_000);
    assert.equal(
      error.message,
      "Rate limit exceeded: every deployment of model group 'g' is at its limit. deployment 'a' is at its rpm (2 requests a minute). " +
        "deployment 'b' is at its rpm (1 requests a minute). Retry in 46 s.",
    );
    assert.deepEqual(error.quota, { requests: { limit: 3, remaining: 0 }, tokens: undefined });
    assert.deepEqual(called, []);
    assert.equal(await cooldownOf(state, "a", clock.now()), undefined);
    assert.equal(await cooldownOf(state, "b", clock.now()), undefined);
  });

  test("a group at its limits falls back to its fallbacks", async () => {
    const { router } = testRouter(config([entry("g", "a", { rpm: 1 }), entry("spare", "s")], { fallbacks: [{ g: ["spare"] }] }));
    assert.equal((await router.execute("g", ok)).deployment.id, "a");
    const answer = await router.execute("g", ok);
    assert.equal(answer.deployment.id, "s");
    assert.equal(answer.fallbacks, 1);
  });

  test("an order tier at its limits gives way to the next tier", async () => {
    const { router } = testRouter(config([entry("g", "main", { rpm: 1, order: 1 }), entry("g", "backup", { order: 2 })]));
    assert.equal((await router.execute("g", ok)).deployment.id, "main");
    assert.equal((await router.execute("g", ok)).deployment.id, "backup");
  });

  test("a retry skips a deployment at its limit", async () => {
    const { router } = testRouter(config([entry("g", "b", { rpm: 1 }), entry("g", "a"), entry("g", "c")]), { strategy: inConfigOrder });
    assert.equal((await router.execute("g", ok)).deployment.id, "b");
    // b is full now; a fails, and its retry skips b for c.
    const { call, called } = scripted({ a: async () => Promise.reject(fromUpstream(new InternalServerError("boom"))) });
    const answer = await router.execute("g", call);
    assert.deepEqual(called, ["a", "c"]);
    assert.equal(answer.attempts, 2);
  });
});

describe("a deployment's tpm", () => {
  test("the request's estimate is reserved while it runs and replaced by what it used", async () => {
    const { router, limiter } = testRouter(config([entry("g", "a", { tpm: 100 })]));
    const answer = await router.execute("g", ok, { estimateTokens: () => 60, tokensOf: () => 25 });
    assert.deepEqual(answer.quota.tokens, { limit: 100, remaining: 40 }, "counted with its estimate when it was answered");
    assert.equal((await limitUsage(limiter, router.deployments[0]))?.tokens, 25);
  });

  test("a deployment without room for the estimate is skipped", async () => {
    const { router } = testRouter(config([entry("g", "small", { tpm: 100 }), entry("g", "big", { tpm: 10_000 })]), { strategy: inConfigOrder });
    assert.equal((await router.execute("g", ok, { estimateTokens: () => 60 })).deployment.id, "small");
    assert.equal((await router.execute("g", ok, { estimateTokens: () => 60 })).deployment.id, "big");
  });

  test("usage-based routing reads the limiter's counts", async () => {
    const { router } = testRouter(config([entry("g", "a", { tpm: 1000 }), entry("g", "b", { tpm: 1000 })]), { strategy: usageBased });
    const first = await router.execute("g", ok, { estimateTokens: () => 10, tokensOf: () => 600 });
    const second = await router.execute("g", ok, { estimateTokens: () => 10, tokensOf: () => 10 });
    assert.notEqual(second.deployment.id, first.deployment.id);
  });
});

/** A limiter that counts the tickets it gave out and not yet ended. */
class CountingLimiter implements Limiter {
  open = 0;
  private readonly inner: MemoryLimiter;

  constructor(clock: FakeClock) {
    this.inner = new MemoryLimiter({ clock });
  }

  async admit(scopes: readonly Scope[], tokens: number): Promise<Admission> {
    const admission = await this.inner.admit(scopes, tokens);
    if (!admission.admitted) return admission;
    this.open++;
    let ended = false;
    const end = (): void => {
      if (!ended) this.open--;
      ended = true;
    };
    const ticket: Ticket = {
      quota: admission.ticket.quota,
      usage: admission.ticket.usage,
      done: (used) => {
        end();
        admission.ticket.done(used);
      },
      refund: () => {
        end();
        admission.ticket.refund();
      },
    };
    return { admitted: true, ticket };
  }

  usage = (scopes: readonly Scope[]) => this.inner.usage(scopes);
  state = () => this.inner.state();
  ready = () => this.inner.ready();
  close = () => this.inner.close();
}

describe("every attempt's ticket is given back", () => {
  const limited = config([entry("g", "a", { tpm: 1000 }), entry("g", "b", { tpm: 1000 })], { num_retries: 1 });

  test("after an answer, a failure and its retry, a timeout, a client gone, a stream done and a stream broken", async () => {
    const clock = new FakeClock();
    const limiter = new CountingLimiter(clock);
    const { router } = testRouter(limited, { clock, limiter, strategy: inConfigOrder });

    await router.execute("g", ok);
    assert.equal(limiter.open, 0, "answered");

    const failing = scripted({ a: async () => Promise.reject(fromUpstream(new InternalServerError("boom"))) });
    await router.execute("g", failing.call);
    assert.deepEqual(failing.called, ["a", "b"]);
    assert.equal(limiter.open, 0, "failed, then retried");

    const timing = testRouter(config([entry("g", "a", { tpm: 1000, timeout: 1 })], { num_retries: 0 }), { clock, limiter });
    const stalled = timing.router.execute("g", stall);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
    await assert.rejects(stalled, APITimeoutError);
    assert.equal(limiter.open, 0, "timed out");

    const controller = new AbortController();
    const gone = router.execute("g", stall, { signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error("client went away"));
    await assert.rejects(gone, /client went away/);
    assert.equal(limiter.open, 0, "client gone");

    let finish: (tokens: number) => void = () => undefined;
    await router.execute("g", ok, { done: () => new Promise<number | undefined>((resolve) => (finish = resolve)) });
    assert.equal(limiter.open, 1, "still streaming");
    finish(5);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limiter.open, 0, "stream done");

    await router.execute("g", ok, { done: () => Promise.reject(reset()) });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limiter.open, 0, "stream broken off");
  });
});
