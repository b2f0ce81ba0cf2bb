// The router's state, in memory and in Redis: the same contract, plus what only sharing brings (other
// instances' cooldowns and in-flight counts, dead instances forgotten, nothing left without a TTL).
// Redis is the machine's, at 127.0.0.1:6379; each test uses its own namespace and deletes its keys.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { NotFoundError, RateLimitError, ServiceUnavailableError, fromUpstream } from "../../../src/errors.js";
import { createRouter } from "../../../src/proxy/router/index.js";
import type { RouterLogger } from "../../../src/proxy/router/logger.js";
import { MemoryRouterState } from "../../../src/proxy/router/memory-state.js";
import { INSTANCE_TTL_MS, RedisRouterState } from "../../../src/proxy/router/redis-state.js";
import type { RouterState } from "../../../src/proxy/router/state.js";
import { leastBusy } from "../../../src/proxy/router/strategies/least-busy.js";
import { redisReachable } from "../../support/redis.js";
import { entry, FakeClock, routerInput, testRouter } from "./helpers.js";

const REDIS_URL = "redis://127.0.0.1:6379";


const connections: Redis[] = [];
const namespaces: string[] = [];

function connection(): Redis {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  return redis;
}

function namespace(): string {
  const ns = `xgate-test:${randomUUID()}:`;
  namespaces.push(ns);
  return ns;
}

async function keysUnder(redis: Redis, ns: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${ns}*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

interface Backend {
  name: string;
  /** Two views of one shared state, as two proxy instances would have (the same object in memory). */
  create(clock: FakeClock): { first: RouterState; second: RouterState };
}

const memory: Backend = {
  name: "memory",
  create() {
    const state = new MemoryRouterState();
    return { first: state, second: state };
  },
};

const redis: Backend = {
  name: "redis",
  create(clock) {
    const ns = namespace();
    return {
      first: new RedisRouterState(connection(), { namespace: ns, clock }),
      second: new RedisRouterState(connection(), { namespace: ns, clock }),
    };
  },
};

let haveRedis = false;

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, "state.test.ts");
});

after(async () => {
  if (haveRedis) {
    const cleaner = new Redis(REDIS_URL);
    for (const ns of namespaces) {
      const keys = await keysUnder(cleaner, ns);
      if (keys.length > 0) await cleaner.del(...keys);
    }
    await cleaner.quit();
  }
  await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
});

for (const backend of [memory, redis]) {
  describe(`${backend.name} state`, () => {
    const skip = (t: { skip: (message: string) => void }): boolean => {
      if (backend === redis && !haveRedis) {
        t.skip(`Redis not reachable at ${REDIS_URL}`);
        return true;
      }
      return false;
    };

    test("cooldowns are seen by every instance, and end on time", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = backend.create(clock);
      await first.cool("d1", { until: clock.now() + 5000, reason: "429: slow down" }, clock.now());
      assert.deepEqual((await second.stats(["d1", "d2"], clock.now())).get("d1")?.cooldown, {
        until: clock.now() + 5000,
        reason: "429: slow down",
      });
      assert.equal((await second.stats(["d2"], clock.now())).get("d2")?.cooldown, undefined);
      clock.advance(5000);
      assert.equal((await second.stats(["d1"], clock.now())).get("d1")?.cooldown, undefined);
      await first.close();
      await second.close();
    });

    test("a cooldown's lasting cause is seen by every instance", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = backend.create(clock);
      const cooldown = { until: clock.now() + 5000, reason: "404: Model not found in the model list, uid: bge-m3", cause: "model-missing" as const };
      await first.cool("d1", cooldown, clock.now());
      assert.deepEqual((await second.stats(["d1"], clock.now())).get("d1")?.cooldown, cooldown);
      await first.close();
      await second.close();
    });

    test("failures are counted within a minute, across instances, and forgotten on cooldown", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = backend.create(clock);
      assert.equal(await first.recordFailure("d1", clock.now()), 1);
      clock.advance(30_000);
      assert.equal(await second.recordFailure("d1", clock.now()), 2);
      clock.advance(30_000);
      assert.equal(await first.recordFailure("d1", clock.now()), 2, "the first failure is a minute old");
      await first.cool("d1", { until: clock.now() + 1000, reason: "x" }, clock.now());
      assert.equal(await second.recordFailure("d1", clock.now()), 1);
      await first.close();
      await second.close();
    });

    test("in-flight counts add up across instances and come back down", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = backend.create(clock);
      await first.begin("d1");
      await second.begin("d1");
      await second.begin("d2");
      let stats = await first.stats(["d1", "d2"], clock.now());
      assert.equal(stats.get("d1")?.inFlight, 2);
      assert.equal(stats.get("d2")?.inFlight, 1);
      await first.end("d1", {}, clock.now());
      await second.end("d1", {}, clock.now());
      await second.end("d2", {}, clock.now());
      stats = await first.stats(["d1", "d2"], clock.now());
      assert.equal(stats.get("d1")?.inFlight, 0);
      assert.equal(stats.get("d2")?.inFlight, 0);
      await first.close();
      await second.close();
    });

    test("a call that ends without its start counted (shared state down then) does not leave a count below 0", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = backend.create(clock);
      await first.end("d1", {}, clock.now());
      await second.begin("d1");
      assert.equal((await first.stats(["d1"], clock.now())).get("d1")?.inFlight, 1);
      await first.close();
      await second.close();
    });

    test("latency is the mean of recent samples", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock(60_000 * 1000);
      const { first, second } = backend.create(clock);
      for (const ms of [100, 200, 300]) {
        await first.begin("d1");
        await first.end("d1", { latencyMs: ms }, clock.now());
      }
      assert.equal((await second.stats(["d1"], clock.now())).get("d1")?.latencyMs, 200);
      clock.advance(5 * 60_000 + 1);
      assert.equal((await second.stats(["d1"], clock.now())).get("d1")?.latencyMs, undefined, "old samples expire");
      await first.close();
      await second.close();
    });
  });
}

test("an instance's in-flight hash holds only deployments with calls running", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock();
  const ns = namespace();
  const state = new RedisRouterState(connection(), { namespace: ns, clock });
  // Wildcard variants come and go: a field left at 0 for each would grow the hash for ever.
  for (const id of ["w/a", "w/b", "w/c"]) {
    await state.begin(id);
    await state.end(id, {}, clock.now());
  }
  await state.begin("w/d");
  const fields = await connection().hkeys(`${ns}inflight:${state.instanceId}`);
  assert.deepEqual(fields, ["w/d"]);
  await state.close();
});

describe("redis state shared by two routers", () => {
  const skip = (t: { skip: (message: string) => void }): boolean => {
    if (!haveRedis) t.skip(`Redis not reachable at ${REDIS_URL}`);
    return !haveRedis;
  };

  test("a cooldown one router sets, the other respects", async (t) => {
    if (skip(t)) return;
    const clock = new FakeClock();
    const ns = namespace();
    const cfg = { model_list: [entry("g", "a", { order: 1 }), entry("g", "b", { order: 2 })] };
    const one = testRouter(cfg, { clock, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    const two = testRouter(cfg, { clock, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    const rateLimited = async (): Promise<string> => {
      throw fromUpstream(new RateLimitError("Rate limit reached for the model"));
    };
    assert.equal((await one.router.execute("g", (d) => (d.id === "a" ? rateLimited() : Promise.resolve(d.id)))).result, "b");
    const called: string[] = [];
    const answer = await two.router.execute("g", async (d) => {
      called.push(d.id);
      return d.id;
    });
    assert.equal(answer.result, "b");
    assert.deepEqual(called, ["b"], "the second router never called the cooled deployment");
    await one.state.cool("b", { until: clock.now() + 2000, reason: "test" }, clock.now());
    await assert.rejects(two.router.execute("g", async (d) => d.id), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.retryAfterMs, 2000);
      return true;
    });
    await one.router.close();
    await two.router.close();
  });

  test("a misconfiguration one router found, the other answers with its fix, without calling the deployment", async (t) => {
    if (skip(t)) return;
    const clock = new FakeClock();
    const ns = namespace();
    const cfg = { model_list: [entry("g", "a")] };
    const one = testRouter(cfg, { clock, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    const two = testRouter(cfg, { clock, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    const notLaunched = async (): Promise<string> => {
      throw fromUpstream(new NotFoundError("Model not found in the model list, uid: g"));
    };
    await assert.rejects(one.router.execute("g", notLaunched), { status: 404 });
    const called: string[] = [];
    await assert.rejects(
      two.router.execute("g", async (d) => {
        called.push(d.id);
        return d.id;
      }),
      { status: 404, retryAfterMs: undefined, message: /a needs a fix: 404: Model not found in the model list, uid: g\. Launch the model/ },
    );
    assert.deepEqual(called, []);
    await one.router.close();
    await two.router.close();
  });

  test("least-busy sees the other router's requests in flight", async (t) => {
    if (skip(t)) return;
    const clock = new FakeClock();
    const ns = namespace();
    const cfg = { model_list: [entry("g", "a"), entry("g", "b")] };
    const one = testRouter(cfg, { clock, strategy: leastBusy, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    const two = testRouter(cfg, { clock, strategy: leastBusy, state: new RedisRouterState(connection(), { namespace: ns, clock }) });
    let release: () => void = () => undefined;
    let busy = "";
    const started = new Promise<void>((resolve) => {
      void one.router.execute("g", (d) => {
        busy = d.id;
        resolve();
        return new Promise<string>((done) => {
          release = () => done(d.id);
        });
      });
    });
    await started;
    for (let i = 0; i < 5; i++) {
      const answer = await two.router.execute("g", async (d) => d.id);
      assert.notEqual(answer.result, busy);
    }
    release();
    await one.router.close();
    await two.router.close();
  });

  test("a dead instance's requests stop counting once its heartbeat is stale", async (t) => {
    if (skip(t)) return;
    const ns = namespace();
    // Separate clocks: the dead instance's never moves, so its heartbeat never beats again.
    const deadClock = new FakeClock();
    const liveClock = new FakeClock(deadClock.now());
    const dead = new RedisRouterState(connection(), { namespace: ns, clock: deadClock });
    const live = new RedisRouterState(connection(), { namespace: ns, clock: liveClock });
    await dead.begin("d1");
    assert.equal((await live.stats(["d1"], liveClock.now())).get("d1")?.inFlight, 1);
    liveClock.advance(INSTANCE_TTL_MS + 1);
    assert.equal((await live.stats(["d1"], liveClock.now())).get("d1")?.inFlight, 0);
    await live.close();
  });

  test("every key has a TTL, and close() removes the instance's own", async (t) => {
    if (skip(t)) return;
    const clock = new FakeClock();
    const ns = namespace();
    const redisClient = connection();
    const state = new RedisRouterState(redisClient, { namespace: ns, clock });
    await state.begin("d1");
    await state.end("d1", { latencyMs: 12 }, clock.now());
    await state.begin("d1");
    await state.recordFailure("d1", clock.now());
    await state.cool("d2", { until: clock.now() + 5000, reason: "x" }, clock.now());
    await state.recordFailure("d3", clock.now());
    const keys = await keysUnder(redisClient, ns);
    assert.ok(keys.length >= 5, `keys: ${keys.join(", ")}`);
    for (const key of keys) {
      const ttl = await redisClient.pttl(key);
      assert.ok(ttl > 0, `${key} has no TTL (${ttl})`);
    }
    await state.close();
    const left = await keysUnder(redisClient, ns);
    assert.equal(left.some((key) => key.includes(state.instanceId)), false);
  });
});

describe("state from the config", () => {
  const model_list = [entry("g", "a"), entry("g", "b")];

  test("redis_host/redis_port, or redis_url: instances built from the same config share cooldowns", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const ns = namespace();
    const first = createRouter(routerInput({ model_list, router_settings: { redis_host: "127.0.0.1", redis_port: 6379 } }), { namespace: ns });
    const second = createRouter(routerInput({ model_list, router_settings: { redis_url: REDIS_URL } }), { namespace: ns });
    await Promise.all([first.ready(), second.ready()]);
    const rateLimited = async (): Promise<string> => {
      throw fromUpstream(new RateLimitError("Rate limit reached"));
    };
    await assert.rejects(first.router.execute("g", rateLimited), ServiceUnavailableError);
    const stats = await second.router.stats();
    assert.match(stats.get("a")?.cooldown?.reason ?? "", /^429: Rate limit reached/);
    assert.match(stats.get("b")?.cooldown?.reason ?? "", /^429: Rate limit reached/);
    await first.close();
    await second.close();
  });

  test("an unreachable Redis is logged, and requests are still answered", async () => {
    const warnings: string[] = [];
    const logger: RouterLogger = { info: () => undefined, warn: (_f, message) => warnings.push(message ?? "") };
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const bundle = createRouter(routerInput({ model_list, router_settings: { redis_host: "127.0.0.1", redis_port: 1 } }), { logger, namespace: namespace() });
    await bundle.ready();
    assert.match(warnings.join("\n"), /router state \(Redis\) not reachable/);
    for (let i = 0; i < 3; i++) assert.match((await bundle.router.execute("g", async (d) => d.id)).result, /^[ab]$/);
    await bundle.close();
  });

  test("without Redis settings, the state is this process's own", async () => {
    const bundle = createRouter(routerInput({ model_list }));
    await bundle.ready();
    await assert.rejects(
      bundle.router.execute("g", async () => {
        throw fromUpstream(new RateLimitError("slow down"));
      }),
      ServiceUnavailableError,
    );
    assert.ok((await bundle.router.stats()).get("a")?.cooldown);
    const other = createRouter(routerInput({ model_list }));
    assert.equal((await other.router.stats()).get("a")?.cooldown, undefined);
    await bundle.close();
    await other.close();
  });
});
