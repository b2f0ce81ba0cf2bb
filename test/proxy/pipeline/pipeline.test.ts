// The request pipeline in-process (buildApp + inject): every check on client input runs before routing, a
// refusal before dispatch counts against no deployment, and what the config says reaches the right place.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RateLimitError } from "../../../src/errors.js";
import { startEmulator, type Emulator } from "../../support/emulator/index.js";
import { type TestApp, testApp } from "../../support/app.js";
import { limitUsage } from "../../support/limits.js";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => emulator.close());

function config(extra = ""): string {
  return `
model_list:
  - model_name: embed
    litellm_params:
      model: xinference/bge-base-en
      api_base: ${emulator.baseUrl}
      input_cost_per_token: 0.0000001
      tpm: 1000000
    model_info: { id: embed-a, mode: embedding }
  - model_name: sd
    litellm_params:
      model: xinference/stabilityai/stable-diffusion-3.5-large
      api_base: ${emulator.baseUrl}
      input_cost_per_image: 0.02
      output_cost_per_image: 0.04
      stream_timeout: 30
      num_inference_steps: 4
    model_info: { id: sd-a, mode: image_generation }
router_settings:
  routing_strategy: usage-based-routing
  allowed_fails: 1
  cooldown_time: 60
  model_group_alias:
    text-embedding-3-small: embed
    old-embed: { model: embed, hidden: true }
${extra}`;
}

async function withApp<T>(yaml: string, run: (app: TestApp) => Promise<T>, deps: Parameters<typeof testApp>[1] = {}): Promise<T> {
  const app = await testApp(yaml, deps);
  try {
    return await run(app);
  } finally {
    await app.dispose();
  }
}

/** JSON text of objects nested `depth` deep (written as text: JSON.stringify itself would overflow). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}{}${"}".repeat(depth)}`;
}

const PNG_1X1 = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

function editForm(fields: Record<string, string>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = "xgate-test-boundary";
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const file = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNG_1X1,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload: Buffer.concat([Buffer.from(parts.join("")), file]), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

describe("the pipeline", () => {
  it("refuses a deeply nested body with a 400 before routing; the deployment stays in service for everyone", async () => {
    await withApp(config(), async ({ app }) => {
      emulator.clearRequests();
      for (const url of ["/v1/embeddings", "/v1/rerank", "/v1/images/generations"]) {
        const res = await app.inject({
          method: "POST",
          url,
          headers: { "content-type": "application/json" },
          payload: `{"model":"embed","input":"hi","prompt":"p","query":"q","documents":["d"],"extra_body":${nested(10_000)}}`,
        });
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
        const body = res.json() as { error: { message: string; code: string; type: string } };
        assert.match(body.error.message, /nests deeper than 64 levels/);
        assert.equal(body.error.type, "invalid_request_error");
      }
      assert.equal(emulator.requests.length, 0, "nothing reached the upstream");
      const next = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hello" } });
      assert.equal(next.statusCode, 200, next.body);
    });
  });

  it("checks client input before any routing: a bad input is a 400 with no upstream request", async () => {
    await withApp(config(), async ({ app }) => {
      emulator.clearRequests();
      const res = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: [] } });
      assert.equal(res.statusCode, 400);
      assert.equal((res.json() as { error: { param: string } }).error.param, "input");
      assert.equal(res.headers["x-xgate-deployment"], undefined);
      assert.equal(emulator.requests.length, 0);
    });
  });

  it("a refusal at the admit point (a limit, say) answers the client and counts against no deployment", async () => {
    let admitted = 0;
    const limit = (): void => {
      admitted++;
      if (admitted <= 3) throw new RateLimitError("Rate limit of this key reached.", { code: "rate_limited", retryAfterMs: 1000 });
    };
    await withApp(
      config(),
      async ({ app, router }) => {
        emulator.clearRequests();
        for (let i = 0; i < 3; i++) {
          const res = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hi" } });
          assert.equal(res.statusCode, 429);
          assert.equal(res.headers["retry-after"], "1");
        }
        assert.equal(emulator.requests.length, 0);
        const stats = await router.router.stats();
        assert.equal(stats.get("embed-a")?.cooldown, undefined, "a gateway 429 is never taken for the upstream's");
        const res = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hi" } });
        assert.equal(res.statusCode, 200, res.body);
      },
      { admit: [limit] },
    );
  });

  it("sends no gateway parameter (pricing, stream_timeout) to the provider: edits succeed, generations carry only engine kwargs", async () => {
    await withApp(config(), async ({ app }) => {
      emulator.clearRequests();
      const generated = await app.inject({ method: "POST", url: "/v1/images/generations", payload: { model: "sd", prompt: "a lighthouse", size: "16x16" } });
      assert.equal(generated.statusCode, 200, generated.body);
      const generation = emulator.requests.find((r) => r.path === "/v1/images/generations");
      assert.deepEqual(generation?.kwargs, { num_inference_steps: 4 });

      const form = editForm({ model: "sd", prompt: "make it snow", size: "16x16" });
      const edited = await app.inject({ method: "POST", url: "/v1/images/edits", ...form });
      // The edit route takes no kwargs, so num_inference_steps is a provider parameter it cannot send.
      assert.equal(edited.statusCode, 400, edited.body);
      assert.match(edited.body, /num_inference_steps/);
      assert.doesNotMatch(edited.body, /cost_per_image|stream_timeout/);
    });
    const priced = config().replace("      num_inference_steps: 4\n", "");
    await withApp(priced, async ({ app }) => {
      const form = editForm({ model: "sd", prompt: "make it snow", size: "16x16" });
      const edited = await app.inject({ method: "POST", url: "/v1/images/edits", ...form });
      assert.equal(edited.statusCode, 200, edited.body);
    });
  });

  it("lists aliases but not hidden ones in /v1/models, and serves both", async () => {
    await withApp(config(), async ({ app }) => {
      const ids = (app.inject({ method: "GET", url: "/v1/models" }).then((res) => (res.json() as { data: { id: string }[] }).data.map((m) => m.id)));
      assert.deepEqual(await ids, ["embed", "sd", "text-embedding-3-small"]);
      const res = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "old-embed", input: "hi" } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers["x-xgate-model-group"], "embed");
    });
  });

  it("counts the tokens each answer used against its deployment's tpm, as usage-based routing reads them", async () => {
    await withApp(config(), async ({ app, router, limiter, settings }) => {
      const res = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: ["one two three", "four"] } });
      assert.equal(res.statusCode, 200, res.body);
      const used = (res.json() as { usage: { total_tokens: number } }).usage.total_tokens;
      assert.ok(used > 0);
      await router.router.close();
      assert.equal((await limitUsage(limiter, settings.deployments[0]))?.tokens, used);
    });
  });
});
