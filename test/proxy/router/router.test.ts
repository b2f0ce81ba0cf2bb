import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServiceUnavailableError,
  fromUpstream,
} from "../../../src/errors.js";
import type { RouterConfigInput } from "../../../src/proxy/router/config.js";
import type { RouterLogger } from "../../../src/proxy/router/logger.js";
import { MemoryRouterState } from "../../../src/proxy/router/memory-state.js";
import { type Behaviour, config, cooldownOf, entry, fail, FakeClock, limitUsage, ok, refused, scripted, serverError, serverErrorSaying, stall, testRouter } from "./helpers.js";

describe("routing", () => {
  test("the result names the group and deployment that answered", async () => {
    const { router } = testRouter(config([entry("embed", "a")]));
    const { call } = scripted({});
    const answer = await router.execute("embed", call);
    assert.equal(answer.result, "answer from a");
    assert.equal(answer.group, "embed");
    assert.equal(answer.deployment.id, "a");
    assert.equal(answer.attempts, 1);
    assert.equal(answer.fallbacks, 0);
  });

  test("an unknown group is a 404", async () => {
    const { router } = testRouter(config([entry("embed", "a")]));
    await assert.rejects(router.execute("nope", ok), NotFoundError);
  });

  test("order tiers: the lower order first, the next only when the first has no deployment in rotation", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "backup", { order: 2 }), entry("g", "main1", { order: 1 }), entry("g", "main2", { order: 1 })]));
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add((await router.execute("g", ok)).deployment.id);
    assert.deepEqual([...seen].sort(), ["main1", "main2"]);
    await state.cool("main1", { until: clock.now() + 1000, reason: "test" }, clock.now());
    await state.cool("main2", { until: clock.now() + 2000, reason: "test" }, clock.now());
    assert.equal((await router.execute("g", ok)).deployment.id, "backup");
    clock.advance(1000);
    assert.equal((await router.execute("g", ok)).deployment.id, "main1");
  });

  test("in-flight counts are released however a call ends", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a"), entry("g", "b")], { num_retries: 1 }));
    await router.execute("g", scripted({ a: serverError, b: serverError }).call).catch(() => undefined);
    await router.execute("g", ok);
    await router.close();
    const stats = await state.stats(["a", "b"], clock.now());
    assert.equal(stats.get("a")?.inFlight, 0);
    assert.equal(stats.get("b")?.inFlight, 0);
  });

  test("tokens reported by a result replace the estimate against the deployment's tpm", async () => {
    const { router, limiter } = testRouter(config([entry("g", "a", { rpm: 100, tpm: 1000 })]));
    await router.execute("g", ok, { tokensOf: () => 42, estimateTokens: () => 500 });
    await router.close();
    assert.deepEqual(await limitUsage(limiter, router.deployments[0]), { requests: 1, tokens: 42, parallel: 0 });
  });
});

describe("retries", () => {
  test("a retry goes to another deployment, without waiting", async () => {
    const { router, slept } = testRouter(config([entry("g", "a"), entry("g", "b")]));
    // Failing differently: two deployments failing alike would end the request (see counting.test.ts).
    const { call, called } = scripted({ a: serverError, b: serverErrorSaying("CUDA out of memory") });
    // Whichever is picked first fails; the retry must go to the other one.
    await assert.rejects(router.execute("g", call), InternalServerError);
    assert.equal(called.length, 3);
    assert.notEqual(called[0], called[1]);
    assert.equal(slept.filter((ms) => ms > 0).length, 1, "only the third attempt, back on a tried deployment, waits");
  });

  test("the retry succeeds on the healthy deployment", async () => {
    const { router } = testRouter(config([entry("g", "a"), entry("g", "b")]), { seed: 1 });
    for (let i = 0; i < 20; i++) {
      const answer = await router.execute("g", scripted({ a: serverError }).call);
      assert.equal(answer.deployment.id, "b");
    }
  });

  test("every deployment is tried once before any is tried again", async () => {
    const { router } = testRouter(config([entry("g", "a"), entry("g", "b"), entry("g", "c")], { num_retries: 2, allowed_fails: 10 }));
    const { call, called } = scripted({ a: serverError, b: serverErrorSaying("CUDA out of memory"), c: serverErrorSaying("worker died") });
    await assert.rejects(router.execute("g", call), InternalServerError);
    assert.deepEqual([...called].sort(), ["a", "b", "c"]);
  });

  test("no retry, no cooldown and no fallback on a 400", async () => {
    const { router, state, clock } = testRouter(
      config([entry("g", "a"), entry("g", "b"), entry("other", "o")], { fallbacks: [{ g: ["other"] }] }),
    );
    const { call, called } = scripted({ a: fail(fromUpstream(new BadRequestError("bad size"))), b: fail(fromUpstream(new BadRequestError("bad size"))) });
    await assert.rejects(router.execute("g", call), { status: 400, message: "bad size" });
    assert.equal(called.length, 1);
    assert.equal(await cooldownOf(state, called[0] ?? "", clock.now()), undefined);
  });

  test("408, 409 and 5xx are retried", async () => {
    for (const status of [408, 409, 500, 502, 503, 504]) {
      const { router } = testRouter(config([entry("g", "a")], { num_retries: 1, allowed_fails: 10 }));
      const error = Object.assign(fromUpstream(new InternalServerError("x")), { status });
      const { call, called } = scripted({ a: [fail(error), ok] });
      assert.equal((await router.execute("g", call)).result, "answer from a", `status ${status}`);
      assert.equal(called.length, 2, `status ${status}`);
    }
  });

  test("num_retries: router_settings, else litellm_settings, else per-deployment max_retries, else 2", async () => {
    const attemptsWith = async (cfg: RouterConfigInput): Promise<number> => {
      const { router } = testRouter(cfg);
      const { call, called } = scripted({ a: serverError });
      await router.execute("g", call).catch(() => undefined);
      return called.length;
    };
    const roomy = { allowed_fails: 100 };
    assert.equal(await attemptsWith(config([entry("g", "a")], roomy)), 3);
    assert.equal(await attemptsWith(config([entry("g", "a", { max_retries: 4 })], roomy)), 5);
    assert.equal(await attemptsWith(config([entry("g", "a")], roomy, { litellm_settings: { num_retries: 1 } })), 2);
    assert.equal(await attemptsWith(config([entry("g", "a", { max_retries: 4 })], { ...roomy, num_retries: 0 }, { litellm_settings: { num_retries: 1 } })), 1);
  });

  test("Retry-After is honoured when the retry goes back to the same deployment", async () => {
    const { router, slept } = testRouter(config([entry("g", "a")], { allowed_fails: 10 }));
    const { call } = scripted({ a: [fail(fromUpstream(new InternalServerError("busy", { retryAfterMs: 1500 }))), ok] });
    const answer = await router.execute("g", call);
    assert.equal(answer.attempts, 2);
    assert.deepEqual(slept, [1500]);
  });

  test("retry_after is the least wait; a retry on the same deployment backs off", async () => {
    const moving = testRouter(config([entry("g", "a"), entry("g", "b")], { retry_after: 3 }));
    await moving.router.execute("g", scripted({ a: serverError, b: serverError }).call).catch(() => undefined);
    assert.ok(moving.slept.length >= 1 && moving.slept.every((ms) => ms >= 3000), `slept ${moving.slept.join(", ")}`);

    const backingOff = testRouter(config([entry("g", "a")], { allowed_fails: 10 }));
    await backingOff.router.execute("g", scripted({ a: serverError }).call).catch(() => undefined);
    const [first, second] = backingOff.slept;
    assert.ok(first !== undefined && first >= 50 && first <= 100, `first backoff ${first}`);
    assert.ok(second !== undefined && second >= 100 && second <= 200, `second backoff ${second}`);
  });

  test("the gateway's own errors are not retried and count against no deployment", async () => {
    const { router, state } = testRouter(config([entry("g", "a"), entry("g", "b")], { allowed_fails: 1 }));
    // As the transport raises for a body that cannot be serialised: the client's doing, not the upstream's.
    const tooDeep = new BadRequestError("The request body could not be serialised: Maximum call stack size exceeded.");
    const { call, called } = scripted({ a: fail(tooDeep), b: fail(tooDeep) });
    for (let i = 0; i < 3; i++) await assert.rejects(router.execute("g", call), (error) => error === tooDeep);
    assert.equal(called.length, 3, "one attempt per request, no retry on the other deployment");
    assert.equal(await cooldownOf(state, called[0] as string, 0), undefined);
    const answer = await router.execute("g", scripted({}).call);
    assert.match(answer.result, /^answer from /);
  });

  test("a streamed result keeps its attempt in flight until its body is done, and counts a break mid-body", async () => {
    const { router, state, clock, limiter } = testRouter(config([entry("g", "a", { tpm: 1000 })], { allowed_fails: 1, cooldown_time: 30 }));
    let finish: (tokens: number) => void = () => undefined;
    const body = new Promise<number | undefined>((resolve) => (finish = resolve));
    const answer = await router.execute("g", ok, { done: () => body });
    assert.equal(answer.result, "answer from a");
    assert.equal((await state.stats(["a"], clock.now())).get("a")?.inFlight, 1, "still streaming");
    finish(42);
    await body;
    await router.close();
    assert.equal((await state.stats(["a"], clock.now())).get("a")?.inFlight, 0);
    assert.equal((await limitUsage(limiter, router.deployments[0]))?.tokens, 42);

    const broken = testRouter(config([entry("g", "a")], { allowed_fails: 1, cooldown_time: 30 }));
    const upstreamBroke = fromUpstream(new APIConnectionError("The connection to Xinference broke before the whole response arrived (ECONNRESET)."));
    await broken.router.execute("g", ok, { done: () => Promise.reject(upstreamBroke) });
    await broken.router.close();
    assert.match((await cooldownOf(broken.state, "a", broken.clock.now())) ?? "", /ECONNRESET/);
  });

  test("an error that is not about the upstream passes through untouched", async () => {
    const { router } = testRouter(config([entry("g", "a"), entry("g", "b")]));
    const bug = new TypeError("cannot read properties of undefined");
    const { call, called } = scripted({ a: fail(bug), b: fail(bug) });
    await assert.rejects(router.execute("g", call), (error) => error === bug);
    assert.equal(called.length, 1);
  });
});

describe("cooldowns", () => {
  test("allowed_fails failures within a minute cool a deployment down: the third, by default", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a")], { num_retries: 0 }));
    const { call } = scripted({ a: serverError });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(router.execute("g", call), InternalServerError);
      assert.equal(await cooldownOf(state, "a", clock.now()), undefined, `still in after ${i + 1} failure(s)`);
    }
    // The third failure cools the group's only deployment down, so the client learns when to come back.
    await assert.rejects(router.execute("g", call), { status: 503, retryAfterMs: 5000 });
    assert.match((await cooldownOf(state, "a", clock.now())) ?? "", /3 failures within a minute, the last 500: engine exploded/);
  });

  test("allowed_fails 1 cools on the first failure, as 0 does", async () => {
    for (const allowed_fails of [0, 1]) {
      const { router, state, clock } = testRouter(config([entry("g", "a")], { num_retries: 0, allowed_fails }));
      await assert.rejects(router.execute("g", scripted({ a: serverError }).call), { status: 503 });
      assert.match((await cooldownOf(state, "a", clock.now())) ?? "", /1 failures within a minute/, `allowed_fails ${allowed_fails}`);
    }
  });

  test("failures older than a minute do not count", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a")], { num_retries: 0, allowed_fails: 2 }));
    const { call } = scripted({ a: serverError });
    await router.execute("g", call).catch(() => undefined);
    clock.advance(60_000);
    await router.execute("g", call).catch(() => undefined);
    assert.equal(await cooldownOf(state, "a", clock.now()), undefined);
    await router.execute("g", call).catch(() => undefined);
    assert.match((await cooldownOf(state, "a", clock.now())) ?? "", /2 failures within a minute/);
  });

  const immediate: [string, () => Error][] = [
    ["429", () => fromUpstream(new RateLimitError("Rate limit reached for the model"))],
    ["401", () => fromUpstream(new AuthenticationError("Could not validate credentials"))],
    ["403", () => fromUpstream(new PermissionDeniedError("Not enough permissions"))],
    ["404", () => fromUpstream(new NotFoundError("Model not found in the model list, uid: x"))],
    ["connection refused", refused],
  ];
  for (const [name, error] of immediate) {
    test(`a ${name} cools the deployment down at once, and the retry goes elsewhere`, async () => {
      const { router, state, clock } = testRouter(config([entry("g", "a", { order: 1 }), entry("g", "b", { order: 2 })], { allowed_fails: 5 }));
      const answer = await router.execute("g", scripted({ a: fail(error()) }).call);
      assert.equal(answer.deployment.id, "b");
      assert.match((await cooldownOf(state, "a", clock.now())) ?? "", new RegExp(name === "connection refused" ? "refused" : name));
      const stats = (await state.stats(["a"], clock.now())).get("a");
      assert.equal(stats?.cooldown?.until, clock.now() + 5000);
    });
  }

  test("without retries, a failure that cools the last deployment is still a 503 with Retry-After", async () => {
    const { router } = testRouter(config([entry("g", "a")], { num_retries: 0 }));
    await assert.rejects(router.execute("g", scripted({ a: fail(fromUpstream(new RateLimitError("slow down"))) }).call), { status: 503, retryAfterMs: 5000 });
  });

  test("a cooled deployment comes back after cooldown_time", async () => {
    const { router, clock } = testRouter(config([entry("g", "a")], { cooldown_time: 10 }));
    await assert.rejects(router.execute("g", scripted({ a: fail(fromUpstream(new RateLimitError("slow down"))) }).call), ServiceUnavailableError);
    clock.advance(9_999);
    await assert.rejects(router.execute("g", ok), ServiceUnavailableError);
    clock.advance(1);
    assert.equal((await router.execute("g", ok)).deployment.id, "a");
  });

  test("a 503 with Retry-After (a model still loading) keeps the deployment out that long", async () => {
    const { router, clock } = testRouter(config([entry("g", "a", { order: 1 }), entry("g", "b", { order: 2 })]));
    const loading = fail(fromUpstream(new ServiceUnavailableError("Model is loading, please retry later: a", { retryAfterMs: 30_000 })));
    assert.equal((await router.execute("g", scripted({ a: loading }).call)).deployment.id, "b");
    clock.advance(29_999);
    assert.equal((await router.execute("g", ok)).deployment.id, "b");
    clock.advance(1);
    assert.equal((await router.execute("g", ok)).deployment.id, "a");
  });

  test("a client's 400 counts against no deployment", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a")], { allowed_fails: 0 }));
    await router.execute("g", scripted({ a: fail(fromUpstream(new BadRequestError("bad"))) }).call).catch(() => undefined);
    assert.equal(await cooldownOf(state, "a", clock.now()), undefined);
  });
});

describe("when nothing can answer", () => {
  test("a whole group cooling down is a 503 at once, with the earliest return as retryAfterMs", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a"), entry("g", "b")]));
    await state.cool("a", { until: clock.now() + 8000, reason: "429: slow down" }, clock.now());
    await state.cool("b", { until: clock.now() + 3000, reason: "429: slow down" }, clock.now());
    const { call, called } = scripted({});
    await assert.rejects(router.execute("g", call), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.status, 503);
      assert.equal(error.retryAfterMs, 3000);
      assert.equal(error.code, "no_deployment_available");
      assert.match(error.message, /No deployment of model group 'g' is available.*Retry in 3 s/);
      return true;
    });
    assert.equal(called.length, 0);
  });

  test("after the last deployment fails and cools down, the client gets a 503 naming the error that cooled it", async () => {
    const { router } = testRouter(config([entry("g", "a")]));
    await assert.rejects(router.execute("g", scripted({ a: fail(fromUpstream(new RateLimitError("Request limit 1 for the model: a"))) }).call), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.retryAfterMs, 5000);
      assert.match(error.message, /a is cooling down for 5 s after 429: Request limit 1 for the model: a\./);
      return true;
    });
  });

  test("deployments out of the health rotation are skipped; with none left, retryAfterMs is the next health pass", async () => {
    const clock = new FakeClock();
    const rotation = { inRotation: (id: string) => id !== "a", nextCheckAt: () => clock.now() + 12_000 };
    const { router, state } = testRouter(config([entry("g", "a"), entry("g", "b")]), { rotation, clock });
    for (let i = 0; i < 10; i++) assert.equal((await router.execute("g", ok)).deployment.id, "b");
    await state.cool("b", { until: clock.now() + 20_000, reason: "test" }, clock.now());
    await assert.rejects(router.execute("g", ok), { status: 503, retryAfterMs: 12_000 });
  });
});

describe("fallbacks", () => {
  test("tried after the group's retries are used up; the answer names the fallback group", async () => {
    const { router } = testRouter(
      config([entry("big", "big-a"), entry("small", "small-a"), entry("tiny", "tiny-a")], {
        num_retries: 1,
        allowed_fails: 10,
        fallbacks: [{ big: ["small", "tiny"] }],
      }),
    );
    const { call, called } = scripted({ "big-a": serverError, "small-a": serverErrorSaying("CUDA out of memory") });
    const answer = await router.execute("big", call);
    assert.deepEqual(called, ["big-a", "big-a", "small-a", "small-a", "tiny-a"]);
    assert.equal(answer.group, "tiny");
    assert.equal(answer.deployment.id, "tiny-a");
    assert.equal(answer.fallbacks, 2);
    assert.equal(answer.attempts, 5);
  });

  test("default_fallbacks serve groups without fallbacks of their own", async () => {
    const { router } = testRouter(
      config([entry("a", "a1"), entry("b", "b1"), entry("spare", "s1")], {
        num_retries: 0,
        fallbacks: [{ a: ["b"] }],
        default_fallbacks: ["spare"],
      }),
    );
    assert.equal((await router.execute("a", scripted({ a1: serverError }).call)).group, "b");
    assert.equal((await router.execute("b", scripted({ b1: serverError }).call)).group, "spare");
  });

  test("a group cooling down falls back at once", async () => {
    const { router, state, clock } = testRouter(config([entry("a", "a1"), entry("b", "b1")], { fallbacks: [{ a: ["b"] }] }));
    await state.cool("a1", { until: clock.now() + 1000, reason: "test" }, clock.now());
    const answer = await router.execute("a", ok);
    assert.equal(answer.group, "b");
    assert.equal(answer.attempts, 1);
  });

  test("every group and fallback cooling down: 503 with the earliest return among them", async () => {
    const { router, state, clock } = testRouter(config([entry("a", "a1"), entry("b", "b1")], { fallbacks: [{ a: ["b"] }] }));
    await state.cool("a1", { until: clock.now() + 9000, reason: "test" }, clock.now());
    await state.cool("b1", { until: clock.now() + 4000, reason: "test" }, clock.now());
    await assert.rejects(router.execute("a", ok), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.retryAfterMs, 4000);
      assert.match(error.message, /model group 'a' or its fallbacks \('b'\)/);
      return true;
    });
  });

  test("fallbacks naming unknown groups are skipped, with a warning at start", async () => {
    const warnings: string[] = [];
    const logger: RouterLogger = { info: () => undefined, warn: (_f, message) => warnings.push(message ?? "") };
    const { router } = testRouter(config([entry("a", "a1")], { num_retries: 0, fallbacks: [{ a: ["ghost"] }] }), { logger });
    assert.match(warnings.join("\n"), /fallbacks of 'a' name model groups that model_list does not have/);
    await assert.rejects(router.execute("a", scripted({ a1: serverError }).call), InternalServerError);
  });
});

describe("timeouts", () => {
  test("an attempt that outlives its deployment's timeout is cut, and the retry goes elsewhere", async () => {
    // allowed_fails 0: the first timeout cools "slow" down, so the lower tier is used.
    const { router, clock, state } = testRouter(
      config([entry("g", "slow", { order: 1, timeout: 2 }), entry("g", "fast", { order: 2 })], { allowed_fails: 0 }),
    );
    const { call, contexts } = scripted({
      slow: (d, context) => {
        const stalled = stall(d, context);
        clock.advance(2000);
        return stalled;
      },
    });
    const answer = await router.execute("g", call);
    assert.equal(answer.deployment.id, "fast");
    assert.equal(contexts[0]?.timeoutMs, 2000);
    assert.equal(contexts[0]?.signal.aborted, true);
    assert.ok(contexts[0]?.signal.reason instanceof APITimeoutError);
    assert.equal((await state.stats(["slow"], clock.now())).get("slow")?.latencyMs, 2000);
  });

  test("a call that ignores its signal still cannot hold the request past its timeout", async () => {
    const { router, clock } = testRouter(config([entry("g", "a", { timeout: 1 })], { num_retries: 0 }));
    const deaf: Behaviour = () => {
      clock.advance(1000);
      return new Promise(() => undefined);
    };
    await assert.rejects(router.execute("g", deaf), APITimeoutError);
  });

  test("no request outlives its timeout across retries", async () => {
    const { router, clock } = testRouter(
      config([entry("g", "a", { timeout: 2 }), entry("g", "b", { timeout: 2 }), entry("g", "c", { timeout: 2 })], { num_retries: 5, timeout: 5 }),
    );
    const started = clock.now();
    const budgets: number[] = [];
    const slow: Behaviour = (d, context) => {
      budgets.push(context.timeoutMs);
      const stalled = stall(d, context);
      clock.advance(context.timeoutMs);
      return stalled;
    };
    await assert.rejects(router.execute("g", slow), APITimeoutError);
    assert.deepEqual(budgets, [2000, 2000, 1000]);
    assert.equal(clock.now() - started, 5000);
  });

  test("the request timeout grows to a deployment's own longer timeout", async () => {
    const { router } = testRouter(config([entry("g", "a", { timeout: 900 })], {}, { litellm_settings: { request_timeout: 60 } }));
    const { call, contexts } = scripted({});
    await router.execute("g", call);
    assert.equal(contexts[0]?.timeoutMs, 900_000);
  });
});

describe("abort", () => {
  test("an aborted signal stops the request before any call", async () => {
    const { router } = testRouter(config([entry("g", "a")]));
    const { call, called } = scripted({});
    const reason = new Error("client closed the connection");
    await assert.rejects(router.execute("g", call, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(called.length, 0);
  });

  test("aborting mid-call ends the request at once, and the deployment is not blamed", async () => {
    const { router, state, clock } = testRouter(config([entry("g", "a")], { allowed_fails: 0 }));
    const controller = new AbortController();
    const reason = new Error("client closed the connection");
    const deaf: Behaviour = () => {
      controller.abort(reason);
      return new Promise(() => undefined);
    };
    await assert.rejects(router.execute("g", deaf, { signal: controller.signal }), (e) => e === reason);
    await router.close();
    const stats = (await state.stats(["a"], clock.now())).get("a");
    assert.equal(stats?.cooldown, undefined);
    assert.equal(stats?.inFlight, 0);
  });

  test("aborting during a wait between retries ends the request at once", async () => {
    const controller = new AbortController();
    // Parks like a long real wait would, until the signal aborts.
    const parked = (_ms: number, signal?: AbortSignal): Promise<void> =>
      new Promise((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
    const { router } = testRouter(config([entry("g", "a")], { allowed_fails: 10 }), { sleep: parked });
    const { call, called } = scripted({
      a: async () => {
        setImmediate(() => controller.abort(new Error("client gone")));
        throw fromUpstream(new InternalServerError("x"));
      },
    });
    await assert.rejects(router.execute("g", call, { signal: controller.signal }), /client gone/);
    assert.equal(called.length, 1);
  });
});

describe("shared state failing", () => {
  test("requests are still answered, and the failure is logged once, not per request", async () => {
    const broken = new MemoryRouterState();
    const failing = (): Promise<never> => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    Object.assign(broken, { stats: failing, begin: failing, end: failing, recordFailure: failing, cool: failing });
    const warnings: string[] = [];
    const logger: RouterLogger = { info: () => undefined, warn: (_f, message) => warnings.push(message ?? "") };
    const { router } = testRouter(config([entry("g", "a"), entry("g", "b")]), { state: broken, logger });
    for (let i = 0; i < 5; i++) assert.match((await router.execute("g", scripted({ a: serverError }).call)).result, /answer from b/);
    await router.close().catch(() => undefined);
    assert.equal(warnings.filter((w) => /router state unavailable/.test(w)).length, 1);
  });
});
