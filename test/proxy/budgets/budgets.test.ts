// The budgets' contract, in process and in Redis: refusal at max_budget, reservations that keep concurrent
// requests from overshooting, settle and release, all or nothing across a key and its team, periods,
// soft budgets, and forget. Redis is the machine's (127.0.0.1:6379), each test under a namespace of its own,
// deleted afterwards; on CI a missing Redis fails these tests (see redisReachable).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Budgets, MemoryBudgets, RedisBudgets } from "../../../src/proxy/budgets/index.js";
import { redisReachable } from "../../support/redis.js";
import { LimitRedis, REDIS_URL } from "../limits/redis-helpers.js";
import { FakeClock } from "../router/helpers.js";
import { admitted, close, drained, keyScope, refused, spendOf, START, teamScope } from "./helpers.js";

interface Backend {
  name: string;
  /** Two instances counting together (one object, in process). */
  create(clock: FakeClock): Promise<{ first: Budgets; second: Budgets }>;
}

const redis = new LimitRedis();
let haveRedis = false;
const opened: Budgets[] = [];

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, "budgets.test.ts");
});

after(async () => {
  await Promise.all(opened.map((budgets) => budgets.close()));
  await redis.cleanUp();
});

const backends: Backend[] = [
  {
    name: "in-process",
    async create(clock) {
      const budgets = new MemoryBudgets({ clock });
      opened.push(budgets);
      return { first: budgets, second: budgets };
    },
  },
  {
    name: "redis",
    async create(clock) {
      const namespace = redis.namespace();
      const first = new RedisBudgets(redis.connection(), { namespace, where: "test", clock });
      const second = new RedisBudgets(redis.connection(), { namespace, where: "test", clock });
      opened.push(first, second);
      await Promise.all([first.ready(), second.ready()]);
      assert.equal(first.state().mode, "shared");
      return { first, second };
    },
  },
];

for (const backend of backends) {
  describe(`${backend.name} budgets`, () => {
    const setUp = async (t: { skip: (message: string) => void }) => {
      if (backend.name === "redis" && !haveRedis) {
        t.skip(`Redis not reachable at ${REDIS_URL}`);
        return undefined;
      }
      const clock = new FakeClock(START);
      return { clock, ...(await backend.create(clock)) };
    };

    test("a key whose spend has reached its max_budget is refused, with its spend; below it, admitted", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const refusal = await refused(set.first, [keyScope({ storedSpend: 10, maxBudget: 10 })], 0.5);
      assert.deepEqual(refusal, { scope: keyScope({ storedSpend: 10, maxBudget: 10 }), spend: 10, reserved: 0, maxBudget: 10, resetsAt: undefined });
      const hold = await admitted(set.second, [keyScope({ id: "hash-of-other", storedSpend: 9.99, maxBudget: 10 })], 0.5);
      close(hold.spend.get("key:hash-of-other"), 9.99);
    });

    test("50 concurrent requests against a budget of 10 estimated at 1 each: 10 are admitted, and the budget is not overshot", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const scope = keyScope({ maxBudget: 10 });
      const admissions = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? set.second : set.first).reserve([scope], 1)));
      const holds = admissions.flatMap((admission) => (admission.admitted ? [admission.hold] : []));
      assert.equal(holds.length, 10);
      for (const admission of admissions) if (!admission.admitted) close(admission.refusal.spend + admission.refusal.reserved, 10);
      for (const hold of holds) hold.settle(1);
      await drained(set.first, set.second);
      close(await spendOf(set.first, scope), 10);
      const after = await refused(set.second, [scope], 1);
      assert.deepEqual([after.spend, after.reserved], [10, 0]);
    });

    test("settle replaces the estimate by the cost; release drops it; only the first call of either counts", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const scope = keyScope({ maxBudget: 10 });
      const big = await admitted(set.first, [scope], 6);
      const other = await admitted(set.second, [scope], 4);
      const full = await refused(set.first, [scope], 1);
      assert.deepEqual([full.spend, full.reserved], [0, 10]);

      const shown = big.settle(1.5);
      close(shown.get("key:hash-of-my-app"), 1.5);
      big.settle(100);
      big.release();
      other.release();
      other.settle(50);
      await drained(set.first, set.second);
      close(await spendOf(set.second, scope), 1.5);
      const hold = await admitted(set.first, [scope], 8);
      close(hold.spend.get("key:hash-of-my-app"), 1.5);
    });

    test("a key and its team are reserved together or not at all; the refusal names the one that is spent", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const key = keyScope({ maxBudget: 100 });
      const team = teamScope({ maxBudget: 5, storedSpend: 5 });
      const refusal = await refused(set.first, [key, team], 1);
      assert.equal(refusal.scope.kind, "team");
      assert.equal(refusal.scope.name, "ml");
      // Nothing was reserved on the key by the refused request: a budget of 1 still admits.
      (await admitted(set.second, [{ ...key, maxBudget: 1 }], 0)).release();
    });

    test("when both are spent, the key is named first", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const refusal = await refused(set.first, [keyScope({ storedSpend: 3, maxBudget: 1 }), teamScope({ storedSpend: 9, maxBudget: 1 })]);
      assert.equal(refusal.scope.kind, "key");
    });

    test("a spent budget starts again from 0 once its period is over, and the refusal says when that is", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const periodEndsAt = START + 60_000;
      const scope = keyScope({ storedSpend: 12, maxBudget: 10, periodEndsAt, budgetDuration: "1h" });
      const refusal = await refused(set.first, [scope]);
      assert.equal(refusal.resetsAt, periodEndsAt);
      set.clock.advance(60_000);
      // The row was read before the reset: its spend is the old period's.
      const hold = await admitted(set.second, [scope], 2);
      close(hold.spend.get("key:hash-of-my-app"), 0);
      hold.settle(3);
      await drained(set.second);
      const next = await admitted(set.first, [scope], 0);
      close(next.spend.get("key:hash-of-my-app"), 3);
      next.release();
      const spent = await refused(set.second, [{ ...scope, maxBudget: 3 }]);
      assert.equal(spent.resetsAt, periodEndsAt + 3_600_000);
    });

    test("a scope without max_budget is never refused and reserves nothing, but its spend is followed", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const unbudgeted = keyScope({ maxBudget: undefined, storedSpend: 1_000 });
      const hold = await admitted(set.first, [unbudgeted], 5);
      close(hold.spend.get("key:hash-of-my-app"), 1_000);
      close(hold.settle(2).get("key:hash-of-my-app"), 1_002);
      const next = await admitted(set.first, [unbudgeted], 5);
      close(next.spend.get("key:hash-of-my-app"), 1_002);
    });

    test("soft_budget only warns: the hold names the first scope at or above it", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const below = await admitted(set.first, [keyScope({ id: "hash-of-other", storedSpend: 4, softBudget: 5 })]);
      assert.equal(below.softExceeded, undefined);
      const key = keyScope({ storedSpend: 5, softBudget: 5 });
      const at = await admitted(set.second, [key, teamScope({ storedSpend: 9, softBudget: 1 })]);
      assert.equal(at.softExceeded?.kind, "key");
    });

    test("forget: after an admin changes the row, the count begins again from the row as read after the change", async (t) => {
      const set = await setUp(t);
      if (!set) return;
      const before = keyScope({ maxBudget: 10 });
      (await admitted(set.first, [before], 1)).settle(7);
      await drained(set.first);
      set.clock.advance(1_000);
      set.first.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 7 }]);
      set.clock.advance(1_000);
      // /key/update spend: 0, then every instance hears of it; the key cache reads the row again.
      set.first.forget("key", "hash-of-my-app");
      set.second.forget("key", "hash-of-my-app");
      await drained(set.first, set.second);
      set.clock.advance(1_000);
      const reread = keyScope({ maxBudget: 10, storedSpend: 0, readAt: set.clock.now() });
      close(await spendOf(set.second, reread), 0);
      close(await spendOf(set.first, reread), 0);
    });
  });
}
