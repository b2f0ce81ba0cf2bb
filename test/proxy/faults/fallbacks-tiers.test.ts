/**
 * Order tiers and fallbacks through the proxy: the real CLI over four emulated Xinference servers. The
 * response headers say which group and deployment answered, and whether a fallback did.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, type Fault, startEmulator } from "../../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";

const MASTER_KEY = "sk-fallbacks-master";
const UID = "bge-small-en-v1.5";
const ENGINE_ERROR: Fault = { kind: "status", status: 500, body: { detail: "CUDA error: device-side assert triggered" } };
/** Another engine failure: two deployments answering a request alike would end it without a fallback. */
const OUT_OF_MEMORY: Fault = { kind: "status", status: 500, body: { detail: "CUDA out of memory" } };

const emulators: Record<string, Emulator> = {};
let proxy: ProxyProcess;

before(async () => {
  for (const id of ["primary-main", "primary-backup", "secondary-1", "lonely-1"]) {
    emulators[id] = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  }
  const entry = (group: string, id: string, order?: number): string => `
  - model_name: ${group}
    litellm_params:
      model: xinference/${UID}
      api_base: ${emulators[id]?.baseUrl}${order === undefined ? "" : `\n      order: ${order}`}
    model_info:
      id: ${id}`;
  proxy = await startProxyProcess(`model_list:${entry("primary", "primary-main", 1)}${entry("primary", "primary-backup", 2)}${entry(
    "secondary",
    "secondary-1",
  )}${entry("lonely", "lonely-1")}
router_settings:
  num_retries: 1
  cooldown_time: 1
  fallbacks:
    - primary: [secondary]
  default_fallbacks: [secondary]
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all(Object.values(emulators).map((e) => e.close()));
});

function fault(id: string, value: Fault | null): void {
  emulators[id]?.setFault("embeddings", value);
}

interface Answer {
  status: number;
  group: string | null;
  deployment: string | null;
  attempts: string | null;
  fallback: string | null;
  model: string | undefined;
}

async function embed(model: string): Promise<Answer> {
  const res = await fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, input: "hello" }),
  });
  const body = (await res.json()) as { model?: string };
  return {
    status: res.status,
    group: res.headers.get("x-xgate-model-group"),
    deployment: res.headers.get("x-xgate-deployment"),
    attempts: res.headers.get("x-xgate-attempts"),
    fallback: res.headers.get("x-xgate-fallback"),
    model: body.model,
  };
}

describe("order tiers through the proxy", () => {
  test("the lower order serves while it can; the next tier only while it is out; it comes back after its cooldown", async () => {
    for (let i = 0; i < 20; i++) assert.equal((await embed("primary")).deployment, "primary-main");

    // One 429 takes the first tier out at once; the retry goes to the second.
    fault("primary-main", { kind: "status", status: 429, body: { detail: `Rate limit reached for the model: ${UID}` }, times: 1 });
    const moved = await embed("primary");
    assert.deepEqual([moved.status, moved.deployment, moved.attempts, moved.fallback], [200, "primary-backup", "2", null]);

    // Until cooldown_time (1 s) has passed the second tier answers; then the first is back. Polled, with a bound.
    const deadline = Date.now() + 10_000;
    let answer = await embed("primary");
    while (answer.deployment === "primary-backup" && Date.now() < deadline) {
      assert.equal(answer.attempts, null, "while the first tier cools down, the second answers at the first attempt");
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await embed("primary");
    }
    assert.equal(answer.deployment, "primary-main");
  });
});

describe("fallbacks through the proxy", () => {
  test("when a group's retries fail, its fallback answers, and the headers name the group that did", async () => {
    fault("primary-main", ENGINE_ERROR);
    fault("primary-backup", OUT_OF_MEMORY);
    try {
      const answers: Answer[] = [];
      // Failing, both deployments of 'primary' cool down within a few requests (allowed_fails 3, each request
      // counting once against each); from then on the fallback answers at once, without trying them.
      while (answers.length < 8 && answers.at(-1)?.attempts !== null) answers.push(await embed("primary"));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(answer.group, "secondary");
        assert.equal(answer.deployment, "secondary-1");
        assert.equal(answer.fallback, "true");
        assert.equal(answer.model, "primary", "the body names the model the client asked for");
      }
      assert.equal(answers[0]?.attempts, "3", "two attempts in 'primary' (num_retries: 1), then the fallback");
      assert.equal(answers.at(-1)?.attempts, null, `attempts: ${answers.map((a) => a.attempts).join(", ")}`);
    } finally {
      fault("primary-main", null);
      fault("primary-backup", null);
    }
  });

  test("a group without fallbacks of its own falls back to default_fallbacks", async () => {
    fault("lonely-1", ENGINE_ERROR);
    try {
      const answer = await embed("lonely");
      assert.deepEqual([answer.status, answer.group, answer.deployment, answer.fallback], [200, "secondary", "secondary-1", "true"]);
    } finally {
      fault("lonely-1", null);
    }
    const answer = await embed("lonely");
    assert.deepEqual([answer.group, answer.deployment, answer.fallback], ["lonely", "lonely-1", null]);
  });
});
