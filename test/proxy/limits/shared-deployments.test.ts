/**
 * Two proxies on the same Redis share their deployments' rpm: a deployment with `rpm: 3` answers three
 * requests a minute in all, whichever proxy they reach. On the machine's Redis (127.0.0.1:6379); the
 * deployment's id is the run's own, and its keys are deleted afterwards.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { testApp } from "../../support/app.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { redisReachable } from "../../support/redis.js";
import { keysUnder } from "./redis-helpers.js";

const UID = "bge-small-en-v1.5";
const ID = `shared-rpm-${randomUUID().slice(0, 8)}`;

let emulator: Emulator;
let haveRedis = false;

before(async () => {
  haveRedis = await redisReachable({ host: "127.0.0.1", port: 6379 }, "shared-deployments.test.ts");
  emulator = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
});

after(async () => {
  await emulator?.close();
  if (!haveRedis) return;
  const redis = new Redis({ host: "127.0.0.1", port: 6379 });
  try {
    for (const prefix of [`xgate:limits:w:deployment:${ID}`, `xgate:router:`]) {
      const keys = (await keysUnder(redis, prefix)).filter((key) => key.includes(ID));
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    await redis.quit();
  }
});

test("a deployment's rpm holds across two proxies sharing Redis", async (t) => {
  if (!haveRedis) return t.skip("Redis not reachable at 127.0.0.1:6379");
  const yaml = `
model_list:
  - model_name: embed
    litellm_params: { model: "xinference/${UID}", api_base: "${emulator.baseUrl}", rpm: 3 }
    model_info: { id: ${ID} }
router_settings: { redis_host: 127.0.0.1, redis_port: 6379 }
`;
  const apps = [await testApp(yaml), await testApp(yaml)];
  try {
    await Promise.all(apps.map((app) => app.limiter.ready()));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await apps[i % 2]!.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: `request ${i}` } });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  } finally {
    await Promise.all(apps.map((app) => app.dispose()));
  }
});
