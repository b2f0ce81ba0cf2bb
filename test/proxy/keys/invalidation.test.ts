// Key changes between instances through Redis: two key caches on one SQLite file (two workers), each with
// its own subscription on the machine's Redis; and a private redis-server killed or frozen to lose the
// subscription. Every wait is on an event of the notifier, never a sleep.
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { VirtualKey } from "../../../src/proxy/auth/principal.js";
import { KeyCache } from "../../../src/proxy/keys/cache.js";
import { createKeyChanges, localKeyChanges, RedisKeyChanges } from "../../../src/proxy/keys/invalidation.js";
import { connectRedis, type RedisConnection } from "../../../src/proxy/kv/redis.js";
import { openStore, type Store } from "../../../src/proxy/store/index.js";
import { redisReachable, startPrivateRedis, type PrivateRedis } from "../../support/redis.js";
import { FakeClock, newKey, START, tempStore, type TempStore } from "./helpers.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const FILE = "test/proxy/keys/invalidation.test.ts";

let haveRedis = false;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  haveRedis = await redisReachable(REDIS_URL, FILE);
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Instance {
  store: Store;
  cache: KeyCache;
  changes: RedisKeyChanges;
}

/** An instance of the proxy as far as keys go: its own store on the shared file, cache and subscription. */
async function instance(path: string, connection: RedisConnection, namespace: string, clock: FakeClock): Promise<Instance> {
  const store = await openStore({ kind: "sqlite", path }, { clock });
  const cache = new KeyCache(store, { clock });
  const changes = new RedisKeyChanges(cache, connectRedis(connection, { commandTimeoutMs: 500 }), connectRedis(connection, { commandTimeoutMs: 500 }), {
    namespace,
    clock,
    ownsConnections: true,
  });
  cleanups.push(async () => {
    await changes.close();
    await store.close();
  });
  return { store, cache, changes };
}

async function shared(): Promise<{ temp: TempStore; a: Instance; b: Instance; clock: FakeClock }> {
  const clock = new FakeClock(START);
  const temp = await tempStore(clock);
  cleanups.push(() => temp.dispose());
  const namespace = `xgate-test:keys:${randomUUID()}:`;
  // One after the other: in one process, a store migrating would hold the file's lock against the other's.
  const a = await instance(temp.path, { url: REDIS_URL }, namespace, clock);
  const b = await instance(temp.path, { url: REDIS_URL }, namespace, clock);
  await Promise.all([a.changes.ready(), b.changes.ready()]);
  return { temp, a, b, clock };
}

const isPromise = (value: unknown): boolean => value instanceof Promise;

// A change that never arrives would otherwise wait for ever: fail in bounded time instead.
const BOUNDED = { timeout: 30_000 };

describe("between instances, through the machine's Redis", BOUNDED, () => {
  test("a key blocked on one instance is seen by the other as soon as the change arrives", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const { a, b } = await shared();
    assert.ok(a.changes.notified() && b.changes.notified());
    const { token } = await newKey(a.store);
    assert.equal((await a.cache.lookup(token))?.record.blocked, false);
    assert.equal((await b.cache.lookup(token))?.record.blocked, false);
    assert.ok(!isPromise(b.cache.lookup(token)), "b holds the key, on its long timing");

    const arrived = once(b.changes, "change");
    await a.store.keys.update(token, { blocked: true });
    a.changes.keysChanged([token]);
    assert.equal((await a.cache.lookup(token))?.record.blocked, true, "the writer's own cache at once");
    assert.deepEqual(await arrived, [{ tokens: [token] }]);
    assert.equal((await b.cache.lookup(token))?.record.blocked, true);
  });

  test("a key created on one instance is found by another that had it as unknown", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const { a, b } = await shared();
    const token = "f".repeat(64);
    assert.equal(await b.cache.lookup(token), null);
    const arrived = once(b.changes, "change");
    await a.store.keys.create({ token, key_alias: "new-app" });
    a.changes.keysChanged([token]);
    await arrived;
    assert.equal(((await b.cache.lookup(token)) as VirtualKey | null)?.record.key_alias, "new-app");
  });

  test("a team change reaches the other instance's keys of that team", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const { a, b } = await shared();
    await a.store.teams.create({ team_id: "t1", models: ["embed"] });
    const { token } = await newKey(a.store, { team_id: "t1" });
    assert.deepEqual((await b.cache.lookup(token))?.team?.models, ["embed"]);
    const arrived = once(b.changes, "change");
    await a.store.teams.update("t1", { models: ["embed", "rerank"] });
    a.changes.teamChanged("t1");
    assert.deepEqual(await arrived, [{ team: "t1" }]);
    assert.deepEqual((await b.cache.lookup(token))?.team?.models, ["embed", "rerank"]);
  });

  test("an instance does not apply its own changes a second time", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const { a, b } = await shared();
    const seenByA: unknown[] = [];
    a.changes.on("change", (change) => seenByA.push(change));
    const atB = once(b.changes, "change");
    a.changes.keysChanged(["1".repeat(64)]);
    await atB;
    // Redis delivers in publish order: a's own message reached a before this one from b.
    const atA = once(a.changes, "change");
    b.changes.keysChanged(["2".repeat(64)]);
    await atA;
    assert.deepEqual(seenByA, [{ tokens: ["2".repeat(64)] }]);
  });

  test("createKeyChanges subscribes through Redis when the settings name one, and stays local without", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_URL}`);
    const temp = await tempStore();
    cleanups.push(() => temp.dispose());
    const cache = new KeyCache(temp.store);
    const changes = createKeyChanges(cache, { url: REDIS_URL }, { namespace: `xgate-test:keys:${randomUUID()}:` });
    cleanups.push(() => changes.close());
    assert.ok(changes instanceof RedisKeyChanges);
    await changes.ready();
    assert.equal(changes.notified(), true);
    const local = createKeyChanges(cache, undefined);
    assert.equal(local.notified(), false);
    await local.ready();
  });
});

describe("without Redis", () => {
  test("changes reach this instance's cache only", async () => {
    const temp = await tempStore();
    cleanups.push(() => temp.dispose());
    const cache = new KeyCache(temp.store, { clock: temp.clock });
    const changes = localKeyChanges(cache);
    const { token } = await newKey(temp.store);
    await cache.lookup(token);
    await temp.store.keys.update(token, { blocked: true });
    changes.keysChanged([token]);
    assert.equal((await cache.lookup(token))?.record.blocked, true);
  });
});

describe("losing the subscription (a private redis-server)", BOUNDED, () => {
  let redis: PrivateRedis | undefined;

  before(async () => {
    redis = await startPrivateRedis(FILE);
    if (redis !== undefined) cleanups.push(() => redis!.kill());
  });

  test("while Redis is away writes go on, the cache is on its short timing; when it is back every key is re-read", async (t) => {
    if (redis === undefined) return t.skip("no redis-server");
    const clock = new FakeClock(START);
    const temp = await tempStore(clock);
    cleanups.push(() => temp.dispose());
    const one = await instance(temp.path, { host: "127.0.0.1", port: redis.port, password: undefined }, "xgate-test:keys:", clock);
    await one.changes.ready();
    assert.equal(one.changes.notified(), true);
    const { token } = await newKey(temp.store, { rpm_limit: 1 });
    await one.cache.lookup(token);
    assert.ok(!isPromise(one.cache.lookup(token)));

    const lost = once(one.changes, "lost");
    await redis.kill();
    await lost;
    assert.equal(one.changes.notified(), false);
    // An admin write while Redis is away: published nowhere, but neither thrown nor held up.
    one.changes.keysChanged(["3".repeat(64)]);
    // A change this instance was never told of, as one made elsewhere while the message could not arrive.
    await temp.store.keys.update(token, { rpm_limit: 2 });

    const back = once(one.changes, "subscribed");
    await redis.restart();
    await back;
    assert.equal(one.changes.notified(), true);
    const reread = one.cache.lookup(token);
    assert.ok(isPromise(reread), "everything is read again");
    assert.equal((await reread)?.record.rpm_limit, 2);
  });

  test("a frozen Redis (sockets open, nothing answers) is noticed by the heartbeat, and its return too", async (t) => {
    if (redis === undefined) return t.skip("no redis-server");
    const clock = new FakeClock(START);
    const temp = await tempStore(clock);
    cleanups.push(() => temp.dispose());
    const one = await instance(temp.path, { host: "127.0.0.1", port: redis.port, password: undefined }, "xgate-test:keys:", clock);
    await one.changes.ready();
    const { token } = await newKey(temp.store);
    await one.cache.lookup(token);

    const lost = once(one.changes, "lost");
    redis.pause();
    try {
      clock.advance(1000);
      const [reason] = await lost;
      assert.match(reason, /heartbeat unanswered/);
    } finally {
      redis.resume();
    }
    const back = once(one.changes, "subscribed");
    clock.advance(1000);
    await back;
    assert.ok(isPromise(one.cache.lookup(token)), "everything is read again");
  });

  test("ready() does not wait for a Redis that is not there past its bound", async (t) => {
    if (redis === undefined) return t.skip("no redis-server");
    const clock = new FakeClock(START);
    const temp = await tempStore(clock);
    cleanups.push(() => temp.dispose());
    await redis.kill();
    const one = await instance(temp.path, { host: "127.0.0.1", port: redis.port, password: undefined }, "xgate-test:keys:", clock);
    const ready = one.changes.ready();
    clock.advance(2000);
    await ready;
    assert.equal(one.changes.notified(), false);
    await redis.restart();
  });
});
