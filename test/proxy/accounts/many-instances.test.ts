// Three proxy processes on the machine's Postgres and Redis, as a team runs xgate behind a load balancer: a
// key's rpm_limit holds across all three, a key blocked on one is refused by the others within a second, and
// an instance killed with SIGKILL under load loses no spend row of an answer it gave.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import pg from "pg";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { freshSchema, postgresReachable, type TestSchema } from "../../support/postgres.js";
import { type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";
import { redisReachable } from "../../support/redis.js";

const MASTER_KEY = "sk-many-instances-master";
const FILE = "many-instances.test.ts";

let emulator: Emulator;
let schema: TestSchema | undefined;
const proxies: ProxyProcess[] = [];

function config(databaseUrl: string): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { input_cost_per_token: 0.000001 }
router_settings:
  redis_host: 127.0.0.1
  redis_port: 6379
general_settings:
  master_key: ${MASTER_KEY}
  database_url: "${databaseUrl}"
  proxy_batch_write_at: 1
`;
}

async function admin(proxy: ProxyProcess, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Record<string, unknown>;
}

async function embed(proxy: ProxyProcess, key: string): Promise<{ status: number; code?: string; id: string | null }> {
  const res = await fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "embed", input: "across instances" }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, id: res.headers.get("x-request-id"), ...(body.error && { code: body.error.code }) };
}

let ready = false;
before(async () => {
  const haveDatabases = (await postgresReachable(FILE)) && (await redisReachable({ host: "127.0.0.1", port: 6379 }, FILE));
  if (!haveDatabases) return;
  emulator = await startEmulator();
  schema = await freshSchema();
  const yaml = config(schema.url);
  // One at a time: the first migrates the schema; the others find it up to date (they could race: the lock
  // is tested in the store's own suite).
  for (let i = 0; i < 3; i++) proxies.push(await startProxyProcess(yaml));
  ready = true;
});

after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await emulator?.close();
  await schema?.drop();
});

describe("three instances on Postgres and Redis", () => {
  it("hold one rpm_limit across all of them", async (t) => {
    if (!ready) return t.skip("Postgres or Redis is not reachable");
    const { key } = (await admin(proxies[0]!, "/key/generate", { key_alias: "shared-rpm", rpm_limit: 30 })) as { key: string };
    const answers = await Promise.all(Array.from({ length: 45 }, (_unused, i) => embed(proxies[i % 3]!, key)));
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    // ±5% of 30, as the issue asks: counted in Redis, every instance sees the others' requests.
    assert.ok(Math.abs(ok - 30) <= 1.5, `${ok} of 45 were answered under an rpm_limit of 30`);
    assert.equal(ok + limited.length, 45);
    assert.ok(limited.every((a) => a.code === "rate_limit_exceeded"));
  });

  it("refuse a key blocked on one instance on every other within a second", async (t) => {
    if (!ready) return t.skip("Postgres or Redis is not reachable");
    const { key } = (await admin(proxies[0]!, "/key/generate", { key_alias: "revoked-soon" })) as { key: string };
    // Known (cached) on every instance first: revocation must reach caches, not only the database.
    for (const proxy of proxies) assert.equal((await embed(proxy, key)).status, 200);
    await admin(proxies[0]!, "/key/block", { key });
    const blockedAt = Date.now();
    for (const proxy of proxies.slice(1)) {
      let answer = await embed(proxy, key);
      while (answer.status === 200 && Date.now() - blockedAt < 1000) answer = await embed(proxy, key);
      assert.equal(answer.status, 401, `still served ${Date.now() - blockedAt} ms after the block`);
      assert.equal(answer.code, "key_blocked");
    }
    await admin(proxies[0]!, "/key/delete", { keys: [key] });
    const deletedAt = Date.now();
    for (const proxy of proxies.slice(1)) {
      let answer = await embed(proxy, key);
      while (answer.code !== "invalid_api_key" && Date.now() - deletedAt < 1000) answer = await embed(proxy, key);
      assert.equal(answer.code, "invalid_api_key");
    }
  });

  it("serve a key made on one instance to the openai client on the others, and follow its update and regenerate", async (t) => {
    if (!ready) return t.skip("Postgres or Redis is not reachable");
    const [a, b, c] = proxies as [ProxyProcess, ProxyProcess, ProxyProcess];
    const { key } = (await admin(a, "/key/generate", { key_alias: "openai-across", models: ["embed"] })) as { key: string };
    const client = (proxy: ProxyProcess, apiKey: string): OpenAI => new OpenAI({ baseURL: proxy.baseUrl, apiKey, maxRetries: 0 });
    const answer = await client(b, key).embeddings.create({ model: "embed", input: "hello" });
    assert.equal(answer.data.length, 1);
    // Its models taken away on one instance: refused on another within a second.
    await admin(a, "/key/update", { key, models: ["nothing-here"] });
    const updatedAt = Date.now();
    let refused: unknown;
    while (refused === undefined && Date.now() - updatedAt < 1000) {
      refused = await client(c, key).embeddings.create({ model: "embed", input: "hello" }).then(() => undefined, (error: unknown) => error);
    }
    assert.ok(refused instanceof OpenAI.AuthenticationError, String(refused));
    await admin(a, "/key/update", { key, models: ["embed"] });
    const { key: renewed } = (await admin(a, "/key/regenerate", { key })) as { key: string };
    const regeneratedAt = Date.now();
    let old: unknown;
    while (old === undefined && Date.now() - regeneratedAt < 1000) {
      old = await client(b, key).embeddings.create({ model: "embed", input: "hello" }).then(() => undefined, (error: unknown) => error);
    }
    assert.ok(old instanceof OpenAI.AuthenticationError, String(old));
    assert.equal((await client(c, renewed).embeddings.create({ model: "embed", input: "hello" })).data.length, 1);
  });

  it("lose no spend row of an answer when an instance is killed under load and restarted", async (t) => {
    if (!ready || schema === undefined) return t.skip("Postgres or Redis is not reachable");
    const { key, token } = (await admin(proxies[0]!, "/key/generate", { key_alias: "killed-under-load" })) as { key: string; token: string };
    const victim = proxies[2]!;
    const answered: string[] = [];
    let failed = 0;
    let stop = false;
    const CONCURRENCY = 8;
    const loops = Array.from({ length: CONCURRENCY }, async () => {
      while (!stop) {
        try {
          const answer = await embed(victim, key);
          if (answer.status === 200 && answer.id !== null) answered.push(answer.id);
        } catch {
          failed++; // the connection died with the process
        }
      }
    });
    while (answered.length < 150) await new Promise((resolve) => setTimeout(resolve, 5));
    await victim.stop("SIGKILL", { keepDir: true });
    stop = true;
    await Promise.all(loops);
    assert.ok(failed > 0 || answered.length >= 150);
    // Restarted on the same folder: it replays its journal before it listens.
    proxies[2] = await startProxyProcess(config(schema.url), { dir: victim.dir });

    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      const rows = await client.query<{ request_id: string }>("select request_id from xgate_spend_logs where api_key = $1 and status = 'success'", [token]);
      const recorded = new Set(rows.rows.map((row) => row.request_id));
      const lost = answered.filter((id) => !recorded.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${answered.length} answers have no spend row`);
      // A row beyond the answers can only be of a request whose answer was on its way when the process died.
      assert.ok(recorded.size - answered.length <= CONCURRENCY, `${recorded.size} rows for ${answered.length} answers`);
      const spend = await client.query<{ spend: number }>("select spend from xgate_keys where token = $1", [token]);
      assert.ok((spend.rows[0]?.spend ?? 0) > 0, "the key was charged");
    } finally {
      await client.end();
    }
  });
});
