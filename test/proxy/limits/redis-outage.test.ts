/**
 * Redis killed under a running proxy: limits fall back to each instance's own counts without failing a
 * request, the log says so once, `/health/readiness` says so, and limits are shared again once Redis is
 * back. The test runs its own redis-server on a free port (on CI a missing redis-server fails it).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { testApp, type TestApp } from "../../support/app.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { Redis } from "ioredis";

const UID = "bge-small-en-v1.5";

let emulator: Emulator;
let port: number;
let redis: ChildProcess | undefined;
let haveRedisServer = true;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: chosen } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return chosen;
}

async function answers(): Promise<boolean> {
  const probe = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A redis-server of the test's own, keeping nothing on disk; resolves once it answers. */
async function startRedis(): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const spawned = await Promise.race([once(child, "spawn").then(() => true), once(child, "error").then(() => false)]);
  if (!spawned) {
    if (process.env.CI) throw new Error("redis-server is not installed; CI must have it, so redis-outage.test.ts may not be skipped there.");
    haveRedisServer = false;
    return child;
  }
  for (let tries = 0; !(await answers()); tries++) {
    if (tries > 50) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

async function killRedis(): Promise<void> {
  if (redis === undefined || redis.exitCode !== null) return;
  const exited = once(redis, "exit");
  redis.kill("SIGKILL");
  await exited;
}

before(async () => {
  emulator = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  port = await freePort();
  redis = await startRedis();
});

after(async () => {
  await killRedis();
  await emulator?.close();
});

function config(): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: "xinference/${UID}", api_base: "${emulator.baseUrl}", rpm: 1000 }
    model_info: { id: limited }
router_settings:
  redis_host: 127.0.0.1
  redis_port: ${port}
`;
}

interface RateLimits {
  mode: string;
  detail: string;
}

async function rateLimits(app: TestApp): Promise<RateLimits> {
  return (await app.app.inject({ method: "GET", url: "/health/readiness" })).json<{ rate_limits: RateLimits }>().rate_limits;
}

async function embed(app: TestApp): Promise<{ status: number; remaining: string | undefined }> {
  const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "outage" } });
  return { status: res.statusCode, remaining: res.headers["x-ratelimit-remaining-requests"] as string | undefined };
}

/** Waits, event by event, until the limiter is shared again: each `ready()` returns at the connection's next outcome. */
async function untilShared(app: TestApp): Promise<void> {
  for (let outcomes = 0; app.limiter.state().mode !== "shared"; outcomes++) {
    if (outcomes > 200) throw new Error(`limits never shared again: ${app.limiter.state().detail}`);
    await app.limiter.ready();
    if (app.limiter.state().mode !== "shared") await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function linesSaying(app: TestApp, text: string): Record<string, unknown>[] {
  return app.logLines().filter((line) => typeof line.msg === "string" && line.msg.includes(text));
}

test("Redis killed mid-run: every request answered, limits per instance, said once and in readiness; shared again when it is back", async (t) => {
  if (!haveRedisServer) return t.skip("redis-server is not installed (CI has it)");
  const app = await testApp(config());
  try {
    await Promise.all([app.router.ready(), app.limiter.ready()]);
    assert.equal((await rateLimits(app)).mode, "shared");
    const before = [];
    for (let i = 0; i < 3; i++) before.push(await embed(app));
    assert.deepEqual(
      before.map((each) => [each.status, each.remaining]),
      [
        [200, "999"],
        [200, "998"],
        [200, "997"],
      ],
    );

    await killRedis();
    const during = [];
    for (let i = 0; i < 10; i++) during.push(await embed(app));
    assert.deepEqual(new Set(during.map((each) => each.status)), new Set([200]), "no request failed");
    // Counted by this instance alone now: it starts from its own (empty) counts.
    assert.equal(during.at(-1)?.remaining, "990");
    const down = await rateLimits(app);
    assert.equal(down.mode, "per-instance");
    assert.match(down.detail, /^Redis \(127\.0\.0\.1:\d+\) not answering since \S+ \(.+\): each instance counts on its own until it is back$/);
    assert.equal(linesSaying(app, "rate limits: Redis is not answering").length, 1, "said once, not per request");

    redis = await startRedis();
    await untilShared(app);
    assert.equal((await rateLimits(app)).mode, "shared");
    assert.equal(linesSaying(app, "rate limits: Redis answers again").length, 1);
    // Shared again: Redis lost its counts with the restart, so the count starts over there.
    const back = await embed(app);
    assert.deepEqual([back.status, back.remaining], [200, "999"]);
  } finally {
    await app.dispose();
  }
});
