/**
 * Deployments' rpm as a user meets it, through the `openai` client: a group of two deployments with `rpm: 2`
 * each answers four requests a minute, the third and fourth on the deployment not yet full; the fifth gets a
 * 429 with Retry-After and x-ratelimit-* headers, counted against neither deployment's health; and the
 * client's own retries wait what Retry-After says, then get their answer.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import OpenAI, { RateLimitError } from "openai";
import { MemoryLimiter } from "../../src/proxy/limits/index.js";
import { FakeClock } from "./router/helpers.js";
import { testApp } from "../support/app.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { fetchHealth, type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const MASTER_KEY = "sk-deployment-limits-master";
const UID = "bge-small-en-v1.5";

let first: Emulator;
let second: Emulator;

before(async () => {
  first = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  second = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
});

after(async () => {
  await Promise.all([first?.close(), second?.close()]);
});

function config(): string {
  const deployment = (id: string, emulator: Emulator): string => `
  - model_name: embed
    litellm_params:
      model: xinference/${UID}
      api_base: ${emulator.baseUrl}
      rpm: 2
    model_info:
      id: ${id}`;
  return `model_list:${deployment("first", first)}${deployment("second", second)}
general_settings:
  master_key: ${MASTER_KEY}
`;
}

function embeddingsCalls(emulator: Emulator): number {
  return emulator.requests.filter((request) => request.path === "/v1/embeddings").length;
}

describe("deployments at their rpm, through the CLI", () => {
  let proxy: ProxyProcess;

  before(async () => {
    first.clearRequests();
    second.clearRequests();
    proxy = await startProxyProcess(config());
  });

  after(async () => proxy?.stop());

  test("four answers, two per deployment, counting down; the fifth is a 429 with Retry-After and the group's quota", async () => {
    const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl, maxRetries: 0 });
    const answered: { deployment: string | null; limit: string | null; remaining: string | null }[] = [];
    for (let i = 0; i < 4; i++) {
      const { data, response } = await client.embeddings.create({ model: "embed", input: `request ${i}` }).withResponse();
      assert.equal(data.data.length, 1);
      answered.push({
        deployment: response.headers.get("x-xgate-deployment"),
        limit: response.headers.get("x-ratelimit-limit-requests"),
        remaining: response.headers.get("x-ratelimit-remaining-requests"),
      });
    }
    assert.deepEqual(
      answered.map((each) => [each.limit, each.remaining]),
      [
        ["4", "3"],
        ["4", "2"],
        ["4", "1"],
        ["4", "0"],
      ],
    );
    assert.deepEqual(answered.map((each) => each.deployment).sort(), ["first", "first", "second", "second"]);

    const refusal = await client.embeddings.create({ model: "embed", input: "one too many" }).then(
      () => assert.fail("the fifth request was answered"),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof RateLimitError, String(refusal));
    assert.equal(refusal.status, 429);
    assert.equal(refusal.type, "throttling_error");
    assert.equal(refusal.code, "rate_limit_exceeded");
    assert.match(refusal.message, /every deployment of model group 'embed' is at its limit\. deployment '(first|second)' is at its rpm \(2 requests a minute\)/);
    const retryAfter = Number(refusal.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 61, `Retry-After: ${retryAfter}`);
    assert.equal(refusal.headers.get("x-ratelimit-limit-requests"), "4");
    assert.equal(refusal.headers.get("x-ratelimit-remaining-requests"), "0");

    assert.equal(embeddingsCalls(first), 2);
    assert.equal(embeddingsCalls(second), 2);
    const health = await fetchHealth(proxy, MASTER_KEY);
    assert.equal(health.unhealthy_count, 0, "a deployment at its limit is not a failing one");
    const readiness = (await (await fetch(`${proxy.url}/health/readiness`)).json()) as { rate_limits: { mode: string } };
    assert.equal(readiness.rate_limits.mode, "in-process");
  });
});

describe("the openai client's retries on a limit's 429", () => {
  test("it waits what Retry-After says, and its retry is answered once the minute has moved on", async () => {
    first.clearRequests();
    second.clearRequests();
    const clock = new FakeClock();
    const app = await testApp(config(), { limiter: new MemoryLimiter({ clock }) });
    const realSetTimeout = globalThis.setTimeout;
    const schedule = realSetTimeout as (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => NodeJS.Timeout;
    try {
      await app.app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.app.server.address() as AddressInfo;
      const statuses: number[] = [];
      // The wait a 429 asked for, in ms: the client's sleep of that length is the one taken over below.
      let asked: number | undefined;
      const client = new OpenAI({
        apiKey: MASTER_KEY,
        baseURL: `http://127.0.0.1:${port}/v1`,
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          statuses.push(response.status);
          if (response.status === 429) asked = Number(response.headers.get("retry-after")) * 1000;
          return response;
        },
      });
      // The client sleeps with setTimeout: its wait moves the limiter's clock instead of the test waiting it out.
      const waited: number[] = [];
      globalThis.setTimeout = ((handler: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
        if (asked === undefined || ms !== asked) return schedule(handler, ms, ...rest);
        waited.push(ms);
        asked = undefined;
        clock.advance(ms);
        return schedule(handler, 0, ...rest);
      }) as typeof setTimeout;

      for (let i = 0; i < 4; i++) await client.embeddings.create({ model: "embed", input: `request ${i}` });
      const fifth = await client.embeddings.create({ model: "embed", input: "the fifth" });
      assert.equal(fifth.data.length, 1);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 200]);
      assert.deepEqual(waited, [61_000], "one wait, of the Retry-After the 429 gave");
      assert.equal(embeddingsCalls(first) + embeddingsCalls(second), 5);
    } finally {
      globalThis.setTimeout = realSetTimeout;
      await app.dispose();
    }
  });
});
