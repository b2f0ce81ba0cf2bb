// The embedding cache in Redis as users run it: two proxy processes share entries through the machine's Redis
// (127.0.0.1:6379), and a proxy whose Redis is killed mid-run answers every request from the upstream, as if
// nothing were cached, with one log line for the failures.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";
import { type PrivateRedis, redisReachable, startPrivateRedis } from "../../support/redis.js";
import { testApp } from "../../support/app.js";

const NAMESPACE = `xgate-test-cache-${randomUUID().slice(0, 8)}`;
const MASTER_KEY = "sk-cache-shared-master";

let emulator: Emulator;
let haveRedis = false;
before(async () => {
  emulator = await startEmulator();
  haveRedis = await redisReachable({ host: "127.0.0.1", port: 6379 }, "redis-shared.test.ts (cache)");
});
after(async () => {
  await emulator.close();
  if (!haveRedis) return;
  const redis = new Redis({ host: "127.0.0.1", port: 6379 });
  try {
    const keys = await redis.keys(`${NAMESPACE}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
});

function config(cacheParams: string): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
litellm_settings:
  cache: true
  cache_params: ${cacheParams}
general_settings:
  master_key: ${MASTER_KEY}
`;
}

function embeddingCalls(): number {
  return emulator.requests.filter((r) => r.path === "/v1/embeddings").length;
}

async function embed(url: string, input: string[], encoding_format: "float" | "base64"): Promise<{ hits: string | null; body: string }> {
  const res = await fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "embed", input, encoding_format }),
  });
  assert.equal(res.status, 200);
  const body = await res.text();
  return { hits: res.headers.get("x-xgate-cache-hits"), body: body.slice(0, body.indexOf(',"usage":')) };
}

describe("the embedding cache in Redis", () => {
  it("two proxy processes share entries: what one fetched, the other answers without the upstream", async (t) => {
    if (!haveRedis) return t.skip("Redis is not reachable at 127.0.0.1:6379");
    const yaml = config(`{ type: redis, host: 127.0.0.1, port: 6379, namespace: ${NAMESPACE}, ttl: 600 }`);
    const proxies: ProxyProcess[] = [await startProxyProcess(yaml), await startProxyProcess(yaml)];
    try {
      const [first, second] = proxies as [ProxyProcess, ProxyProcess];
      for (const encoding_format of ["float", "base64"] as const) {
        const input = [`shared ${encoding_format} a`, `shared ${encoding_format} b`];
        const calls = embeddingCalls();
        const fetched = await embed(first.url, input, encoding_format);
        assert.equal(fetched.hits, "0/2");
        // The first proxy writes in the background, on the connection it reads on: once this read of its own
        // is answered, its writes are in Redis.
        assert.equal((await embed(first.url, input, encoding_format)).hits, "2/2");
        const shared = await embed(second.url, input, encoding_format);
        assert.equal(shared.hits, "2/2", "the second proxy found the first one's entries");
        assert.equal(shared.body, fetched.body);
        assert.equal(embeddingCalls(), calls + 1, "one upstream call for both proxies");
      }
    } finally {
      await Promise.all(proxies.map((p) => p.stop()));
    }
  });

  it("a Redis killed mid-run: requests go upstream as if nothing were cached, never failing, and the failure is logged", async (t) => {
    const redis: PrivateRedis | undefined = await startPrivateRedis("redis-shared.test.ts (cache)");
    if (redis === undefined) return t.skip("redis-server is not available");
    const app = await testApp(config(`{ type: redis, host: 127.0.0.1, port: ${redis.port} }`));
    try {
      await app.ready();
      const url = await app.app.listen({ host: "127.0.0.1", port: 0 });
      await embed(url, ["before the kill"], "base64");
      assert.equal((await embed(url, ["before the kill"], "base64")).hits, "1/1");

      await redis.kill();
      const calls = embeddingCalls();
      for (let i = 0; i < 3; i++) {
        const answer = await embed(url, ["before the kill", `after the kill ${i}`], "base64");
        assert.equal(answer.hits, "0/2");
      }
      assert.equal(embeddingCalls(), calls + 3);
      const failures = app.logLines().filter((line) => String(line.msg).startsWith("embedding cache: Redis failed"));
      assert.equal(failures.length, 1, "logged once, not per request");
      assert.equal(failures[0]?.level, 40);
    } finally {
      await app.dispose();
      await redis.kill();
    }
  });
});
