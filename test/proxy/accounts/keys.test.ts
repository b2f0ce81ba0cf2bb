// Virtual keys end to end, as a team running xgate meets them: keys made with the admin API, used with the
// `openai` npm client against the Xinference emulator, and what that leaves — the answers' headers, the spend
// rows, budgets and rate limits refusing what they must and serving again when they should. In process, one
// app on a temp SQLite file and a fake clock (see test/support/accounts-app.ts), listening on port 0.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { type AccountsApp, ACCOUNTS_MASTER_KEY, accountsApp } from "../../support/accounts-app.js";
import { testApp } from "../../support/app.js";
import { type Emulator, type RecordedRequest, startEmulator } from "../../support/emulator/index.js";

const EMBED_PRICE = 0.001;
const CHAT_INPUT_PRICE = 0.001;
const CHAT_OUTPUT_PRICE = 0.002;
const HOUR = 3_600_000;

function config(emulator: Emulator, extra = ""): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { id: embed-1, input_cost_per_token: ${EMBED_PRICE} }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${emulator.baseUrl} }
    model_info: { id: chat-1, input_cost_per_token: ${CHAT_INPUT_PRICE}, output_cost_per_token: ${CHAT_OUTPUT_PRICE} }
router_settings:
  num_retries: 0
  allowed_fails: 1000
general_settings:
  master_key: ${ACCOUNTS_MASTER_KEY}
${extra}`;
}

let emulator: Emulator;
let proxy: AccountsApp;
/** Called with every request the emulator has answered, or dropped (a stall). */
const arrivals = new Set<(request: RecordedRequest) => void>();

before(async () => {
  emulator = await startEmulator({ onRequest: (request) => arrivals.forEach((listener) => listener(request)) });
  proxy = await accountsApp(config(emulator));
});

after(async () => {
  await proxy?.close();
  await emulator?.close();
});

/** The next request the emulator takes on this path. */
function nextArrival(path: string): Promise<RecordedRequest> {
  return new Promise((resolve) => {
    const listener = (request: RecordedRequest): void => {
      if (request.path !== path) return;
      arrivals.delete(listener);
      resolve(request);
    };
    arrivals.add(listener);
  });
}

function upstreamCalls(path = "/v1/embeddings"): number {
  return emulator.requests.filter((request) => request.path === path).length;
}

/** What the emulator counts for an embedding input: a token per 4 characters, and [CLS] and [SEP]. */
function embedTokens(input: string): number {
  return Math.ceil(input.length / 4) + 2;
}

/** A client that does not retry: a refusal is seen as it is, at once. */
function client(key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: proxy.baseUrl, maxRetries: 0 });
}

async function embed(key: string, input = "the quick brown fox", options: { model?: string; user?: string } = {}) {
  return client(key)
    .embeddings.create({ model: options.model ?? "embed", input, ...(options.user !== undefined && { user: options.user }) })
    .withResponse();
}

/** The error a call fails with: it must fail. */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  assert.fail("the call succeeded");
}

type Row = Record<string, unknown> & { metadata: Record<string, unknown> };

/** The spend rows of a request, after a flush, as /spend/logs answers them. */
async function spendRows(requestId: string): Promise<Row[]> {
  await proxy.flush();
  const answer = await proxy.call("GET", `/spend/logs?request_id=${encodeURIComponent(requestId)}&summarize=false`);
  assert.equal(answer.status, 200);
  return answer.body as unknown as Row[];
}

async function spendRow(requestId: string): Promise<Row> {
  const rows = await spendRows(requestId);
  assert.equal(rows.length, 1, `one row for ${requestId}`);
  return rows[0] as Row;
}

async function storedSpend(token: string): Promise<number> {
  await proxy.flush();
  const answer = await proxy.call("GET", `/key/info?key=${token}`);
  assert.equal(answer.status, 200);
  return (answer.body.info as { spend: number }).spend;
}

function close(actual: number | string | null | undefined, expected: number, what = "amount"): void {
  const value = Number(actual);
  assert.ok(Math.abs(value - expected) < 1e-9, `${what}: ${String(actual)}, expected ${expected}`);
}

/** Resolves once `condition` holds, looked at every few milliseconds; fails after 5 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > giveUp) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("a key's requests and their spend", () => {
  test("an embedding answer carries its cost, the key's spend and its limits; its row has the request but never its input or key", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "app-one", rpm_limit: 100, tpm_limit: 100_000 });
    const input = "a sentence only the client ever sees";
    const tokens = embedTokens(input);
    const { data, response } = await embed(made.key, input, { user: "alice" });
    assert.equal(data.model, "embed");
    assert.equal(data.usage.prompt_tokens, tokens);
    close(response.headers.get("x-litellm-response-cost"), tokens * EMBED_PRICE, "x-litellm-response-cost");
    close(response.headers.get("x-litellm-key-spend"), tokens * EMBED_PRICE, "x-litellm-key-spend");
    assert.equal(response.headers.get("x-ratelimit-limit-requests"), "100");
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "99");
    assert.equal(response.headers.get("x-ratelimit-limit-tokens"), "100000");
    // The estimate is replaced by the tokens used once the request is done; the answer's header counts the estimate.
    assert.ok(Number(response.headers.get("x-ratelimit-remaining-tokens")) < 100_000);

    const requestId = response.headers.get("x-request-id");
    assert.ok(requestId);
    const journal = await proxy.journal();
    assert.ok(journal.includes(requestId), "the row is journaled before the answer is complete");
    for (const secret of [input, made.key]) assert.ok(!journal.includes(secret), "the journal holds neither the input nor the key");

    const row = await spendRow(requestId);
    assert.deepEqual(
      {
        request_id: row.request_id,
        api_key: row.api_key,
        call_type: row.call_type,
        model: row.model,
        model_group: row.model_group,
        model_id: row.model_id,
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        total_tokens: row.total_tokens,
        team_id: row.team_id,
        user: row.user,
        status: row.status,
        key_alias: row.metadata.key_alias,
      },
      {
        request_id: requestId,
        api_key: made.token,
        call_type: "aembedding",
        model: "embed",
        model_group: "embed",
        model_id: "embed-1",
        prompt_tokens: tokens,
        completion_tokens: 0,
        total_tokens: tokens,
        team_id: null,
        user: "alice",
        status: "success",
        key_alias: "app-one",
      },
    );
    assert.equal(row.api_base, emulator.baseUrl);
    close(row.spend as number, tokens * EMBED_PRICE, "the row's spend");
    const text = JSON.stringify(row);
    assert.ok(!text.includes(input) && !text.includes(made.key), "the row holds neither the input nor the key");
    close(await storedSpend(made.token), tokens * EMBED_PRICE, "the key's spend");
  });

  test("a streamed chat answer is charged its prompt and completion; its row names the model as asked and the team", async () => {
    await proxy.admin("/team/new", { team_id: "team-stream", team_alias: "streamers" });
    const made = await proxy.admin("/key/generate", { key_alias: "streamer", team_id: "team-stream" });
    const openai = client(made.key);
    const first = await embed(made.key, "a first request, so that the key has spent something");
    const before = Number(first.response.headers.get("x-litellm-key-spend"));
    assert.ok(before > 0);

    const { data: stream, response } = await openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "tell me a story" }], stream: true, stream_options: { include_usage: true }, user: "bob" })
      .withResponse();
    // A stream's headers go out before its cost is known: the spend before it.
    close(response.headers.get("x-litellm-key-spend"), before, "x-litellm-key-spend of a stream");
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.model, "chat");
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    assert.match(text, /tell me a story/);
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    const cost = usage.prompt_tokens * CHAT_INPUT_PRICE + usage.completion_tokens * CHAT_OUTPUT_PRICE;

    const row = await spendRow(response.headers.get("x-request-id") ?? "");
    assert.equal(row.call_type, "acompletion");
    assert.equal(row.model, "chat");
    assert.equal(row.model_group, "chat");
    assert.equal(row.model_id, "chat-1");
    assert.equal(row.team_id, "team-stream");
    assert.equal(row.user, "bob");
    assert.equal(row.status, "success");
    assert.deepEqual([row.prompt_tokens, row.completion_tokens], [usage.prompt_tokens, usage.completion_tokens]);
    close(row.spend as number, cost, "the stream's row");
    assert.ok(!JSON.stringify(row).includes("tell me a story"));
    close(await storedSpend(made.token), before + cost, "the key's spend");
    const team = await proxy.call("GET", "/team/info?team_id=team-stream");
    close((team.body.team_info as { spend: number }).spend, before + cost, "the team's spend");
  });

  test("a whole chat answer's x-litellm-response-cost prices its prompt and its completion apart", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "chatter" });
    const { data, response } = await client(made.key)
      .chat.completions.create({ model: "chat", messages: [{ role: "user", content: "price me" }], max_tokens: 8 })
      .withResponse();
    assert.equal(data.model, "chat");
    const usage = data.usage;
    assert.ok(usage && usage.completion_tokens > 0);
    const cost = usage.prompt_tokens * CHAT_INPUT_PRICE + usage.completion_tokens * CHAT_OUTPUT_PRICE;
    close(response.headers.get("x-litellm-response-cost"), cost, "x-litellm-response-cost");
    close(response.headers.get("x-litellm-key-spend"), cost, "x-litellm-key-spend");
  });
});

describe("admin changes take effect on the next request", () => {
  test("/key/update: models and limits", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "updated" });
    assert.equal((await embed(made.key)).response.headers.get("x-ratelimit-limit-requests"), null);
    await proxy.admin("/key/update", { key: made.key, models: ["chat"] });
    const denied = await failure(embed(made.key));
    assert.ok(denied instanceof OpenAI.AuthenticationError);
    assert.equal(denied.type, "key_model_access_denied");
    await proxy.admin("/key/update", { key: made.token, models: ["embed"], rpm_limit: 1 });
    const { response } = await embed(made.key);
    assert.equal(response.headers.get("x-ratelimit-limit-requests"), "1");
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "0");
    const limited = await failure(embed(made.key));
    assert.ok(limited instanceof OpenAI.RateLimitError);
    assert.equal(limited.code, "rate_limit_exceeded");
  });

  test("/key/block refuses the key with a 401 key_blocked; /key/unblock serves it again", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "blocked-soon" });
    await embed(made.key);
    await proxy.admin("/key/block", { key: made.key });
    const blocked = await failure(embed(made.key));
    assert.ok(blocked instanceof OpenAI.AuthenticationError);
    assert.equal(blocked.status, 401);
    assert.equal(blocked.code, "key_blocked");
    assert.match(blocked.message, /blocked-soon/);
    assert.ok(!blocked.message.includes(made.key));
    await proxy.admin("/key/unblock", { key: made.key });
    assert.equal((await embed(made.key)).data.object, "list");
  });

  test("/key/regenerate: the old value is refused at once, the new one works, and the spend is kept", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "regenerated", max_budget: 100 });
    const input = "spent before the new value";
    await embed(made.key, input);
    const spentBefore = await storedSpend(made.token);
    close(spentBefore, embedTokens(input) * EMBED_PRICE);
    const fresh = await proxy.admin("/key/regenerate", { key: made.key });
    assert.notEqual(fresh.key, made.key);
    const old = await failure(embed(made.key));
    assert.ok(old instanceof OpenAI.AuthenticationError);
    assert.equal(old.code, "invalid_api_key");
    const { response } = await embed(fresh.key, input);
    close(response.headers.get("x-litellm-key-spend"), 2 * spentBefore, "the new value's spend goes on from the old one's");
    close(await storedSpend(fresh.token), 2 * spentBefore);
  });

  test("/key/regenerate while spend is still in the journal: the new value's budget counts it", async () => {
    const input = "x".repeat(400);
    const cost = embedTokens(input) * EMBED_PRICE;
    const made = await proxy.admin("/key/generate", { key_alias: "regenerated-unflushed", max_budget: cost * 1.5 });
    await embed(made.key, input);
    // No flush: the database does not have this spend yet when the key gets its new value.
    const fresh = await proxy.admin("/key/regenerate", { key: made.key });
    const { response } = await embed(fresh.key, input);
    close(response.headers.get("x-litellm-key-spend"), 2 * cost, "the new value's spend");
    const refused = await failure(embed(fresh.key, input));
    assert.equal(refused.code, "budget_exceeded");
  });

  test("/key/regenerate with a grace_period: the old value works until it ends, charged to the same key", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "graceful" });
    const fresh = await proxy.admin("/key/regenerate", { key: made.key, grace_period: "1h" });
    const { response } = await embed(made.key, "on the old value");
    const row = await spendRow(response.headers.get("x-request-id") ?? "");
    assert.equal(row.api_key, fresh.token);
    await embed(fresh.key);
    proxy.clock.advance(HOUR);
    assert.equal((await failure(embed(made.key))).code, "invalid_api_key");
    await embed(fresh.key);
  });

  test("/key/update max_budget or spend: a key refused for its budget is served again", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "topped-up", max_budget: 0.001 });
    await embed(made.key);
    assert.equal((await failure(embed(made.key))).code, "budget_exceeded");
    await proxy.admin("/key/update", { key: made.key, max_budget: 1 });
    await embed(made.key);
    await proxy.admin("/key/update", { key: made.key, max_budget: 0.001 });
    assert.equal((await failure(embed(made.key))).code, "budget_exceeded");
    await proxy.flush();
    await proxy.admin("/key/update", { key: made.key, spend: 0 });
    const { response } = await embed(made.key);
    close(response.headers.get("x-litellm-key-spend"), embedTokens("the quick brown fox") * EMBED_PRICE, "spend from 0 again");
  });

  test("/key/delete: the key is an unknown key from then on", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "deleted-soon" });
    await embed(made.key);
    await proxy.admin("/key/delete", { keys: [made.key] });
    const gone = await failure(embed(made.key));
    assert.ok(gone instanceof OpenAI.AuthenticationError);
    assert.equal(gone.code, "invalid_api_key");
  });

  test("a key made with a duration expires by the clock: 401 key_expired", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "short-lived", duration: "1h" });
    await embed(made.key);
    proxy.clock.advance(HOUR - 1);
    await embed(made.key);
    proxy.clock.advance(1);
    const expired = await failure(embed(made.key));
    assert.ok(expired instanceof OpenAI.AuthenticationError);
    assert.equal(expired.code, "key_expired");
    assert.equal(expired.type, "expired_key");
  });
});

describe("model access", () => {
  test("a key limited to embed may not call the chat model, and /v1/models lists only embed", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "embed-only", models: ["embed"] });
    const openai = client(made.key);
    const denied = await failure(openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }));
    assert.ok(denied instanceof OpenAI.AuthenticationError);
    assert.equal(denied.type, "key_model_access_denied");
    assert.match(denied.message, /may not use model 'chat'/);
    const listed = [];
    for await (const model of openai.models.list()) listed.push(model.id);
    assert.deepEqual(listed, ["embed"]);
    const master = [];
    for await (const model of client(ACCOUNTS_MASTER_KEY).models.list()) master.push(model.id);
    assert.deepEqual(master.sort(), ["chat", "embed"]);
  });

  test("/model/info shows a key the deployments of the models it may call, and the master key all of them", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "embed-info", models: ["embed"] });
    const info = async (key: string): Promise<string[]> => {
      const res = await fetch(`${proxy.url}/model/info`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { data: Array<{ model_name: string }> }).data.map((entry) => entry.model_name).sort();
    };
    assert.deepEqual(await info(made.key), ["embed"]);
    assert.deepEqual(await info(ACCOUNTS_MASTER_KEY), ["chat", "embed"]);
  });

  test("a key's aliases route to their target, and the answer and the row name the alias", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "aliased", models: ["embed"], aliases: { small: "embed" } });
    const calls = upstreamCalls();
    const { data, response } = await embed(made.key, "through an alias", { model: "small" });
    assert.equal(data.model, "small");
    assert.equal(upstreamCalls(), calls + 1);
    assert.equal(emulator.requests.at(-1)?.body && (emulator.requests.at(-1)?.body as { model: string }).model, "bge-base-en");
    const listed = [];
    for await (const model of client(made.key).models.list()) listed.push(model.id);
    assert.deepEqual(listed.sort(), ["embed", "small"]);
    const row = await spendRow(response.headers.get("x-request-id") ?? "");
    assert.deepEqual([row.model, row.model_group, row.model_id], ["small", "embed", "embed-1"]);
  });
});

describe("budgets", () => {
  test("a spent max_budget is a 429 budget_exceeded with x-should-retry: false, which the openai client does not retry", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "spent", max_budget: 0.001 });
    await embed(made.key);
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const calls = upstreamCalls();
    // The client's defaults: two retries of a 429 unless the answer says not to.
    const openai = new OpenAI({ apiKey: made.key, baseURL: proxy.baseUrl, fetch: counting });
    const refused = await failure(openai.embeddings.create({ model: "embed", input: "one more" }));
    assert.ok(refused instanceof OpenAI.RateLimitError);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, "budget_exceeded");
    assert.equal(refused.headers?.get("x-should-retry"), "false");
    assert.equal(refused.headers?.get("retry-after"), null);
    assert.match(refused.message, /key 'spent' has spent [\d.]+ of its max_budget 0\.001/);
    assert.equal(attempts, 1, "the client sent the request once");
    assert.equal(upstreamCalls(), calls, "nothing went upstream");
  });

  test("budget_duration: once the period is over the key is served again", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "hourly", max_budget: 0.001, budget_duration: "1h" });
    await embed(made.key);
    const refused = await failure(embed(made.key));
    assert.equal(refused.code, "budget_exceeded");
    assert.match(refused.message, /It resets at .* \(budget_duration 1h\)/);
    await proxy.flush();
    proxy.clock.advance(HOUR);
    const { response } = await embed(made.key);
    close(response.headers.get("x-litellm-key-spend"), embedTokens("the quick brown fox") * EMBED_PRICE, "spend in the new period");
    assert.equal((await failure(embed(made.key))).code, "budget_exceeded");
  });

  test("20 concurrent requests on a budget worth about 5 admit at most the budget's worth", async () => {
    // Long inputs: the token estimate reserved at admission is then within 2% of what the emulator counts.
    const input = "y".repeat(400);
    const cost = embedTokens(input) * EMBED_PRICE;
    const made = await proxy.admin("/key/generate", { key_alias: "concurrent", max_budget: cost * 4.5 });
    const calls = upstreamCalls();
    // A slow upstream, so that the requests admitted are still in flight when the others come: only their
    // reservations, not their costs, can then hold the rest back. (Fast or slow, at most 5 may pass.)
    emulator.setFault("embeddings", { kind: "latency", ms: 100, times: 20 });
    const answers = await Promise.allSettled(Array.from({ length: 20 }, () => embed(made.key, input)));
    emulator.setFault("embeddings", null);
    const served = answers.filter((answer) => answer.status === "fulfilled").length;
    const refused = answers.flatMap((answer) => (answer.status === "rejected" ? [answer.reason as InstanceType<typeof OpenAI.APIError>] : []));
    assert.equal(served, 5);
    assert.deepEqual(new Set(refused.map((error) => error.code)), new Set(["budget_exceeded"]));
    assert.equal(upstreamCalls(), calls + 5);
    const spent = await storedSpend(made.token);
    close(spent, 5 * cost, "the key's spend");
    assert.ok(spent < cost * 4.5 + cost, "overshot by less than one request");
  });

  test("a team's max_budget binds its keys", async () => {
    await proxy.admin("/team/new", { team_id: "team-budget", team_alias: "frugal", max_budget: 0.001 });
    const made = await proxy.admin("/key/generate", { key_alias: "frugal-key", team_id: "team-budget", max_budget: 100 });
    await embed(made.key);
    const refused = await failure(embed(made.key));
    assert.equal(refused.code, "budget_exceeded");
    assert.match(refused.message, /team 'frugal' has spent/);
    const other = await proxy.admin("/key/generate", { key_alias: "frugal-other", team_id: "team-budget" });
    assert.equal((await failure(embed(other.key))).code, "budget_exceeded");
  });

  test("a team's budget_duration: its keys are served again once the team's period is over", async () => {
    await proxy.admin("/team/new", { team_id: "team-daily", team_alias: "daily", max_budget: 0.001, budget_duration: "1d" });
    const made = await proxy.admin("/key/generate", { key_alias: "daily-key", team_id: "team-daily" });
    await embed(made.key);
    const refused = await failure(embed(made.key));
    assert.match(refused.message, /team 'daily' has spent .* \(budget_duration 1d\)/);
    await proxy.flush();
    proxy.clock.advance(24 * HOUR);
    await embed(made.key);
    assert.equal((await failure(embed(made.key))).code, "budget_exceeded");
  });

  test("soft_budget: a header on every answer past it, and one log line", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "soft", soft_budget: 0.001 });
    const first = await embed(made.key);
    assert.equal(first.response.headers.get("x-xgate-soft-budget-exceeded"), null);
    for (let i = 0; i < 3; i++) assert.equal((await embed(made.key)).response.headers.get("x-xgate-soft-budget-exceeded"), "key");
    const warnings = proxy.app.logLines().filter((line) => line.key_alias === "soft" && String(line.msg).includes("soft_budget"));
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.msg), /key 'soft' has spent [\d.]+, past its soft_budget 0\.001/);
  });
});

describe("rate limits", () => {
  test("rpm_limit 2: the second answer has none left, the third is a 429 with Retry-After", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "rpm-two", rpm_limit: 2 });
    assert.equal((await embed(made.key)).response.headers.get("x-ratelimit-remaining-requests"), "1");
    assert.equal((await embed(made.key)).response.headers.get("x-ratelimit-remaining-requests"), "0");
    const calls = upstreamCalls();
    const limited = await failure(embed(made.key));
    assert.ok(limited instanceof OpenAI.RateLimitError);
    assert.equal(limited.code, "rate_limit_exceeded");
    assert.match(limited.message, /key 'rpm-two' is at its rpm_limit \(2 requests a minute\)/);
    const retryAfter = Number(limited.headers?.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 61, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers?.get("x-ratelimit-remaining-requests"), "0");
    assert.equal(upstreamCalls(), calls);
    proxy.clock.advance(61_000);
    await embed(made.key);
  });

  test("max_parallel_requests 1: a second request while the first is in flight is refused; the first's abort gives its slot back", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "one-at-a-time", max_parallel_requests: 1 });
    emulator.setFault("embeddings", { kind: "stall", times: 1 });
    const stalled = nextArrival("/v1/embeddings");
    const abort = new AbortController();
    const first = client(made.key).embeddings.create({ model: "embed", input: "slow" }, { signal: abort.signal });
    first.catch(() => undefined);
    await stalled;
    const second = await failure(embed(made.key));
    assert.ok(second instanceof OpenAI.RateLimitError);
    assert.equal(second.code, "parallel_request_limit_reached");
    assert.match(second.message, /max_parallel_requests \(1 in flight at once\)/);
    abort.abort();
    assert.ok((await failure(first)) instanceof OpenAI.APIUserAbortError);
    await until(() => proxy.app.activeRequests() === 0, "the proxy saw the client go");
    assert.equal((await embed(made.key)).data.object, "list");
  });

  test("max_parallel_requests 1: a chat stream the client abandons mid-answer gives its slot back, and is charged what it was sent", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "one-stream", max_parallel_requests: 1 });
    emulator.setFault("chat/completions", { kind: "stream-stall", afterChunks: 3, times: 1 });
    const abort = new AbortController();
    const openai = client(made.key);
    const stream = await openai.chat.completions.create(
      { model: "chat", messages: [{ role: "user", content: "a long story" }], stream: true },
      { signal: abort.signal },
    );
    const chunks = stream[Symbol.asyncIterator]();
    assert.equal((await chunks.next()).done, false);
    const second = await failure(openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "me too" }] }));
    assert.equal(second.code, "parallel_request_limit_reached");
    abort.abort();
    await chunks.next().catch(() => undefined);
    await until(() => proxy.app.activeRequests() === 0, "the proxy saw the client go");
    const next = await openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "my turn" }] });
    assert.match(next.choices[0]?.message.content ?? "", /my turn/);

    // The abandoned stream's row follows the estimate of what it was sent (the tokenizer loads on first use).
    let rows: Row[] = [];
    for (const giveUp = Date.now() + 5_000; rows.length < 3 && Date.now() < giveUp; ) {
      await proxy.flush();
      rows = (await proxy.call("GET", `/spend/logs?api_key=${made.token}&summarize=false`)).body as unknown as Row[];
    }
    const outcomes = rows.map((row) => `${String(row.status)} ${String(row.metadata.error_code ?? row.metadata.incomplete ?? "")}`.trim());
    assert.deepEqual(outcomes.sort(), ["failure parallel_request_limit_reached", "success", "success client_gone"]);
    // The upstream generated what the client was sent: leaving just before the end must not make an answer free.
    const abandoned = rows.find((row) => row.metadata.incomplete === "client_gone") as Row;
    assert.equal(abandoned.metadata.tokens_estimated, true);
    const promptTokens = Number(abandoned.prompt_tokens);
    const completionTokens = Number(abandoned.completion_tokens);
    assert.ok(promptTokens > 0, `prompt tokens ${promptTokens}`);
    assert.ok(completionTokens > 0 && completionTokens < 50, `the three chunks sent, not a whole answer: ${completionTokens} tokens`);
    close(Number(abandoned.spend), promptTokens * CHAT_INPUT_PRICE + completionTokens * CHAT_OUTPUT_PRICE, "the abandoned stream's spend");
    const served = rows.filter((row) => row.status === "success").reduce((sum, row) => sum + Number(row.spend), 0);
    close(await storedSpend(made.token), served, "the key's spend");
  });

  test("tpm_limit: a request past the tokens left in the minute is refused", async () => {
    const input = "z".repeat(40);
    const made = await proxy.admin("/key/generate", { key_alias: "tpm", tpm_limit: embedTokens(input) + 5 });
    const { response } = await embed(made.key, input);
    assert.equal(response.headers.get("x-ratelimit-limit-tokens"), String(embedTokens(input) + 5));
    const limited = await failure(embed(made.key, input));
    assert.equal(limited.code, "rate_limit_exceeded");
    assert.match(limited.message, /key 'tpm' is at its tpm_limit/);
  });

  test("a team's rpm_limit is shared by its keys", async () => {
    await proxy.admin("/team/new", { team_id: "team-rpm", team_alias: "busy", rpm_limit: 3 });
    const a = await proxy.admin("/key/generate", { key_alias: "busy-a", team_id: "team-rpm" });
    const b = await proxy.admin("/key/generate", { key_alias: "busy-b", team_id: "team-rpm" });
    await embed(a.key);
    await embed(a.key);
    assert.equal((await embed(b.key)).response.headers.get("x-ratelimit-remaining-requests"), "0");
    for (const key of [a.key, b.key]) {
      const limited = await failure(embed(key));
      assert.equal(limited.code, "rate_limit_exceeded");
      assert.match(limited.message, /team 'busy' is at its rpm_limit \(3 requests a minute\)/);
    }
  });
});

describe("failures and cache hits are charged nothing", () => {
  test("an upstream 500: a failure row at cost 0, the key's spend unchanged, and its rate limit said", async () => {
    const made = await proxy.admin("/key/generate", { key_alias: "failing", max_budget: 100, rpm_limit: 10 });
    const ok = await embed(made.key);
    const spent = Number(ok.response.headers.get("x-litellm-key-spend"));
    emulator.setFault("embeddings", { kind: "status", status: 500, body: { detail: "engine exploded" }, times: 1 });
    const failed = await failure(embed(made.key));
    assert.ok(failed instanceof OpenAI.InternalServerError);
    assert.equal(failed.headers?.get("x-ratelimit-remaining-requests"), "8", "the failed request was counted");
    const requestId = failed.headers?.get("x-request-id") ?? "";
    const row = await spendRow(requestId);
    assert.equal(row.status, "failure");
    assert.equal(row.spend, 0);
    assert.equal(row.api_key, made.token);
    assert.equal(row.model_group, "embed");
    assert.equal(row.metadata.error_code, "upstream_error");
    close(await storedSpend(made.token), spent, "the key's spend");
    close((await embed(made.key)).response.headers.get("x-litellm-key-spend"), 2 * spent, "the next answer's key spend");
  });

  test("a cache hit costs 0 and charges nothing, and counts against the key's rate limit", async () => {
    const cached = await accountsApp(config(emulator, "litellm_settings:\n  cache: true\n"));
    try {
      const made = await cached.admin("/key/generate", { key_alias: "cached", rpm_limit: 10 });
      const openai = new OpenAI({ apiKey: made.key, baseURL: cached.baseUrl, maxRetries: 0 });
      const input = "asked twice";
      const miss = await openai.embeddings.create({ model: "embed", input }).withResponse();
      const cost = embedTokens(input) * EMBED_PRICE;
      close(miss.response.headers.get("x-litellm-response-cost"), cost);
      const calls = upstreamCalls();
      const hit = await openai.embeddings.create({ model: "embed", input }).withResponse();
      assert.equal(hit.response.headers.get("x-xgate-cache-hits"), "1/1");
      assert.equal(upstreamCalls(), calls);
      assert.equal(hit.response.headers.get("x-litellm-response-cost"), "0");
      assert.equal(hit.response.headers.get("x-ratelimit-limit-requests"), "10");
      assert.equal(hit.response.headers.get("x-ratelimit-remaining-requests"), "8");
      close(hit.response.headers.get("x-litellm-key-spend"), cost, "the key's spend after the hit");
      await cached.flush();
      const rows = await cached.call("GET", `/spend/logs?request_id=${hit.response.headers.get("x-request-id")}&summarize=false`);
      const row = (rows.body as unknown as Row[])[0];
      assert.equal(row?.spend, 0);
      assert.equal(row?.status, "success");
      assert.equal(row?.model_group, "embed");
      assert.equal(row?.metadata.cache_hit, true);
      const info = await cached.call("GET", `/key/info?key=${made.token}`);
      close((info.body.info as { spend: number }).spend, cost, "the key's stored spend");
    } finally {
      await cached.close();
    }
  });
});

describe("an open proxy (no master key)", () => {
  test("has no store: the admin routes answer 404 virtual_keys_disabled, and requests need no key", async () => {
    const open = await testApp(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { input_cost_per_token: ${EMBED_PRICE} }
`);
    try {
      assert.equal(open.settings.store, undefined);
      for (const [method, url] of [["POST", "/key/generate"], ["GET", "/key/list"], ["GET", "/spend/logs"], ["POST", "/team/new"]] as const) {
        const answer = await open.app.inject({ method, url, ...(method === "POST" && { payload: {} }) });
        assert.equal(answer.statusCode, 404, url);
        assert.equal(answer.json().error.code, "virtual_keys_disabled");
        assert.match(answer.json().error.message, /master_key/);
      }
      const served = await open.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "open" } });
      assert.equal(served.statusCode, 200);
      assert.equal(served.headers["x-litellm-key-spend"], undefined);
    } finally {
      await open.dispose();
    }
  });
});
