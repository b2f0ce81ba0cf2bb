// The limiter's contract, in process and in Redis: windows, Retry-After, remaining counts, all-or-nothing
// across scopes, token settlement, parallel slots. Redis is the machine's (127.0.0.1:6379), each test under
// a namespace of its own, deleted afterwards; on CI a missing Redis fails these tests (see redisReachable).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Limiter, MemoryLimiter, RedisLimiter, type Scope } from "../../../src/proxy/limits/index.js";
import { FakeClock } from "../router/helpers.js";
import { redisReachable } from "../../support/redis.js";
import { LimitRedis, REDIS_URL } from "./redis-helpers.js";

const key = (limits: Scope["limits"], name = "my-app"): Scope => ({ kind: "key", id: `hash-of-${name}`, name, limits });
const team = (limits: Scope["limits"]): Scope => ({ kind: "team", id: "team-ml", name: "ml", limits });

interface Backend {
  name: string;
  /** Two instances counting together (one object, in process). */
  create(clock: FakeClock): Promise<{ first: Limiter; second: Limiter }>;
}

const redis = new LimitRedis();
let haveRedis = false;

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, "limiter.test.ts");
});

after(() => redis.cleanUp());

const backends: Backend[] = [
  {
    name: "in-process",
    async create(clock) {
      const limiter = new MemoryLimiter({ clock });
      return { first: limiter, second: limiter };
    },
  },
  {
    name: "redis",
    async create(clock) {
      const namespace = redis.namespace();
      const first = new RedisLimiter(redis.connection(), { namespace, where: "test", clock });
      const second = new RedisLimiter(redis.connection(), { namespace, where: "test", clock });
      await Promise.all([first.ready(), second.ready()]);
      assert.equal(first.state().mode, "shared");
      return { first, second };
    },
  },
];

async function admitted(limiter: Limiter, scopes: Scope[], tokens = 0) {
  const admission = await limiter.admit(scopes, tokens);
  assert.ok(admission.admitted, `refused: ${admission.admitted ? "" : `${admission.refusal.limit} of ${admission.refusal.scope.name}`}`);
  return admission.ticket;
}

async function refused(limiter: Limiter, scopes: Scope[], tokens = 0) {
  const admission = await limiter.admit(scopes, tokens);
  assert.ok(!admission.admitted, "admitted, but should have been refused");
  return admission.refusal;
}

for (const backend of backends) {
  describe(`${backend.name} limiter`, () => {
    const skip = (t: { skip: (message: string) => void }): boolean => {
      if (backend.name === "redis" && !haveRedis) {
        t.skip(`Redis not reachable at ${REDIS_URL}`);
        return true;
      }
      return false;
    };

    test("rpm: the fifth of five sees 0 remaining, the sixth waits until the oldest requests leave the minute", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ rpm: 5 });
      const remaining: number[] = [];
      for (let i = 0; i < 3; i++) remaining.push((await admitted(i % 2 ? second : first, [scope])).quota.requests?.remaining ?? -1);
      clock.advance(20_000);
      for (let i = 0; i < 2; i++) remaining.push((await admitted(second, [scope])).quota.requests?.remaining ?? -1);
      assert.deepEqual(remaining, [4, 3, 2, 1, 0]);

      clock.advance(10_000);
      const refusal = await refused(first, [scope]);
      assert.equal(refusal.limit, "rpm_limit");
      assert.equal(refusal.scope.name, "my-app");
      assert.equal(refusal.used, 5);
      // The first three leave the counted span 61 s after their second began: 31 s from now.
      assert.equal(refusal.retryAfterMs, 31_000);
      assert.deepEqual(refusal.quota.requests, { limit: 5, remaining: 0 });

      clock.advance(30_999);
      await refused(second, [scope]);
      clock.advance(1);
      for (let i = 0; i < 3; i++) await admitted(i % 2 ? first : second, [scope]);
      // Now the two of 20 s in are the oldest: one of them must leave, 20 s from now.
      assert.equal((await refused(first, [scope])).retryAfterMs, 20_000);
      await first.close();
      await second.close();
    });

    test("no minute ever holds more than the limit, however the requests fall across seconds", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock(1_700_000_000_999);
      const { first, second } = await backend.create(clock);
      const scope = key({ rpm: 4 });
      const admittedAt: number[] = [];
      // A request every 250 ms for three minutes, from both instances in turn.
      for (let step = 0; step < 720; step++) {
        const admission = await (step % 2 ? second : first).admit([scope], 0);
        if (admission.admitted) admittedAt.push(clock.now());
        clock.advance(250);
      }
      for (const start of admittedAt) {
        const inMinute = admittedAt.filter((at) => at >= start && at < start + 60_000).length;
        assert.ok(inMinute <= 4, `${inMinute} admitted within the minute from ${start}`);
      }
      // At least 60/61 of the limit over the run: 4 per 61 s.
      assert.ok(admittedAt.length >= Math.floor((180 / 61) * 4), `only ${admittedAt.length} admitted`);
      await first.close();
      await second.close();
    });

    test("tpm: an estimate is reserved at admission and replaced by the real count when done", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ tpm: 100 });
      const ticket = await admitted(first, [scope], 30);
      assert.deepEqual(ticket.quota.tokens, { limit: 100, remaining: 70 });
      // Still reserved: 30 + 80 would exceed the limit.
      await refused(second, [scope], 80);
      ticket.done(12);
      await settled(first, scope);
      assert.equal((await second.usage([scope])).get("key:hash-of-my-app")?.tokens, 12);
      const next = await admitted(second, [scope], 80);
      assert.deepEqual(next.quota.tokens, { limit: 100, remaining: 8 });
      next.done(95);
      await settled(second, scope);
      clock.advance(5_000);
      const refusal = await refused(first, [scope], 1);
      assert.equal(refusal.limit, "tpm_limit");
      assert.equal(refusal.used, 107);
      // 8 tokens must leave: the first request's 12 go when its bucket leaves the span, 56 s from now.
      assert.equal(refusal.retryAfterMs, 56_000);
      await first.close();
      await second.close();
    });

    test("tpm: a request larger than the limit passes into an empty window, then holds the scope until it ages out", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ tpm: 1000 });
      const ticket = await admitted(first, [scope], 5000);
      assert.deepEqual(ticket.quota.tokens, { limit: 1000, remaining: 0 });
      ticket.done(4200);
      await settled(first, scope);
      const refusal = await refused(second, [scope], 1);
      assert.equal(refusal.used, 4200);
      assert.equal(refusal.retryAfterMs, 61_000);
      clock.advance(61_000);
      await admitted(second, [scope], 10);
      await first.close();
      await second.close();
    });

    test("all or nothing: a request the team refuses costs the key nothing", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const mine = key({ rpm: 10, tpm: 1000, maxParallel: 5 });
      const ours = team({ rpm: 1 });
      const ticket = await admitted(first, [mine, ours], 50);
      assert.deepEqual(ticket.quota.requests, { limit: 1, remaining: 0 }, "the team's is the tightest");
      assert.deepEqual(ticket.quota.tokens, { limit: 1000, remaining: 950 });
      const refusal = await refused(second, [mine, ours], 50);
      assert.equal(refusal.scope.kind, "team");
      assert.equal(refusal.scope.name, "ml");
      const usage = await first.usage([mine, ours]);
      assert.deepEqual(usage.get("key:hash-of-my-app"), { requests: 1, tokens: 50, parallel: 1 });
      assert.deepEqual(usage.get("team:team-ml"), { requests: 1, tokens: 0, parallel: 0 });
      await first.close();
      await second.close();
    });

    test("of several limits broken, the one that frees last is the one reported", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const mine = key({ rpm: 1 });
      const ours = team({ rpm: 2 });
      await admitted(first, [ours]);
      clock.advance(30_000);
      await admitted(first, [mine, ours]);
      const refusal = await refused(second, [mine, ours]);
      // The team's frees in 31 s, the key's only in 61 s: the client must wait for both.
      assert.equal(refusal.scope.kind, "key");
      assert.equal(refusal.retryAfterMs, 61_000);
      await first.close();
      await second.close();
    });

    test("max_parallel_requests: a slot is taken until done, and given back once however often it is ended", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ maxParallel: 2 });
      const a = await admitted(first, [scope]);
      const b = await admitted(second, [scope]);
      const refusal = await refused(first, [scope]);
      assert.equal(refusal.limit, "max_parallel_requests");
      assert.equal(refusal.used, 2);
      assert.equal(refusal.retryAfterMs, 1000);
      a.done();
      a.done();
      a.refund();
      await settled(first, scope);
      const c = await admitted(second, [scope]);
      await refused(first, [scope]);
      b.refund();
      c.done(0);
      await settled(second, scope);
      assert.equal((await first.usage([scope])).get("key:hash-of-my-app")?.parallel ?? 0, 0);
      await first.close();
      await second.close();
    });

    test("refund: a request never served gives back its request, its tokens and its slot", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ rpm: 1, tpm: 100, maxParallel: 1 });
      const ticket = await admitted(first, [scope], 40);
      await refused(second, [scope]);
      ticket.refund();
      await settled(first, scope);
      assert.deepEqual((await second.usage([scope])).get("key:hash-of-my-app") ?? { requests: 0, tokens: 0, parallel: 0 }, {
        requests: 0,
        tokens: 0,
        parallel: 0,
      });
      await admitted(second, [scope], 40);
      await first.close();
      await second.close();
    });

    test("a limit of 0 admits nothing, and says waiting will not help", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const refusal = await refused(first, [key({ rpm: 0 })]);
      assert.equal(refusal.retryAfterMs, undefined);
      assert.equal((await refused(second, [key({ maxParallel: 0 })])).retryAfterMs, undefined);
      await first.close();
      await second.close();
    });

    test("a request in flight for longer than the window keeps its slot and settles its tokens in the counts others see", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ tpm: 1_000, maxParallel: 1 });
      const long = await admitted(first, [scope], 100);
      // Minutes pass, and with them the in-process sweep of idle counts: the request still holds its slot.
      clock.advance(3 * 60_000);
      await refused(second, [scope]);
      long.done(400);
      await settled(first, scope);
      // The estimate's 100 were counted when it came and have left the window; what it used beyond them (300)
      // is counted now, when it ended.
      const usage = (await second.usage([scope])).get("key:hash-of-my-app");
      assert.deepEqual([usage?.tokens, usage?.parallel], [300, 0]);
      const next = await admitted(second, [scope], 100);
      assert.equal(next.quota.tokens?.remaining, 600);
      next.done(100);
      await first.close();
      await second.close();
    });

    test("counts over a window that slides second by second: requests leave it 60 to 61 s after they came", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const scope = key({ rpm: 1_000 });
      // One request every 250 ms for 70 s: the window holds the last 60-61 s of them.
      for (let i = 0; i < 280; i++) {
        (await admitted(i % 2 === 0 ? first : second, [scope])).done();
        clock.advance(250);
      }
      const used = (await second.usage([scope])).get("key:hash-of-my-app")?.requests ?? 0;
      assert.ok(used >= 240 && used <= 244, `the window counts ${used} requests, not those of the last 60-61 s`);
      await first.close();
      await second.close();
    });

    test("scopes without limits cost nothing and add no headers", async (t) => {
      if (skip(t)) return;
      const clock = new FakeClock();
      const { first, second } = await backend.create(clock);
      const ticket = await admitted(first, [key({})]);
      assert.deepEqual(ticket.quota, { requests: undefined, tokens: undefined });
      ticket.done(10);
      assert.equal((await second.usage([key({})])).size, 0);
      await first.close();
      await second.close();
    });
  });
}

/**
 * Lets a limiter's settlements (sent in the background) land: a read on the same connection is answered
 * after them.
 */
async function settled(limiter: Limiter, scope: Scope): Promise<void> {
  await limiter.usage([scope]);
}
