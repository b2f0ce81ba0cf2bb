/**
 * When no deployment can answer, through the proxy: the real CLI over emulated Xinference servers. A
 * misconfiguration the start health pass found (a uid not launched, an api_base nothing listens on) is
 * answered with the pass's reason and no Retry-After, so the `openai` client does not wait to retry it; an
 * outage of 500s and resets, once it has cooled every deployment and the fallback, is a 503 with Retry-After
 * that says why each one is out.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";

const MASTER_KEY = "sk-nothing-available-master";
const UID = "bge-small-en-v1.5";

let models: Emulator;
let erroring: Emulator;
let resetting: Emulator;
let limited: Emulator;
let deadBase: string;
let proxy: ProxyProcess;

before(async () => {
  const launched = { models: [{ model_name: UID, model_type: "embedding" as const }] };
  [models, erroring, resetting, limited] = await Promise.all([startEmulator(launched), startEmulator(launched), startEmulator(launched), startEmulator(launched)]);
  const closed = await startEmulator({ models: [] });
  deadBase = closed.baseUrl;
  await closed.close();
  const entry = (group: string, id: string, model: string, apiBase: string): string => `
  - model_name: ${group}
    litellm_params:
      model: xinference/${model}
      api_base: ${apiBase}
    model_info:
      id: ${id}`;
  proxy = await startProxyProcess(`model_list:${entry("missing", "missing-1", "bge-m3", models.baseUrl)}${entry("down", "down-1", UID, deadBase)}${entry(
    "flaky",
    "erroring",
    UID,
    erroring.baseUrl,
  )}${entry("flaky", "resetting", UID, resetting.baseUrl)}${entry("spare", "limited", UID, limited.baseUrl)}
router_settings:
  cooldown_time: 60
  fallbacks:
    - flaky: [spare]
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([models, erroring, resetting, limited].map((e) => e?.close()));
});

interface Answer {
  status: number;
  retryAfter: string | null;
  shouldRetry: string | null;
  error: { message: string; type: string; param: string | null; code: string };
}

async function embed(model: string): Promise<Answer> {
  const res = await fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, input: "hello" }),
  });
  const body = (await res.json()) as { error: Answer["error"] };
  return { status: res.status, retryAfter: res.headers.get("retry-after"), shouldRetry: res.headers.get("x-should-retry"), error: body.error };
}

const embeddingCalls = (emulator: Emulator): number => emulator.requests.filter((r) => r.path === "/v1/embeddings").length;

describe("a misconfiguration the health pass found", () => {
  test("a uid not launched: the openai client gets a 404 with the pass's reason and fix, and retries nothing", async () => {
    const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl });
    const reason = `model uid 'bge-m3' is not launched on Xinference server ${models.baseUrl}; launch it there, or set model_info.auto_launch`;
    await assert.rejects(client.embeddings.create({ model: "missing", input: "hello" }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      assert.equal(error.code, "model_not_found");
      assert.ok(error.message.includes(`missing-1 needs a fix: ${reason}.`), error.message);
      return true;
    });
    assert.equal(embeddingCalls(models), 1, "asked once; neither the proxy nor the client tried again");

    // While the deployment cools down the answer is the same, without asking the server, and without Retry-After.
    const again = await embed("missing");
    assert.deepEqual([again.status, again.retryAfter, again.error.code], [404, null, "model_not_found"]);
    assert.equal(again.error.message, `Model group 'missing' cannot answer: its model is not on its deployments' servers. missing-1 needs a fix: ${reason}.`);
    assert.equal(embeddingCalls(models), 1);
  });

  test("an api_base nothing listens on: a 502 with the pass's reason, no Retry-After", async () => {
    for (let request = 0; request < 2; request++) {
      const answer = await embed("down");
      assert.deepEqual([answer.status, answer.retryAfter, answer.error.code], [502, null, "no_deployment_usable"]);
      // The openai client would retry a 502 twice on its own: it is told waiting will not help.
      assert.equal(answer.shouldRetry, "false");
      assert.match(
        answer.error.message,
        new RegExp(`^Model group 'down' cannot answer: none of its deployments can be used as configured\\. down-1 needs a fix: Xinference server ${deadBase.replace(/[.]/g, "\\.")} did not list its models: `),
      );
    }
  });
});

describe("an outage of 500s and resets", () => {
  test("once every deployment and the fallback are out, each request is a 503 with Retry-After naming why", async () => {
    erroring.setFault("embeddings", { kind: "status", status: 500, body: { detail: "CUDA error: device-side assert triggered" } });
    resetting.setFault("embeddings", { kind: "reset" });
    limited.setFault("embeddings", { kind: "status", status: 429, body: { detail: `Rate limit reached for the model: ${UID}` } });
    try {
      // Each request counts once against each deployment: allowed_fails (3) requests take both out.
      const before: Answer[] = [];
      let answer = await embed("flaky");
      while (answer.status !== 503 && before.length < 5) {
        before.push(answer);
        answer = await embed("flaky");
      }
      // Until then, the last failure as it came: the fallback's 429 (it is out from the first request on), then
      // a 500 or a reset's 502 while 'flaky' still has deployments in the rotation.
      assert.equal(before.length, 2, JSON.stringify(before));
      assert.ok(before.every((a) => [429, 500, 502].includes(a.status)), JSON.stringify(before));
      const calls = embeddingCalls(erroring) + embeddingCalls(resetting) + embeddingCalls(limited);
      for (const outage of [answer, await embed("flaky"), await embed("flaky")]) {
        assert.equal(outage.status, 503);
        assert.equal(outage.error.code, "no_deployment_available");
        const retryAfter = Number(outage.retryAfter);
        assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${outage.retryAfter}`);
        assert.match(outage.error.message, new RegExp(`^No deployment of model group 'flaky' or its fallbacks \\('spare'\\) is available\\. Retry in ${retryAfter} s\\. `));
        assert.match(outage.error.message, /erroring is cooling down for \d+ s after 3 failures within a minute, the last 500: CUDA error: device-side assert triggered\./);
        assert.match(outage.error.message, /resetting is cooling down for \d+ s after 3 failures within a minute, the last transient: /);
        assert.match(outage.error.message, /limited is cooling down for \d+ s after 429: Rate limit reached for the model/);
      }
      assert.equal(embeddingCalls(erroring) + embeddingCalls(resetting) + embeddingCalls(limited), calls, "nothing is called while all are out");
    } finally {
      for (const emulator of [erroring, resetting, limited]) emulator.setFault("embeddings", null);
    }
  });
});
