// The key cache against a real store on SQLite, with time on a fake clock and the database made slow,
// failing or hung on demand.
import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import { ServiceUnavailableError } from "../../../src/errors.js";
import type { VirtualKey } from "../../../src/proxy/auth/principal.js";
import { KeyCache, type KeyCacheOptions, LOCAL_TIMING, NOTIFIED_TIMING } from "../../../src/proxy/keys/cache.js";
import { hashKey } from "../../../src/proxy/keys/tokens.js";
import { ControlledSource, FakeClock, newKey, START, tempStore, type TempStore } from "./helpers.js";

const DAY = 24 * 3_600_000;

let temp: TempStore;
let clock: FakeClock;
let source: ControlledSource;

beforeEach(async () => {
  await temp?.dispose();
  clock = new FakeClock(START);
  temp = await tempStore(clock);
  source = new ControlledSource(temp.store);
});

after(() => temp?.dispose());

const cacheOf = (options: KeyCacheOptions = {}): KeyCache => new KeyCache(source, { clock, ...options });

/** What a lookup answers, whether it needed the store or not. */
async function found(cache: KeyCache, token: string): Promise<VirtualKey | null> {
  return cache.lookup(token);
}

function isPromise(value: unknown): boolean {
  return value instanceof Promise;
}

const unavailable = (err: unknown): boolean => err instanceof ServiceUnavailableError && err.code === "key_store_unavailable" && err.status === 503;

describe("hits and misses", () => {
  test("a miss reads the key and its team once; the next lookup answers from memory, without a promise", async () => {
    await temp.store.teams.create({ team_id: "t1", models: ["embed"] });
    const { token } = await newKey(temp.store, { key_alias: "app", team_id: "t1" });
    const cache = cacheOf();
    const first = cache.lookup(token);
    assert.ok(isPromise(first));
    const key = await first;
    assert.equal(key?.record.key_alias, "app");
    assert.deepEqual(key?.team?.models, ["embed"]);
    assert.equal(key?.readAt, START);
    const again = cache.lookup(token);
    assert.equal(again, key, "the same object, answered synchronously");
    assert.deepEqual([source.keyReads, source.teamReads], [1, 1]);
  });

  test("concurrent misses for one token share one read", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf();
    source.mode = "hold";
    const lookups = Array.from({ length: 20 }, () => cache.lookup(token));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(source.keyReads, 1);
    source.release();
    const keys = await Promise.all(lookups);
    assert.ok(keys.every((key) => key !== null && key === keys[0]));
    assert.equal(source.keyReads, 1);
  });

  test("a key in no team, or in a team that is gone, has no team", async () => {
    const loner = await newKey(temp.store);
    const orphan = await newKey(temp.store, { team_id: "gone" });
    const cache = cacheOf();
    assert.equal((await found(cache, loner.token))?.team, undefined);
    assert.equal((await found(cache, orphan.token))?.team, undefined);
    assert.equal(source.teamReads, 1);
  });

  test("keys of one team share its row: one team read for all of them", async () => {
    await temp.store.teams.create({ team_id: "t1" });
    const keys = await Promise.all([1, 2, 3].map(() => newKey(temp.store, { team_id: "t1" })));
    const cache = cacheOf();
    const teams: Array<VirtualKey["team"]> = [];
    for (const { token } of keys) teams.push((await found(cache, token))?.team);
    assert.equal(source.teamReads, 1);
    assert.ok(teams.every((team) => team !== undefined && team === teams[0]));
  });

  test("past maxKeys the longest-held key goes, and is read again when next used", async () => {
    const keys = await Promise.all([1, 2, 3].map(() => newKey(temp.store)));
    const cache = cacheOf({ maxKeys: 2 });
    for (const { token } of keys) await found(cache, token);
    assert.equal(cache.size().keys, 2);
    assert.ok(isPromise(cache.lookup(keys[0]!.token)));
    assert.ok(!isPromise(cache.lookup(keys[2]!.token)));
  });
});

describe("unknown tokens", () => {
  test("are answered as unknown, then remembered for absentMs without a query", async () => {
    const cache = cacheOf();
    const token = hashKey("sk-made-up");
    assert.equal(await found(cache, token), null);
    for (let i = 0; i < 100; i++) assert.equal(cache.lookup(token), null);
    assert.equal(source.keyReads, 1);
    clock.advance(LOCAL_TIMING.absentMs);
    assert.equal(await found(cache, token), null);
    assert.equal(source.keyReads, 2);
  });

  test("are remembered in a bounded map: a flood of made-up keys does not grow it past maxAbsent", async () => {
    const cache = cacheOf({ maxAbsent: 50 });
    for (let i = 0; i < 500; i++) assert.equal(await found(cache, hashKey(`sk-random-${i}`)), null);
    assert.equal(cache.size().absent, 50);
    // The newest are still remembered, the oldest forgotten.
    const reads = source.keyReads;
    assert.equal(cache.lookup(hashKey("sk-random-499")), null);
    assert.equal(source.keyReads, reads);
    assert.ok(isPromise(cache.lookup(hashKey("sk-random-0"))));
  });

  test("a key created since is found once it is named by a change", async () => {
    const cache = cacheOf({ notified: NOTIFIED_TIMING });
    cache.setNotified(true);
    const value = "sk-created-later";
    assert.equal(await found(cache, hashKey(value)), null);
    await temp.store.keys.create({ token: hashKey(value), key_alias: "later" });
    assert.equal(cache.lookup(hashKey(value)), null, "still remembered as unknown");
    cache.forget([hashKey(value)]);
    assert.equal((await found(cache, hashKey(value)))?.record.key_alias, "later");
  });
});

describe("freshness", () => {
  test("an entry past refreshAfterMs is answered at once and re-read in the background", async () => {
    const { token } = await newKey(temp.store, { rpm_limit: 1 });
    const cache = cacheOf();
    await found(cache, token);
    await temp.store.keys.update(token, { rpm_limit: 2 });
    clock.advance(LOCAL_TIMING.refreshAfterMs);
    const stale = cache.lookup(token);
    assert.ok(!isPromise(stale));
    assert.equal((stale as VirtualKey).record.rpm_limit, 1);
    await source.settled();
    assert.equal((cache.lookup(token) as VirtualKey).record.rpm_limit, 2);
    assert.equal(source.keyReads, 2);
  });

  test("an entry past maxAgeMs is re-read before it is answered: no change goes unseen longer", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf();
    await found(cache, token);
    await temp.store.keys.update(token, { blocked: true });
    clock.advance(LOCAL_TIMING.maxAgeMs);
    const lookup = cache.lookup(token);
    assert.ok(isPromise(lookup));
    assert.equal((await lookup)?.record.blocked, true);
  });

  test("with notifications live, entries live for the long timing", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf();
    cache.setNotified(true);
    await found(cache, token);
    clock.advance(NOTIFIED_TIMING.refreshAfterMs - 1);
    assert.ok(!isPromise(cache.lookup(token)));
    assert.equal(source.keyReads, 1);
    cache.setNotified(false);
    assert.ok(isPromise(cache.lookup(token)), "back on the short timing at once");
  });

  test("a forgotten token is re-read when next used; a deleted key is then unknown", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf();
    await found(cache, token);
    await temp.store.keys.update(token, { key_alias: "renamed" });
    cache.forget([token]);
    assert.equal((await found(cache, token))?.record.key_alias, "renamed");
    await temp.store.keys.delete({ tokens: [token] });
    cache.forget([token]);
    assert.equal(await found(cache, token), null);
    assert.equal(cache.lookup(token), null);
  });

  test("a change during a read in flight is not lost: that read's answer is not kept", async () => {
    const { token } = await newKey(temp.store, { rpm_limit: 1 });
    const cache = cacheOf();
    source.mode = "hold";
    const lookup = cache.lookup(token);
    await new Promise((resolve) => setImmediate(resolve));
    cache.forget([token]);
    source.mode = "pass";
    source.release();
    await lookup;
    await temp.store.keys.update(token, { rpm_limit: 2 });
    assert.equal((await found(cache, token))?.record.rpm_limit, 2);
  });

  test("a team change re-reads the team and every key in it", async () => {
    await temp.store.teams.create({ team_id: "t1", models: ["a"] });
    const keys = await Promise.all([1, 2].map(() => newKey(temp.store, { team_id: "t1" })));
    const outsider = await newKey(temp.store);
    const cache = cacheOf();
    for (const { token } of [...keys, outsider]) await found(cache, token);
    await temp.store.teams.update("t1", { models: ["a", "b"] });
    cache.forgetTeam("t1");
    for (const { token } of keys) assert.deepEqual((await found(cache, token))?.team?.models, ["a", "b"]);
    assert.equal(source.teamReads, 2);
    assert.ok(!isPromise(cache.lookup(outsider.token)), "keys of other teams are kept");
  });

  test("forgetAll re-reads every key", async () => {
    const keys = await Promise.all([1, 2].map(() => newKey(temp.store)));
    const cache = cacheOf();
    for (const { token } of keys) await found(cache, token);
    cache.forgetAll();
    for (const { token } of keys) assert.ok(isPromise(cache.lookup(token)));
  });
});

describe("what the clock changes", () => {
  test("a budget period that ends is judged at lookup: the spend is 0 from its end, without waiting for a re-read", async () => {
    const { token } = await newKey(temp.store, { budget_duration: "1d", max_budget: 10 });
    await temp.store.keys.addSpend(token, 4);
    const cache = cacheOf();
    cache.setNotified(true);
    clock.advance(DAY - 10_000);
    assert.equal((await found(cache, token))?.record.spend, 4);
    source.mode = "hang";
    clock.advance(10_000);
    const after = cache.lookup(token);
    assert.ok(!isPromise(after));
    assert.equal((after as VirtualKey).record.spend, 0);
    assert.equal((after as VirtualKey).record.budget_reset_at?.getTime(), START + 2 * DAY);
    assert.equal((after as VirtualKey).readAt, START + DAY, "spend settled since the period's end is not in it");
    assert.equal(source.keyReads, 2, "and the store's own reset is read in the background");
  });

  test("a team's budget period ending is judged the same way", async () => {
    await temp.store.teams.create({ team_id: "t1", budget_duration: "1h", max_budget: 1 });
    await temp.store.teams.addSpend("t1", 0.5);
    const { token } = await newKey(temp.store, { team_id: "t1" });
    const cache = cacheOf();
    cache.setNotified(true);
    clock.advance(3_600_000 - 10_000);
    assert.equal((await found(cache, token))?.team?.spend, 0.5);
    clock.advance(10_000);
    const after = cache.lookup(token);
    assert.ok(!isPromise(after));
    assert.equal((after as VirtualKey).team?.spend, 0);
  });

  test("a regenerated key's previous token works within its grace period and is unknown after it", async () => {
    const { token: old } = await newKey(temp.store, { key_alias: "app" });
    const renewed = hashKey("sk-renewed");
    await temp.store.keys.regenerate(old, { token: renewed, key_name: "sk-...ewed", graceUntil: new Date(START + 60_000) });
    const cache = cacheOf();
    cache.setNotified(true);
    const key = await found(cache, old);
    assert.equal(key?.record.token, renewed, "the key as it is now");
    clock.advance(59_999);
    assert.ok(!isPromise(cache.lookup(old)));
    clock.advance(1);
    assert.equal(cache.lookup(old), null, "judged by the clock, not by a re-read");
    assert.equal((await found(cache, renewed))?.record.key_alias, "app");
  });

  test("a previous token past its grace is unknown to the store too", async () => {
    const { token: old } = await newKey(temp.store);
    await temp.store.keys.regenerate(old, { token: hashKey("sk-next"), key_name: null });
    assert.equal(await found(cacheOf(), old), null);
  });
});

describe("the database slow or away", () => {
  test("a miss while the database hangs fails after loadTimeoutMs with a 503, not a hang", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf({ loadTimeoutMs: 2000 });
    source.mode = "hang";
    const lookup = cache.lookup(token) as Promise<VirtualKey | null>;
    clock.advance(2000);
    await assert.rejects(lookup, (err: unknown) => unavailable(err) && /did not answer within 2000 ms/.test((err as Error).message));
  });

  test("a miss while the database fails is a 503 at once", async () => {
    const cache = cacheOf();
    source.mode = "fail";
    await assert.rejects(found(cache, hashKey("sk-anything")), (err: unknown) => unavailable(err) && /failed/.test((err as Error).message));
  });

  test("keys already known keep working while the database fails, past every age, and are re-read once it is back", async () => {
    const { token } = await newKey(temp.store, { rpm_limit: 1 });
    const cache = cacheOf();
    await found(cache, token);
    source.mode = "fail";
    for (let i = 0; i < 10; i++) {
      clock.advance(LOCAL_TIMING.maxAgeMs);
      assert.equal((await found(cache, token))?.record.rpm_limit, 1);
    }
    const failedReads = source.keyReads;
    assert.ok(failedReads <= 11, `${failedReads} reads for 10 lookups over 10 s`);
    source.mode = "pass";
    await temp.store.keys.update(token, { rpm_limit: 2 });
    clock.advance(LOCAL_TIMING.maxAgeMs);
    assert.equal((await found(cache, token))?.record.rpm_limit, 2);
  });

  test("a known key whose re-read hangs is answered as last read after loadTimeoutMs", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf({ loadTimeoutMs: 2000 });
    await found(cache, token);
    cache.forget([token]);
    source.mode = "hang";
    const lookup = cache.lookup(token) as Promise<VirtualKey | null>;
    clock.advance(2000);
    assert.equal((await lookup)?.record.token, token);
    assert.ok(!isPromise(cache.lookup(token)), "and then without waiting again for a while");
  });

  test("a read that hangs gives its slot back after loadTimeoutMs: later keys are read once the database answers", async () => {
    const { token } = await newKey(temp.store);
    const cache = cacheOf({ maxConcurrentReads: 1, loadTimeoutMs: 2000 });
    source.mode = "hang";
    const hung = cache.lookup(hashKey("sk-hung")) as Promise<VirtualKey | null>;
    clock.advance(2000);
    await assert.rejects(hung, unavailable);
    source.mode = "pass";
    assert.equal((await found(cache, token))?.record.token, token);
  });

  test("reads at once are bounded: more wait in a bounded line, and past it fail at once", async () => {
    const cache = cacheOf({ maxConcurrentReads: 2, maxWaitingReads: 1 });
    source.mode = "hold";
    const lookups = [1, 2, 3].map((i) => cache.lookup(hashKey(`sk-burst-${i}`)) as Promise<VirtualKey | null>);
    await assert.rejects(found(cache, hashKey("sk-burst-4")), (err: unknown) => unavailable(err) && /too many keys/.test((err as Error).message));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(source.heldReads, 2, "two at the database, one in line");
    source.mode = "pass";
    source.release();
    assert.deepEqual(await Promise.all(lookups), [null, null, null]);
    assert.equal(source.keyReads, 3);
  });
});
