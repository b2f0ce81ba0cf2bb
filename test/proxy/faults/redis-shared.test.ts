/**
 * Two proxy processes with the same config share cooldowns through the machine's Redis (127.0.0.1:6379):
 * a deployment one of them saw fail is avoided by the other, which never calls it.
 *
 * The config has no Redis namespace of its own, so each run gives its deployments unique ids (every router
 * key names its deployment) and deletes their keys afterwards. On CI a missing Redis fails the test.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";
import { redisReachable } from "../../support/redis.js";

const REDIS_HOST = "127.0.0.1";
const REDIS_PORT = 6379;
const MASTER_KEY = "sk-redis-shared-master";
const UID = "bge-small-en-v1.5";
const RUN = randomUUID().slice(0, 8);
const FLAKY = `flaky-${RUN}`;
const STEADY = `steady-${RUN}`;


let haveRedis = false;
let flaky: Emulator;
let steady: Emulator;
const proxies: ProxyProcess[] = [];

function config(): string {
  const entry = (id: string, emulator: Emulator, order: number): string => `
  - model_name: embed
    litellm_params:
      model: xinference/${UID}
      api_base: ${emulator.baseUrl}
      order: ${order}
    model_info:
      id: ${id}`;
  // Order tiers make each proxy's first choice the flaky deployment, unless it knows that one is cooling down.
  return `model_list:${entry(FLAKY, flaky, 1)}${entry(STEADY, steady, 2)}
router_settings:
  redis_host: ${REDIS_HOST}
  redis_port: ${REDIS_PORT}
  cooldown_time: 60
general_settings:
  master_key: ${MASTER_KEY}
`;
}

before(async () => {
  haveRedis = await redisReachable({ host: REDIS_HOST, port: REDIS_PORT }, "redis-shared.test.ts");
  if (!haveRedis) return;
  flaky = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  steady = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  for (let i = 0; i < 2; i++) proxies.push(await startProxyProcess(config()));
});

after(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all([flaky?.close(), steady?.close()]);
  if (!haveRedis) return;
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `xgate:router:*${RUN}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
});

async function embed(proxy: ProxyProcess): Promise<Response> {
  return fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "embed", input: "shared" }),
  });
}

function embeddingCalls(emulator: Emulator): number {
  return emulator.requests.filter((r) => r.path === "/v1/embeddings").length;
}

describe("cooldowns shared through Redis by two proxy processes", () => {
  test("a deployment one proxy saw fail, the other avoids", async (t) => {
    if (!haveRedis) return t.skip(`Redis not reachable at ${REDIS_HOST}:${REDIS_PORT}`);
    const [first, second] = proxies;
    assert.ok(first && second);

    flaky.setFault("embeddings", { kind: "status", status: 429, body: { detail: `Rate limit reached for the model: ${UID}` } });
    const moved = await embed(first);
    assert.equal(moved.status, 200);
    assert.equal(moved.headers.get("x-xgate-deployment"), STEADY);
    assert.equal(moved.headers.get("x-xgate-attempts"), "2");
    assert.equal(embeddingCalls(flaky), 1);

    // The second proxy never saw the 429, yet goes straight to the steady deployment.
    for (let i = 0; i < 10; i++) {
      const res = await embed(second);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-xgate-deployment"), STEADY);
      assert.equal(res.headers.get("x-xgate-attempts"), null);
    }
    assert.equal(embeddingCalls(flaky), 1, "the second proxy called the cooled deployment");

    const health = await fetch(`${second.url}/health`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    const report = (await health.json()) as { unhealthy_endpoints: { deployment_id: string; error?: string }[] };
    const entry = report.unhealthy_endpoints.find((e) => e.deployment_id === FLAKY);
    assert.match(entry?.error ?? "", /cooling down: 429: Rate limit reached for the model/);
  });
});
