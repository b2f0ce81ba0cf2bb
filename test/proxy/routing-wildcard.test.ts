/**
 * A wildcard group (`model_name: xinference/*`) through the proxy: every model a client names gets
 * deployments of its own, so that a uid that is not launched answers 404 (not 503) and takes no other model
 * out, and one model's cooldown leaves the others in the rotation.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const MASTER_KEY = "sk-wildcard-master-key";
const XINFERENCE_KEY = "xf-wildcard-0123456789abcdef";

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}

interface HealthEntry {
  deployment_id: string;
  model: string;
  healthy: boolean;
  error?: string;
}

let a: Emulator;
let b: Emulator;
let proxy: ProxyProcess;

before(async () => {
  // The key may not use bge-base-en on either server: a 403 for that model only. (It may use "not-launched",
  // so that asking for it reaches the model lookup and its 404.)
  const models = ["bge-small-en-v1.5", "bge-large-en-v1.5", "rare", "not-launched"];
  a = await startEmulator({ apiKeys: [{ key: XINFERENCE_KEY, models }] });
  b = await startEmulator({ apiKeys: [{ key: XINFERENCE_KEY, models }] });
  // Only server b has "rare".
  await b.launch({ model_name: "bge-small-en-v1.5", model_type: "embedding", model_uid: "rare" });
  const deployment = (id: string, emulator: Emulator): string => `
  - model_name: xinference/*
    litellm_params:
      model: xinference/*
      api_base: ${emulator.baseUrl}
      api_key: os.environ/TEST_XINFERENCE_KEY
    model_info:
      id: ${id}
      mode: embedding`;
  proxy = await startProxyProcess(
    `model_list:${deployment("wild-a", a)}${deployment("wild-b", b)}
general_settings:
  master_key: ${MASTER_KEY}
`,
    { env: { TEST_XINFERENCE_KEY: XINFERENCE_KEY } },
  );
});

after(async () => {
  await proxy?.stop();
  await Promise.all([a?.close(), b?.close()]);
});

async function embed(model: string): Promise<Response> {
  return fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, input: "hello" }),
  });
}

async function health(): Promise<HealthEntry[]> {
  const res = await fetch(`${proxy.url}/health`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { healthy_endpoints: HealthEntry[]; unhealthy_endpoints: HealthEntry[] };
  return [...body.healthy_endpoints, ...body.unhealthy_endpoints];
}

describe("a wildcard group through the proxy", () => {
  test("a uid that is not launched is a 404 model_not_found naming it, every time, and other models still answer", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await embed("xinference/not-launched");
      assert.equal(res.status, 404);
      const body = (await res.json()) as ErrorShape;
      assert.equal(body.error.code, "model_not_found");
      assert.equal(body.error.param, "model");
      assert.match(body.error.message, /'xinference\/not-launched' was not found/);
      assert.match(body.error.message, /uid: not-launched/);
    }
    const res = await embed("xinference/bge-small-en-v1.5");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("x-xgate-deployment") ?? "", /^wild-[ab]\/bge-small-en-v1\.5$/);
    assert.equal(res.headers.get("x-xgate-model-group"), "xinference/*");
    assert.equal(((await res.json()) as { model: string }).model, "xinference/bge-small-en-v1.5");
  });

  test("a uid launched on one server only is always found there", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await embed("xinference/rare");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-xgate-deployment"), "wild-b/rare");
    }
    // Server a said it has no "rare": that cooled nothing there.
    const entries = await health();
    assert.equal(entries.find((e) => e.deployment_id === "wild-a/rare"), undefined);
    assert.ok(entries.every((e) => e.healthy));
  });

  test("one model cooling down leaves the wildcard's other models in the rotation, and /health shows which", async () => {
    // 403 on both servers: both of bge-base-en's deployments cool down at once. Their key needs fixing, and
    // waiting will not do it: the client hears so, without a Retry-After.
    const refused = await embed("xinference/bge-base-en");
    assert.equal(refused.status, 502);
    assert.equal(refused.headers.get("retry-after"), null);
    const { error } = (await refused.json()) as ErrorShape;
    assert.equal(error.code, "no_deployment_usable");
    assert.match(error.message, /wild-a\/bge-base-en needs a fix: 403: .* Check the deployment's litellm_params\.api_key\./);

    const served = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await embed(i % 2 === 0 ? "xinference/bge-small-en-v1.5" : "xinference/bge-large-en-v1.5");
      assert.equal(res.status, 200);
      served.add(res.headers.get("x-xgate-deployment") ?? "");
    }
    assert.ok([...served].every((id) => /^wild-[ab]\/bge-(small|large)-en-v1\.5$/.test(id)), [...served].join(", "));

    // The wildcard's deployments are listed (healthy: a health probe has no model to call on them), and the
    // variants cooling down; the others are not worth a line.
    const entries = await health();
    assert.deepEqual(entries.filter((e) => e.healthy).map((e) => e.deployment_id).sort(), ["wild-a", "wild-b"]);
    assert.deepEqual(entries.filter((e) => !e.healthy).map((e) => e.deployment_id).sort(), ["wild-a/bge-base-en", "wild-b/bge-base-en"]);
    const entry = entries.find((e) => e.deployment_id === "wild-a/bge-base-en");
    assert.equal(entry?.model, "xinference/bge-base-en");
    assert.match(entry?.error ?? "", /cooling down: 403: API key does not have access to model: bge-base-en/);
  });
});
