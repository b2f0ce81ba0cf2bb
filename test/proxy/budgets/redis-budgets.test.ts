// What only sharing brings: instances charging one count, leases that give back a dead instance's
// reservations, counts that begin from what an instance knows and then ignore rows catching up, and keys
// that all expire. On the machine's Redis (127.0.0.1:6379).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DEFAULT_IDLE_MS, RedisBudgets } from "../../../src/proxy/budgets/index.js";
import { DEFAULT_LEASE_MS } from "../../../src/proxy/budgets/redis.js";
import { redisReachable } from "../../support/redis.js";
import { keysUnder, LimitRedis, REDIS_URL } from "../limits/redis-helpers.js";
import { FakeClock } from "../router/helpers.js";
import { admitted, close, drained, keyScope, refused, spendOf, START, teamScope } from "./helpers.js";

const redis = new LimitRedis();
let haveRedis = false;

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, "redis-budgets.test.ts");
});

after(() => redis.cleanUp());

async function pair(clocks: [FakeClock, FakeClock]): Promise<{ first: RedisBudgets; second: RedisBudgets; namespace: string; closeAll: () => Promise<void> }> {
  const namespace = redis.namespace();
  const first = new RedisBudgets(redis.connection(), { namespace, where: "test", clock: clocks[0] });
  const second = new RedisBudgets(redis.connection(), { namespace, where: "test", clock: clocks[1] });
  await Promise.all([first.ready(), second.ready()]);
  return { first, second, namespace, closeAll: () => Promise.all([first.close(), second.close()]).then(() => undefined) };
}

test("two instances charge one count: what one settles, the other refuses on", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock(START);
  const { first, second, closeAll } = await pair([clock, clock]);
  const scope = keyScope({ maxBudget: 10 });
  (await admitted(first, [scope], 1)).settle(6);
  (await admitted(second, [scope], 1)).settle(4);
  await drained(first, second);
  const refusal = await refused(first, [scope]);
  assert.deepEqual([refusal.spend, refusal.reserved], [10, 0]);
  await closeAll();
});

test("a dead instance's reservations are given back once their lease runs out; a live one keeps its own", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  // The dead instance's clock stands still: it never renews. The live one renews on its own clock.
  const deadClock = new FakeClock(START);
  const liveClock = new FakeClock(START);
  const { first: dead, second: live, closeAll } = await pair([deadClock, liveClock]);
  const scope = keyScope({ maxBudget: 10 });
  await admitted(dead, [scope], 10);
  assert.equal((await refused(live, [scope])).reserved, 10);
  liveClock.advance(DEFAULT_LEASE_MS - 1);
  await refused(live, [scope]);
  liveClock.advance(1);
  const hold = await admitted(live, [scope], 10);

  // The live instance's own request outlasts several leases: its renewals keep the reservation.
  liveClock.advance(DEFAULT_LEASE_MS * 3);
  await spendOf(live, teamScope()); // a round trip, after the renewals
  assert.equal((await refused(live, [scope])).reserved, 10);
  hold.settle(2);
  close(await spendOf(live, scope), 2);
  await closeAll();
});

test("a count begins from what its instance knows, the row and what it settled since, and then ignores rows catching up", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock(START);
  const { first, second, closeAll } = await pair([clock, clock]);
  // Unbudgeted, the key's spend is followed by the first instance alone: 3 in the row, 2 settled since.
  (await admitted(first, [keyScope({ maxBudget: undefined, storedSpend: 3 })])).settle(2);
  close(await spendOf(first, keyScope({ storedSpend: 3 })), 5);
  (await admitted(second, [keyScope({ storedSpend: 3 })], 1)).settle(1);
  await drained(second);
  clock.advance(10_000);
  first.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 2 }]);
  second.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 1 }]);
  clock.advance(1);
  // Both instances' caches read the row again: it has everything, and the count already had it.
  const reread = keyScope({ storedSpend: 6, readAt: clock.now() });
  close(await spendOf(first, reread), 6);
  close(await spendOf(second, reread), 6);
  await closeAll();
});

test("a new period begins a new count from 0, for every instance at once", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock(START);
  const { first, second, closeAll } = await pair([clock, clock]);
  const scope = keyScope({ maxBudget: 5, periodEndsAt: START + 60_000, budgetDuration: "1m" });
  (await admitted(first, [scope], 1)).settle(5);
  await drained(first);
  await refused(second, [scope]);
  clock.advance(60_000);
  (await admitted(second, [scope], 1)).settle(1.5);
  await drained(second);
  close(await spendOf(first, scope), 1.5);
  // A row read after the store's reset has the new period's end: the same count.
  close(await spendOf(first, keyScope({ storedSpend: 1.5, periodEndsAt: START + 120_000, budgetDuration: "1m", readAt: clock.now() })), 1.5);
  await closeAll();
});

test("every key the budgets write expires once idle; closing gives back the reservations of requests cut off", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock(START);
  const { first, second, namespace, closeAll } = await pair([clock, clock]);
  (await admitted(first, [keyScope(), teamScope()], 1)).settle(0.5);
  await admitted(first, [keyScope(), teamScope()], 9);
  const cleaner = redis.connection();
  const keys = await keysUnder(cleaner, namespace);
  assert.equal(keys.length, 4);
  for (const key of keys) {
    const ttl = await cleaner.pttl(key);
    assert.ok(ttl > 0 && ttl <= DEFAULT_IDLE_MS, `${key} has TTL ${ttl}`);
  }
  assert.equal((await refused(second, [keyScope({ maxBudget: 9 })])).reserved, 9);
  await first.close();
  close((await admitted(second, [keyScope({ maxBudget: 9 })])).spend.get("key:hash-of-my-app"), 0.5);
  await closeAll();
});

test("per-token prices: tiny amounts add up in Redis as they do in process", async (t) => {
  if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
  const clock = new FakeClock(START);
  const { first, closeAll } = await pair([clock, clock]);
  const scope = keyScope({ maxBudget: 0.00001, storedSpend: 1e-7 });
  for (let i = 0; i < 33; i++) (await admitted(first, [scope], 2e-8)).settle(3e-7);
  const refusal = await refused(first, [scope], 2e-8);
  close(refusal.spend, 1e-7 + 33 * 3e-7);
  assert.equal(refusal.reserved, 0);
  await closeAll();
});
