// The cache's Redis store against a redis-server of the test's own: pipelined reads and writes with TTLs, and
// a Redis that is killed or frozen mid-run answers "nothing cached" — never an error, never a wait beyond the
// read's bound — with its failures logged at most once a minute.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { connectRedis } from "../../../src/proxy/kv/redis.js";
import {
  FAILURE_LOG_INTERVAL_MS,
  READ_BASE_MS,
  READ_PER_KEY_MS,
  RedisCacheStore,
  RETRY_AFTER_MS,
} from "../../../src/proxy/cache/redis-store.js";
import { type PrivateRedis, startPrivateRedis } from "../../support/redis.js";
import { FakeClock } from "../router/helpers.js";

let redis: PrivateRedis | undefined;
before(async () => {
  redis = await startPrivateRedis("redis-store.test.ts");
});
after(async () => redis?.kill());

interface Logged {
  level: "warn" | "info";
  fields: Record<string, unknown>;
  message: string;
}

function setup(server: PrivateRedis): { store: RedisCacheStore; clock: FakeClock; logged: Logged[]; connection: Redis } {
  const clock = new FakeClock();
  const logged: Logged[] = [];
  const connection = connectRedis({ host: "127.0.0.1", port: server.port, password: undefined }, { commandTimeoutMs: 5000 });
  const store = new RedisCacheStore(connection, clock, {
    warn: (fields, message) => logged.push({ level: "warn", fields, message }),
    info: (fields, message) => logged.push({ level: "info", fields, message }),
  });
  return { store, clock, logged, connection };
}

async function ready(connection: Redis): Promise<void> {
  if (connection.status !== "ready") await new Promise((resolve) => connection.once("ready", resolve));
}

const value = (text: string): Buffer => Buffer.from(`t${text}]`);

describe("the cache's Redis store", () => {
  it("writes entries with their TTL and reads them back, missing keys as undefined", async (t) => {
    if (redis === undefined) return t.skip("redis-server is not available");
    const { store, connection } = setup(redis);
    try {
      await ready(connection);
      const keys = Array.from({ length: 600 }, (_, i) => `test:${i}`);
      store.setMany(keys.map((key) => ({ key, value: value(key) })), 60_000);
      store.setMany([{ key: "test:forever", value: value("forever") }], undefined);
      // One connection answers in order: this read comes after the writes.
      const read = await store.getMany([...keys, "test:absent", "test:forever"]);
      assert.equal(read.length, 602);
      keys.forEach((key, i) => assert.deepEqual(read[i], value(key)));
      assert.equal(read[600], undefined);
      assert.deepEqual(read[601], value("forever"));
      const ttl = await connection.pttl("test:0");
      assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
      assert.equal(await connection.pttl("test:forever"), -1);
    } finally {
      await store.close();
    }
  });

  it("killed mid-run: reads answer nothing at once, failures are logged once a minute, and it is used again once back", async (t) => {
    if (redis === undefined) return t.skip("redis-server is not available");
    const { store, clock, logged, connection } = setup(redis);
    try {
      await ready(connection);
      store.setMany([{ key: "kill:a", value: value("a") }], undefined);
      assert.deepEqual(await store.getMany(["kill:a"]), [value("a")]);

      await redis.kill();
      assert.deepEqual(await store.getMany(["kill:a", "kill:b"]), [undefined, undefined]);
      assert.equal(logged.length, 1);
      assert.equal(logged[0]?.level, "warn");
      assert.match(logged[0]?.message ?? "", /Redis failed; requests go upstream as if nothing were cached/);
      assert.deepEqual([logged[0]?.fields.failures, logged[0]?.fields.failures_total], [1, 1]);

      // Left alone for a while: nothing is tried, so nothing more fails.
      store.setMany([{ key: "kill:c", value: value("c") }], undefined);
      assert.deepEqual(await store.getMany(["kill:a"]), [undefined]);
      clock.advance(RETRY_AFTER_MS);
      assert.deepEqual(await store.getMany(["kill:a"]), [undefined]);
      assert.equal(logged.length, 1, "a second failure within the minute is counted, not logged");
      clock.advance(FAILURE_LOG_INTERVAL_MS);
      assert.deepEqual(await store.getMany(["kill:a"]), [undefined]);
      assert.equal(logged.length, 2);
      assert.deepEqual([logged[1]?.fields.failures, logged[1]?.fields.failures_total], [2, 3]);

      await redis.restart();
      await ready(connection);
      clock.advance(RETRY_AFTER_MS);
      assert.deepEqual(await store.getMany(["kill:a"]), [undefined], "a restarted Redis is empty");
      assert.deepEqual(
        logged.slice(2).map((line) => [line.level, line.message]),
        [["info", "embedding cache: Redis answers again"]],
      );
      store.setMany([{ key: "kill:a", value: value("a") }], undefined);
      assert.deepEqual(await store.getMany(["kill:a"]), [value("a")]);
    } finally {
      await store.close();
    }
  });

  it("frozen mid-run: a read waits no longer than its bound, then answers nothing", async (t) => {
    if (redis === undefined) return t.skip("redis-server is not available");
    const { store, clock, logged, connection } = setup(redis);
    try {
      await ready(connection);
      store.setMany([{ key: "frozen:a", value: value("a") }], undefined);
      assert.deepEqual(await store.getMany(["frozen:a"]), [value("a")]);
      redis.pause();
      try {
        let settled = false;
        const read = store.getMany(["frozen:a", "frozen:b"]).finally(() => (settled = true));
        const bound = READ_BASE_MS + 2 * READ_PER_KEY_MS;
        clock.advance(bound - 1);
        await Promise.resolve();
        assert.equal(settled, false);
        clock.advance(1);
        assert.deepEqual(await read, [undefined, undefined]);
        assert.match(String((logged[0]?.fields.err as { message: string }).message), new RegExp(`no answer within ${bound} ms`));
        // Paused after the failure: the next read does not wait at all.
        assert.deepEqual(await store.getMany(["frozen:a"]), [undefined]);
      } finally {
        redis.resume();
      }
    } finally {
      await store.close();
    }
  });
});
