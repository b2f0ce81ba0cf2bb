// What only sharing brings: instances admitting against one count under concurrent load, leases that free a
// dead instance's slots, and keys that all expire. On the machine's Redis (127.0.0.1:6379).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RedisLimiter, type Scope } from "../../../src/proxy/limits/index.js";
import { DEFAULT_LEASE_MS } from "../../../src/proxy/limits/redis.js";
import { FakeClock } from "../router/helpers.js";
import { redisReachable } from "../../support/redis.js";
import { keysUnder, LimitRedis, REDIS_URL } from "./redis-helpers.js";

const redis = new LimitRedis();
let haveRedis = false;

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, "redis-limiter.test.ts");
});

after(() => redis.cleanUp());

const scope = (limits: Scope["limits"]): Scope => ({ kind: "key", id: "hash-shared", name: "shared-app", limits });

async function pair(clocks: [FakeClock, FakeClock]): Promise<{ first: RedisLimiter; second: RedisLimiter; namespace: string }> {
  const namespace = redis.namespace();
  const first = new RedisLimiter(redis.connection(), { namespace, where: "test", clock: clocks[0] });
  const second = new RedisLimiter(redis.connection(), { namespace, where: "test", clock: clocks[1] });
  await Promise.all([first.ready(), second.ready()]);
  return { first, second, namespace };
}

test("two instances under concurrent load hold one rpm limit together: every minute within 5% of it, none above", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock();
  const { first, second } = await pair([clock, clock]);
  const limited = scope({ rpm: 600 });
  const start = clock.now();
  const admittedAt: number[] = [];
  // Four minutes of 40 requests a second against 10 allowed: each instance sends 4 at once every 200 ms.
  for (let step = 0; step < 1200; step++) {
    const admissions = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? second : first).admit([limited], 0)));
    for (const admission of admissions) if (admission.admitted) admittedAt.push(clock.now());
    clock.advance(200);
  }
  const perMinute = [0, 1, 2, 3].map((minute) => admittedAt.filter((at) => at >= start + minute * 60_000 && at < start + (minute + 1) * 60_000).length);
  for (const count of perMinute) assert.ok(count >= 570 && count <= 600, `minutes admitted ${perMinute.join(", ")}`);
  for (const from of admittedAt) {
    const inMinute = admittedAt.filter((at) => at >= from && at < from + 60_000).length;
    assert.ok(inMinute <= 600, `${inMinute} admitted in the minute from +${from - start} ms`);
  }
  await first.close();
  await second.close();
});

test("a dead instance's parallel slots are free again once their lease runs out; a live one keeps its own", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  // The dead instance's clock stands still: it never renews. The live one renews on its own clock.
  const deadClock = new FakeClock();
  const liveClock = new FakeClock();
  const { first: dead, second: live } = await pair([deadClock, liveClock]);
  const limited = scope({ maxParallel: 1 });
  assert.ok((await dead.admit([limited], 0)).admitted);
  const refusal = await live.admit([limited], 0);
  assert.ok(!refusal.admitted);

  liveClock.advance(DEFAULT_LEASE_MS - 1);
  assert.equal((await live.admit([limited], 0)).admitted, false, "the lease still runs");
  liveClock.advance(1);
  const admission = await live.admit([limited], 0);
  assert.ok(admission.admitted, "the dead instance's slot was freed by its lease");

  // The live instance's own request outlasts several leases: its renewals keep the slot taken.
  liveClock.advance(DEFAULT_LEASE_MS * 3);
  await live.usage([limited]);
  assert.equal((await live.admit([limited], 0)).admitted, false);
  admission.ticket.done();
  assert.ok((await live.admit([limited], 0)).admitted);
  await dead.close();
  await live.close();
});

test("every key the limiter writes has a TTL", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock();
  const { first, second, namespace } = await pair([clock, clock]);
  const held = await first.admit([scope({ rpm: 10, tpm: 100, maxParallel: 3 })], 20);
  assert.ok(held.admitted);
  held.ticket.done(5);
  await first.admit([scope({ rpm: 10, tpm: 100, maxParallel: 3 })], 20);
  const cleaner = redis.connection();
  const keys = await keysUnder(cleaner, namespace);
  assert.equal(keys.length, 2);
  for (const key of keys) {
    const ttl = await cleaner.pttl(key);
    assert.ok(ttl > 0 && ttl <= 62_000, `${key} has TTL ${ttl}`);
  }
  await first.close();
  await second.close();
});
