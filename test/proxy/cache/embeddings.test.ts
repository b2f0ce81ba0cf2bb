// The embedding cache in-process (buildApp + inject) in front of the emulator: one entry per input, answers
// byte for byte the uncached ones in both encodings, partial hits merged with one upstream call for the misses,
// keys that keep apart what differs, the per-request controls, TTL and eviction on a fake clock.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CacheControlName } from "../../../src/proxy/cache/index.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type TestApp, testApp } from "../../support/app.js";
import { FakeClock } from "../router/helpers.js";

let emulator: Emulator;
let uncached: TestApp;
before(async () => {
  emulator = await startEmulator();
  uncached = await testApp(config(""));
});
after(async () => {
  await uncached.dispose();
  await emulator.close();
});

function config(cache = "litellm_settings:\n  cache: true\n", extra = ""): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
    model_info: { id: embed-a }
  - model_name: embed-small
    litellm_params: { model: xinference/bge-small-en-v1.5, api_base: ${emulator.baseUrl} }
    model_info: { id: small-a }
${extra}${cache}`;
}

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | number | undefined>;
}

async function embed(app: TestApp, payload: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", ...payload }, headers });
  return { status: res.statusCode, body: res.rawPayload, headers: res.headers };
}

/** The answer's bytes before its usage: every item, and the model name. */
function itemsOf(answer: Answer): string {
  const text = answer.body.toString();
  return text.slice(0, text.indexOf(',"usage":'));
}

function usageOf(answer: Answer): { prompt_tokens: number; total_tokens: number } {
  return (JSON.parse(answer.body.toString()) as { usage: { prompt_tokens: number; total_tokens: number } }).usage;
}

/** The inputs of every embedding request the emulator got since `from`. */
function upstreamInputs(from: number): unknown[] {
  return emulator.requests
    .slice(from)
    .filter((r) => r.path === "/v1/embeddings")
    .map((r) => (r.body as { input: unknown }).input);
}

async function withApp(yaml: string, run: (app: TestApp) => Promise<void>, deps: Parameters<typeof testApp>[1] = {}): Promise<void> {
  const app = await testApp(yaml, deps);
  try {
    await run(app);
  } finally {
    await app.dispose();
  }
}

const words = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);

describe("embedding cache", () => {
  it("answers a repeated input from its entry, byte for byte the upstream's answer, without calling it", () =>
    withApp(config(), async (app) => {
      for (const encoding_format of ["float", "base64"] as const) {
        const input = `repeat me ${encoding_format}`;
        const expected = await embed(uncached, { input, encoding_format });
        const from = emulator.requests.length;
        const first = await embed(app, { input, encoding_format });
        assert.equal(first.headers["x-xgate-cache-hits"], "0/1");
        assert.deepEqual(first.body, expected.body);
        const second = await embed(app, { input, encoding_format });
        assert.equal(second.status, 200);
        assert.equal(second.headers["x-xgate-cache-hits"], "1/1");
        assert.equal(second.headers["x-litellm-cache-key"], first.headers["x-litellm-cache-key"]);
        assert.match(String(second.headers["x-litellm-cache-key"]), /^xgate:cache:[0-9a-f]{64}$/);
        assert.equal(second.headers["x-xgate-model-group"], "embed");
        assert.equal(itemsOf(second), itemsOf(expected));
        assert.deepEqual(usageOf(second), { prompt_tokens: 0, total_tokens: 0 }, "a hit uses no tokens");
        assert.equal(upstreamInputs(from).length, 1, "only the first request went upstream");
      }
    }));

  it("with k of n cached, sends the n − k misses in one upstream call and merges them in order, in both encodings", () =>
    withApp(config(), async (app) => {
      for (const encoding_format of ["float", "base64"] as const) {
        const all = words(`partial ${encoding_format}`, 6);
        await embed(app, { input: [all[1], all[4]], encoding_format });
        const from = emulator.requests.length;
        const merged = await embed(app, { input: all, encoding_format });
        assert.equal(merged.status, 200);
        assert.equal(merged.headers["x-xgate-cache-hits"], "2/6");
        assert.equal(merged.headers["x-litellm-cache-key"], undefined, "a key is named for a one-input request only");
        assert.deepEqual(upstreamInputs(from), [[all[0], all[2], all[3], all[5]]]);
        const expected = await embed(uncached, { input: all, encoding_format });
        assert.equal(itemsOf(merged), itemsOf(expected));
        const missesOnly = await embed(uncached, { input: [all[0], all[2], all[3], all[5]], encoding_format });
        assert.deepEqual(usageOf(merged), usageOf(missesOnly), "usage counts the misses alone");
      }
    }));

  it("merges hits into a batch the upstream answers in chunks, streamed as they complete", () =>
    withApp(config(), async (app) => {
      const all = words("chunked", 600);
      const hit = all.filter((_, i) => i % 3 === 0);
      await embed(app, { input: hit, encoding_format: "base64" });
      const from = emulator.requests.length;
      const merged = await embed(app, { input: all, encoding_format: "base64" });
      assert.equal(merged.headers["x-xgate-cache-hits"], "200/600");
      assert.equal(merged.headers["transfer-encoding"], "chunked");
      const sent = upstreamInputs(from) as string[][];
      assert.deepEqual(
        sent.map((input) => input.length),
        [256, 144],
        "the 400 misses, in max_batch_size chunks",
      );
      assert.deepEqual(sent.flat(), all.filter((_, i) => i % 3 !== 0));
      assert.equal(itemsOf(merged), itemsOf(await embed(uncached, { input: all, encoding_format: "base64" })));
      const again = await embed(app, { input: all, encoding_format: "base64" });
      assert.equal(again.headers["x-xgate-cache-hits"], "600/600");
      assert.equal(itemsOf(again), itemsOf(merged));
    }));

  it("answers base64 from an entry a float answer left, and floats only from float text", () =>
    withApp(config(), async (app) => {
      await embed(app, { input: "float first", encoding_format: "float" });
      const base64 = await embed(app, { input: "float first", encoding_format: "base64" });
      assert.equal(base64.headers["x-xgate-cache-hits"], "1/1");
      assert.equal(itemsOf(base64), itemsOf(await embed(uncached, { input: "float first", encoding_format: "base64" })));

      await embed(app, { input: "base64 first", encoding_format: "base64" });
      const float = await embed(app, { input: "base64 first", encoding_format: "float" });
      assert.equal(float.headers["x-xgate-cache-hits"], "0/1", "float32 bytes cannot give the upstream's float text back");
      assert.deepEqual(float.body, (await embed(uncached, { input: "base64 first", encoding_format: "float" })).body);
      assert.equal((await embed(app, { input: "base64 first", encoding_format: "float" })).headers["x-xgate-cache-hits"], "1/1");
    }));

  it("keeps apart what decides a vector: the model, dimensions, extra parameters, text against token ids", () =>
    withApp(config(), async (app) => {
      const hits = async (payload: Record<string, unknown>): Promise<unknown> => (await embed(app, payload)).headers["x-xgate-cache-hits"];
      assert.equal(await hits({ input: "apart" }), "0/1");
      assert.equal(await hits({ input: "apart", dimensions: 768 }), "0/1", "dimensions never share an entry with none");
      assert.equal(await hits({ input: "apart", dimensions: 768 }), "1/1");
      assert.equal(await hits({ input: "apart", truncate_prompt_tokens: 8 }), "0/1", "an extra parameter reaches the model");
      assert.equal(await hits({ model: "embed-small", input: "apart" }), "0/1", "another model");
      assert.equal(await hits({ input: "apart", user: "someone", encoding_format: "base64" }), "1/1", "user and encoding do not shape it");
      assert.equal(await hits({ input: "104,101" }), "0/1");
      assert.equal(await hits({ input: [104, 101] }), "0/1", "token ids are not the text that spells them");
      assert.equal(await hits({ input: [[104, 101]] }), "1/1", "one list of token ids is the same input either way");
    }));

  it("with every input cached, answers though no deployment can", () =>
    withApp(config(), async (app) => {
      const input = words("all cached", 3);
      const first = await embed(app, { input });
      emulator.setFault("embeddings", { kind: "status", status: 500, body: { detail: "engine down" } });
      try {
        const from = emulator.requests.length;
        const res = await embed(app, { input });
        assert.equal(res.status, 200);
        assert.equal(res.headers["x-xgate-cache-hits"], "3/3");
        assert.equal(itemsOf(res), itemsOf(first));
        assert.equal(upstreamInputs(from).length, 0);
        assert.equal((await embed(app, { input: [...input, "not cached"] })).status, 500, "a miss still needs the upstream");
      } finally {
        emulator.setFault("embeddings", null);
      }
    }));

  it("the body's cache object steers the request and never reaches the upstream", () =>
    withApp(config(), async (app) => {
      const from = emulator.requests.length;
      await embed(app, { input: "steered", cache: { "no-store": true } });
      assert.equal((await embed(app, { input: "steered" })).headers["x-xgate-cache-hits"], "0/1", "no-store kept nothing");
      const noCache = await embed(app, { input: "steered", cache: { "no-cache": true } });
      assert.equal(noCache.headers["x-xgate-cache-hits"], "0/1", "no-cache went upstream though an entry exists");
      await embed(app, { input: "steered", cache: { namespace: "team-b" } });
      const other = await embed(app, { input: "steered", cache: { namespace: "team-b" } });
      assert.equal(other.headers["x-xgate-cache-hits"], "1/1");
      assert.match(String(other.headers["x-litellm-cache-key"]), /^team-b:/);
      assert.equal((await embed(app, { input: "steered only in b", cache: { namespace: "team-b" } })).headers["x-xgate-cache-hits"], "0/1");
      for (const request of emulator.requests.slice(from)) {
        assert.equal("cache" in (request.body as object), false, "the cache object reached the upstream");
        assert.deepEqual(request.kwargs, {});
      }
    }));

  it("Cache-Control: no-cache and no-store work as the body's controls do", () =>
    withApp(config(), async (app) => {
      await embed(app, { input: "by header" }, { "cache-control": "no-store" });
      assert.equal((await embed(app, { input: "by header" })).headers["x-xgate-cache-hits"], "0/1");
      const res = await embed(app, { input: "by header" }, { "cache-control": "max-age=0, No-Cache" });
      assert.equal(res.headers["x-xgate-cache-hits"], "0/1");
      assert.equal((await embed(app, { input: "by header" })).headers["x-xgate-cache-hits"], "1/1");
    }));

  it("a malformed cache object is a 400 that names the fix", () =>
    withApp(config(), async (app) => {
      const cases: [unknown, RegExp][] = [
        ["yes", /cache must be an object such as \{"no-cache": true/],
        [{ "no-cache": "true" }, /cache\["no-cache"\] must be true or false/],
        [{ ttl: 0 }, /cache\.ttl must be a number of seconds above 0/],
        [{ namespace: "" }, /cache\.namespace must be a non-empty string/],
        [{ "s-maxage": 10 }, /cache\.s-maxage is not a cache control xgate knows; use "no-cache", "no-store", "ttl", "namespace"/],
      ];
      for (const [cache, message] of cases) {
        const res = await embed(app, { input: "bad", cache });
        assert.equal(res.status, 400);
        const { error } = JSON.parse(res.body.toString()) as { error: { message: string; param: string; code: string } };
        assert.match(error.message, message);
        assert.equal(error.param, "cache");
        assert.equal(error.code, "invalid_cache_control");
      }
    }));

  it("refuses, with a 403, a control the caller may not use", () => {
    const allowed = new Set<CacheControlName>(["ttl"]);
    return withApp(
      config(),
      async (app) => {
        assert.equal((await embed(app, { input: "allowed", cache: { ttl: 60 } })).status, 200);
        for (const [payload, headers] of [
          [{ input: "refused", cache: { "no-cache": true } }, {}],
          [{ input: "refused" }, { "cache-control": "no-store" }],
        ] as const) {
          const res = await embed(app, payload, headers);
          assert.equal(res.status, 403);
          assert.match(JSON.parse(res.body.toString()).error.message, /may not use the cache control 'no-(cache|store)'.*allowed_cache_controls/);
        }
      },
      { cache: { allowedControls: () => allowed } },
    );
  });

  it("entries live for cache_params.ttl, or the request's own ttl, on the clock", () => {
    const clock = new FakeClock();
    return withApp(
      config("litellm_settings:\n  cache: true\n  cache_params: { ttl: 60 }\n"),
      async (app) => {
        await embed(app, { input: "short-lived" });
        await embed(app, { input: "longer-lived", cache: { ttl: 600 } });
        clock.advance(59_000);
        assert.equal((await embed(app, { input: "short-lived" })).headers["x-xgate-cache-hits"], "1/1");
        clock.advance(1_000);
        assert.equal((await embed(app, { input: "short-lived" })).headers["x-xgate-cache-hits"], "0/1", "expired at 60 s");
        assert.equal((await embed(app, { input: "longer-lived" })).headers["x-xgate-cache-hits"], "1/1");
        clock.advance(540_000);
        assert.equal((await embed(app, { input: "longer-lived" })).headers["x-xgate-cache-hits"], "0/1", "expired at 600 s");
      },
      { cache: { clock } },
    );
  });

  it("a local cache evicts the least recently used entries beyond max_size_mb", () =>
    // Room for two 768-float base64 entries (3 kB each), not three.
    withApp(config("litellm_settings:\n  cache: true\n  cache_params: { type: local, max_size_mb: 0.008 }\n"), async (app) => {
      const hits = async (input: string): Promise<unknown> =>
        (await embed(app, { input, encoding_format: "base64" })).headers["x-xgate-cache-hits"];
      assert.equal(await hits("one"), "0/1");
      assert.equal(await hits("two"), "0/1");
      assert.equal(await hits("one"), "1/1", "one is now the most recently used");
      assert.equal(await hits("three"), "0/1");
      assert.equal(await hits("one"), "1/1");
      assert.equal(await hits("two"), "0/1", "two was evicted");
    }));

  it("keeps a fallback's answers under the fallback group's keys", () =>
    withApp(
      config("litellm_settings:\n  cache: true\n", `  - model_name: broken
    litellm_params: { model: xinference/not-launched, api_base: ${emulator.baseUrl} }
    model_info: { id: broken-a }
router_settings: { fallbacks: [{ broken: [embed] }] }
`),
      async (app) => {
        const fallen = await embed(app, { model: "broken", input: "fell back" });
        assert.equal(fallen.status, 200);
        assert.equal(fallen.headers["x-xgate-fallback"], "true");
        assert.equal((await embed(app, { input: "fell back" })).headers["x-xgate-cache-hits"], "1/1", "kept as embed's");
        assert.equal((await embed(app, { model: "broken", input: "fell back" })).headers["x-xgate-cache-hits"], "0/1", "not as broken's");
      },
    ));

  it("leaves alone a request sent to the client's own server", () =>
    withApp(config("litellm_settings:\n  cache: true\ngeneral_settings: { allow_client_side_credentials: true }\n"), async (app) => {
      for (let i = 0; i < 2; i++) {
        const res = await embed(app, { input: "their server", api_base: emulator.baseUrl });
        assert.equal(res.status, 200);
        assert.equal(res.headers["x-xgate-cache-hits"], undefined);
      }
      assert.equal((await embed(app, { input: "their server" })).headers["x-xgate-cache-hits"], "0/1", "nothing was kept for it");
    }));

  it("the log line says how many inputs hit", () =>
    withApp(config(), async (app) => {
      await embed(app, { input: ["logged a", "logged b"] });
      await embed(app, { input: ["logged a", "logged c"] });
      const lines = app.logLines().filter((line) => line.route === "/v1/embeddings");
      assert.deepEqual(
        lines.map((line) => line.cache_hits),
        ["0/2", "1/2"],
      );
    }));
});
