/**
 * What `/metrics` counts, read as Prometheus reads it: the proxy built on the emulator, requests sent, then
 * the series scraped and parsed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ACCOUNTS_MASTER_KEY, accountsApp } from "../../support/accounts-app.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { testApp, type TestApp } from "../../support/app.js";
import { parseMetrics, type Sample, samplesOf, valueOf } from "../../support/metrics.js";

const MASTER = "sk-metrics-master-key-1234";
const AUTH = { authorization: `Bearer ${MASTER}` };
/** Nothing listens there: a deployment on it fails at once with connection_error. */
const DEAD = "http://127.0.0.1:9";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ tokenDelayMs: 0 });
});
after(async () => {
  await emulator?.close();
});

function config(extra = ""): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}", input_cost_per_token: 0.001 }
    model_info: { id: embed-1 }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: "${emulator.baseUrl}", input_cost_per_token: 0.001, output_cost_per_token: 0.002 }
    model_info: { id: chat-1 }
  - model_name: broken
    litellm_params: { model: xinference/bge-base-en, api_base: "${DEAD}" }
    model_info: { id: broken-1 }
general_settings: { master_key: ${MASTER} }
${extra}`;
}

async function scrape(app: TestApp, headers: Record<string, string> = AUTH): Promise<Sample[]> {
  const res = await app.app.inject({ method: "GET", url: "/metrics", headers });
  assert.equal(res.statusCode, 200, res.body);
  return parseMetrics(res.body);
}

async function embed(app: TestApp, model: string, input: unknown = "a sentence", headers: Record<string, string> = AUTH) {
  return app.app.inject({ method: "POST", url: "/v1/embeddings", headers, payload: { model, input } });
}

describe("requests by route, model group and status class", () => {
  test("answers and refusals before any upstream call (400, 401, 404) are all counted, by class", async () => {
    const app = await testApp(config());
    try {
      assert.equal((await embed(app, "embed")).statusCode, 200);
      assert.equal((await embed(app, "embed")).statusCode, 200);
      assert.equal((await embed(app, "embed", 42)).statusCode, 400);
      assert.equal((await embed(app, "embed", "x", {})).statusCode, 401);
      assert.equal((await embed(app, "embed", "x", { authorization: "Bearer sk-not-a-key" })).statusCode, 401);
      assert.equal((await app.app.inject({ method: "GET", url: "/no/such/route-made-up-by-a-client", headers: AUTH })).statusCode, 404);
      const text = (await app.app.inject({ method: "GET", url: "/metrics", headers: AUTH })).body;
      assert.ok(!text.includes("made-up-by-a-client"), "an unmatched path is no label value");
      const samples = parseMetrics(text);
      const route = "/v1/embeddings";
      assert.equal(valueOf(samples, "xgate_requests_total", { route, model_group: "embed", status_class: "2xx" }), 2);
      // A body refused by parsing names no model yet (`none`), nor does a 401, refused before the body is read.
      assert.equal(valueOf(samples, "xgate_requests_total", { route, model_group: "embed", status_class: "4xx" }), 0);
      assert.equal(valueOf(samples, "xgate_requests_total", { route, model_group: "none", status_class: "4xx" }), 3);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "(unmatched)", model_group: "none", status_class: "4xx" }), 1);
      assert.equal(valueOf(samples, "xgate_request_duration_seconds_count", { route, model_group: "embed" }), 2);
      assert.ok(valueOf(samples, "xgate_request_duration_seconds_sum", { route, model_group: "embed" }) > 0);
    } finally {
      await app.dispose();
    }
  });

  test("a model the config does not know is `unknown`: 100 made-up names make one series, none of them a label", async () => {
    const app = await testApp(config());
    try {
      const names = Array.from({ length: 100 }, (_unused, i) => `made-up-${i}-${Math.random().toString(36).slice(2)}`);
      for (const name of names) assert.equal((await embed(app, name)).statusCode, 404);
      const res = await app.app.inject({ method: "GET", url: "/metrics", headers: AUTH });
      const samples = parseMetrics(res.body);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/embeddings", model_group: "unknown", status_class: "4xx" }), 100);
      assert.equal(samplesOf(samples, "xgate_requests_total").length, 1, "one series for all 100 names");
      assert.equal(samplesOf(samples, "xgate_request_duration_seconds_count").length, 1);
      for (const name of names) assert.ok(!res.body.includes(name), `${name} is no label value`);
    } finally {
      await app.dispose();
    }
  });

  test("a 5xx is counted as 5xx, and the failed attempt's duration under its deployment", async () => {
    const app = await testApp(config());
    try {
      const res = await embed(app, "broken");
      assert.ok(res.statusCode >= 500, `${res.statusCode}`);
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/embeddings", model_group: "broken", status_class: "5xx" }), 1);
      assert.ok(valueOf(samples, "xgate_upstream_duration_seconds_count", { model_group: "broken", deployment: "broken-1", outcome: "failure" }) >= 1);
      assert.equal(valueOf(samples, "xgate_upstream_duration_seconds_count", { deployment: "broken-1", outcome: "success" }), 0);
    } finally {
      await app.dispose();
    }
  });
});

describe("what requests used and cost", () => {
  test("tokens, spend and upstream time per deployment after an embedding and a chat", async () => {
    const app = await testApp(config());
    try {
      const embedded = await embed(app, "embed", ["one sentence", "and another one"]);
      assert.equal(embedded.statusCode, 200);
      const chatted = await app.app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        headers: AUTH,
        payload: { model: "chat", messages: [{ role: "user", content: "count my tokens" }], max_tokens: 12 },
      });
      assert.equal(chatted.statusCode, 200);
      const embedUsage = (embedded.json() as { usage: { prompt_tokens: number } }).usage;
      const chatUsage = (chatted.json() as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_tokens_total", { model_group: "embed", direction: "input" }), embedUsage.prompt_tokens);
      assert.equal(valueOf(samples, "xgate_tokens_total", { model_group: "embed", direction: "output" }), 0);
      assert.equal(valueOf(samples, "xgate_tokens_total", { model_group: "chat", direction: "input" }), chatUsage.prompt_tokens);
      assert.equal(valueOf(samples, "xgate_tokens_total", { model_group: "chat", direction: "output" }), chatUsage.completion_tokens);
      const embedCost = Number(embedded.headers["x-litellm-response-cost"]);
      const chatCost = Number(chatted.headers["x-litellm-response-cost"]);
      assert.ok(embedCost > 0 && chatCost > 0);
      assert.ok(Math.abs(valueOf(samples, "xgate_spend_usd_total", { model_group: "embed", team: "none" }) - embedCost) < 1e-12);
      assert.ok(Math.abs(valueOf(samples, "xgate_spend_usd_total", { model_group: "chat", team: "none" }) - chatCost) < 1e-12);
      assert.equal(valueOf(samples, "xgate_upstream_duration_seconds_count", { model_group: "embed", deployment: "embed-1", outcome: "success" }), 1);
      assert.equal(valueOf(samples, "xgate_upstream_duration_seconds_count", { model_group: "chat", deployment: "chat-1", outcome: "success" }), 1);
      assert.ok(valueOf(samples, "xgate_upstream_duration_seconds_sum", { deployment: "embed-1" }) > 0);
      // A whole answer is no stream: no time to first token.
      assert.equal(valueOf(samples, "xgate_time_to_first_token_seconds_count", { model_group: "chat" }), 0);
    } finally {
      await app.dispose();
    }
  });

  test("a streamed chat: time to first token and tokens per second are observed", async () => {
    const app = await testApp(config());
    try {
      const res = await app.app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        headers: AUTH,
        payload: { model: "chat", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "stream to me" }], max_tokens: 16 },
      });
      assert.equal(res.statusCode, 200);
      const usage = res.body
        .split("\n")
        .filter((line) => line.startsWith("data: {"))
        .map((line) => JSON.parse(line.slice(6)) as { usage?: { completion_tokens: number } })
        .find((chunk) => chunk.usage != null)?.usage;
      assert.ok(usage !== undefined && usage.completion_tokens > 0);
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_time_to_first_token_seconds_count", { model_group: "chat" }), 1);
      const ttft = valueOf(samples, "xgate_time_to_first_token_seconds_sum", { model_group: "chat" });
      const total = valueOf(samples, "xgate_request_duration_seconds_sum", { route: "/v1/chat/completions", model_group: "chat" });
      assert.ok(ttft > 0 && ttft <= total, `time to first token ${ttft} within the request's ${total} s`);
      assert.equal(valueOf(samples, "xgate_stream_tokens_per_second_count", { model_group: "chat" }), 1);
      assert.ok(valueOf(samples, "xgate_stream_tokens_per_second_sum", { model_group: "chat" }) > 0);
      assert.equal(valueOf(samples, "xgate_tokens_total", { model_group: "chat", direction: "output" }), usage.completion_tokens);
    } finally {
      await app.dispose();
    }
  });

  test("generated images are counted", async () => {
    const yaml = `
model_list:
  - model_name: draw
    litellm_params: { model: xinference/sd-turbo, api_base: "${emulator.baseUrl}" }
general_settings: { master_key: ${MASTER} }
`;
    const app = await testApp(yaml);
    try {
      const res = await app.app.inject({ method: "POST", url: "/v1/images/generations", headers: AUTH, payload: { model: "draw", prompt: "a lighthouse", n: 2, size: "64x64" } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(valueOf(await scrape(app), "xgate_images_total", { model_group: "draw" }), 2);
    } finally {
      await app.dispose();
    }
  });

  test("cache hits and misses are counted per input", async () => {
    const app = await testApp(config("litellm_settings:\n  cache: true\n"));
    try {
      assert.equal((await embed(app, "embed", ["alpha", "beta"])).statusCode, 200);
      const second = await embed(app, "embed", ["alpha", "gamma"]);
      assert.equal(second.headers["x-xgate-cache-hits"], "1/2");
      const third = await embed(app, "embed", "alpha");
      assert.equal(third.headers["x-xgate-cache-hits"], "1/1");
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_cache_hits_total", { model_group: "embed" }), 2);
      assert.equal(valueOf(samples, "xgate_cache_misses_total", { model_group: "embed" }), 3);
    } finally {
      await app.dispose();
    }
  });
});

describe("deployments", () => {
  test("a deployment that fails cools down: the counter goes up and its health gauge to 0; the others stay 1", async () => {
    const app = await testApp(config());
    try {
      const before = await scrape(app);
      assert.equal(valueOf(before, "xgate_deployment_healthy", { model_group: "broken", deployment: "broken-1" }), 1);
      assert.equal(valueOf(before, "xgate_deployment_cooldowns_total", { deployment: "broken-1" }), 0);
      assert.ok((await embed(app, "broken")).statusCode >= 500);
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_deployment_cooldowns_total", { model_group: "broken", deployment: "broken-1" }), 1);
      assert.equal(valueOf(samples, "xgate_deployment_healthy", { model_group: "broken", deployment: "broken-1" }), 0);
      assert.equal(valueOf(samples, "xgate_deployment_healthy", { model_group: "embed", deployment: "embed-1" }), 1);
      assert.equal(valueOf(samples, "xgate_deployment_healthy", { model_group: "chat", deployment: "chat-1" }), 1);
    } finally {
      await app.dispose();
    }
  });

  test("a wildcard deployment's series are named by its configured id, never by the client's model", async () => {
    const yaml = `
model_list:
  - model_name: "xinference/*"
    litellm_params: { model: "xinference/*", api_base: "${emulator.baseUrl}" }
    model_info: { id: any-model }
general_settings: { master_key: ${MASTER} }
`;
    const app = await testApp(yaml);
    try {
      assert.equal((await embed(app, "xinference/bge-small-en-v1.5")).statusCode, 200);
      const res = await app.app.inject({ method: "GET", url: "/metrics", headers: AUTH });
      const samples = parseMetrics(res.body);
      assert.equal(valueOf(samples, "xgate_upstream_duration_seconds_count", { model_group: "xinference/*", deployment: "any-model", outcome: "success" }), 1);
      assert.ok(!res.body.includes("bge-small"), "the client's model is no label value");
    } finally {
      await app.dispose();
    }
  });
});

/** A proxy listening on a port, whose chat model streams a token every 40 ms: a stream that stays open a while. */
async function slowChatProxy(): Promise<{ slow: Emulator; app: TestApp; port: number }> {
  const slow = await startEmulator({ tokenDelayMs: 40 });
  const app = await testApp(`
model_list:
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: "${slow.baseUrl}" }
general_settings: { master_key: ${MASTER} }
`);
  await app.app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.app.server.address();
  return { slow, app, port: typeof address === "object" && address !== null ? address.port : 0 };
}

describe("requests in flight", () => {
  test("a stream held open is in flight; once it is done, none are (the scrape itself never counts)", async () => {
    const { slow, app, port } = await slowChatProxy();
    try {
      assert.equal(valueOf(await scrape(app), "xgate_in_flight_requests"), 0);
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat", stream: true, messages: [{ role: "user", content: "take your time" }], max_tokens: 8 }),
      });
      const reader = res.body!.getReader();
      await reader.read(); // the stream has begun
      assert.equal(valueOf(await scrape(app), "xgate_in_flight_requests"), 1);
      while (!(await reader.read()).done);
      // The response's close is what ends it in flight: wait for it rather than for a time.
      while (app.activeRequests() > 0) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(valueOf(await scrape(app), "xgate_in_flight_requests"), 0);
    } finally {
      await app.dispose();
      await slow.close();
    }
  });
});

describe("a stream whose client leaves mid-way", () => {
  test("is counted as 4xx (its log line's 499), with its time to first token, and is no longer in flight", async () => {
    const { slow, app, port } = await slowChatProxy();
    try {
      const leaving = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        signal: leaving.signal,
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat", stream: true, messages: [{ role: "user", content: "I will not wait" }], max_tokens: 64 }),
      });
      await res.body!.getReader().read(); // the stream has begun
      leaving.abort();
      while (app.activeRequests() > 0) await new Promise((resolve) => setImmediate(resolve));
      const samples = await scrape(app);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/chat/completions", model_group: "chat", status_class: "4xx" }), 1);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/chat/completions", status_class: "2xx" }), 0);
      assert.equal(valueOf(samples, "xgate_time_to_first_token_seconds_count", { model_group: "chat" }), 1);
      assert.equal(valueOf(samples, "xgate_stream_tokens_per_second_count", { model_group: "chat" }), 0, "no usage: the answer never finished");
      assert.equal(valueOf(samples, "xgate_in_flight_requests"), 0);
      const lines = app.logLines().filter((line) => line.route === "/v1/chat/completions");
      assert.deepEqual(
        lines.map((line) => [line.status, line.error_code]),
        [[499, "client_closed_request"]],
      );
    } finally {
      await app.dispose();
      await slow.close();
    }
  });
});

describe("refusals of limits and budgets, and spend by team and key", () => {
  const yaml = (extra = "") => `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}", input_cost_per_token: 0.001 }
general_settings: { master_key: ${ACCOUNTS_MASTER_KEY}${extra} }
`;

  async function embedWith(url: string, key: string): Promise<Response> {
    return fetch(`${url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "spend me" }),
    });
  }

  async function scrapeProxy(url: string): Promise<Sample[]> {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ACCOUNTS_MASTER_KEY}` } });
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  }

  test("a 429 of a rate limit and one of a budget are counted as 4xx and as refusals; spend is by team, no key label", async () => {
    const proxy = await accountsApp(yaml());
    try {
      await proxy.admin("/team/new", { team_id: "team-metrics", team_alias: "metrics" });
      const limited = await proxy.admin("/key/generate", { key_alias: "limited", rpm_limit: 1, team_id: "team-metrics" });
      const broke = await proxy.admin("/key/generate", { key_alias: "broke", max_budget: 0 });
      const answered = await embedWith(proxy.url, limited.key);
      assert.equal(answered.status, 200);
      const cost = Number(answered.headers.get("x-litellm-response-cost"));
      const refused = await embedWith(proxy.url, limited.key);
      assert.equal(refused.status, 429);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "rate_limit_exceeded");
      const overBudget = await embedWith(proxy.url, broke.key);
      assert.equal(overBudget.status, 429);
      assert.equal(((await overBudget.json()) as { error: { code: string } }).error.code, "budget_exceeded");

      const samples = await scrapeProxy(proxy.url);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/embeddings", model_group: "embed", status_class: "4xx" }), 2);
      assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/embeddings", model_group: "embed", status_class: "2xx" }), 1);
      assert.equal(valueOf(samples, "xgate_rate_limit_refusals_total", { model_group: "embed", code: "rate_limit_exceeded" }), 1);
      assert.equal(valueOf(samples, "xgate_budget_refusals_total", { model_group: "embed" }), 1);
      const spend = samplesOf(samples, "xgate_spend_usd_total");
      assert.deepEqual(spend.map((s) => s.labels), [{ model_group: "embed", team: "team-metrics" }]);
      assert.ok(Math.abs(spend[0]!.value - cost) < 1e-12);
    } finally {
      await proxy.close();
    }
  });

  test("with metrics_key_labels, spend carries the key's alias", async () => {
    const proxy = await accountsApp(yaml(", metrics_key_labels: true"));
    try {
      const made = await proxy.admin("/key/generate", { key_alias: "labelled-key" });
      assert.equal((await embedWith(proxy.url, made.key)).status, 200);
      assert.equal((await embedWith(proxy.url, ACCOUNTS_MASTER_KEY)).status, 200);
      const spend = samplesOf(await scrapeProxy(proxy.url), "xgate_spend_usd_total");
      assert.deepEqual(
        spend.map((s) => s.labels).sort((a, b) => (a.key_alias ?? "").localeCompare(b.key_alias ?? "")),
        [
          { model_group: "embed", team: "none", key_alias: "" },
          { model_group: "embed", team: "none", key_alias: "labelled-key" },
        ],
      );
    } finally {
      await proxy.close();
    }
  });
});
