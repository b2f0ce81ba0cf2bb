// Wildcard groups (`model: xinference/*`): each model a client asks for gets deployments of its own, so that
// one model's failures — a uid that is not launched above all — do not take the others out.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NotFoundError, RateLimitError, fromUpstream } from "../../../src/errors.js";
import type { RouterConfigInput } from "../../../src/proxy/router/config.js";
import { buildDeployments, type Deployment, variantId, wildcardVariant } from "../../../src/proxy/router/deployment.js";
import { MemoryRouterState } from "../../../src/proxy/router/memory-state.js";
import type { CallContext } from "../../../src/proxy/router/router.js";
import { MAX_WILDCARD_VARIANTS } from "../../../src/proxy/router/variants.js";
import { entry, testRouter } from "./helpers.js";

type Call = (deployment: Deployment, context: CallContext) => Promise<string>;

/** Answers with the model called; throws what `failures` says for a deployment id. */
function byId(failures: Record<string, () => Error> = {}): { call: Call; called: string[] } {
  const called: string[] = [];
  const call: Call = async (deployment) => {
    called.push(deployment.id);
    const failure = failures[deployment.id];
    if (failure) throw failure();
    return deployment.model;
  };
  return { call, called };
}

function notLaunched(uid: string): NotFoundError {
  return fromUpstream(new NotFoundError(`Model not found in the model list, uid: ${uid}`, { param: "model" }));
}

function wildcards(count: number, router_settings: RouterConfigInput["router_settings"] = {}): RouterConfigInput {
  return {
    model_list: Array.from({ length: count }, (_, i) =>
      entry("xinference/*", `w${i + 1}`, { model: "xinference/*", api_base: `http://10.0.0.${i + 1}:9997/v1`, api_key: "xf-secret", order: i + 1 }),
    ),
    router_settings,
  };
}

describe("wildcard variants", () => {
  test("a variant has the model filled in, an id of its own, and the key kept out of sight", () => {
    const [base] = buildDeployments(wildcards(1).model_list, { requestTimeoutMs: 1000 });
    assert.ok(base);
    const variant = wildcardVariant(base, "bge-m3");
    assert.equal(variant.id, "w1/bge-m3");
    assert.equal(variant.model, "xinference/bge-m3");
    assert.equal(variant.variantOf, "w1");
    assert.equal(variant.apiKey, "xf-secret");
    assert.ok(!JSON.stringify(variant).includes("xf-secret"));
  });

  test("ids are fit for a header: what is not printable ASCII is percent-encoded, long names hashed", () => {
    assert.equal(variantId("w", "stabilityai/stable-diffusion-3.5-large"), "w/stabilityai/stable-diffusion-3.5-large");
    assert.equal(variantId("w", "a b\n中%"), "w/a%20b%0A%E4%B8%AD%25");
    assert.notEqual(variantId("w", "a b"), variantId("w", "a%20b"));
    const long = variantId("w", "x".repeat(5000));
    assert.ok(long.length <= 2 + 128, `${long.length}`);
    assert.notEqual(long, variantId("w", `${"x".repeat(4999)}y`));
    for (const id of [long, variantId("w", "a b\n中%")]) assert.match(id, /^[\x21-\x7e]+$/);
  });

  test("the call goes to the variant for the model asked for; the answer names it", async () => {
    const { router } = testRouter(wildcards(1));
    const answer = await router.execute("xinference/*", byId().call, { wildcardMatch: "bge-m3" });
    assert.equal(answer.result, "xinference/bge-m3");
    assert.equal(answer.deployment.id, "w1/bge-m3");
  });

  test("a model's cooldown is its own: the other models of the wildcard keep answering", async () => {
    const { router, state, clock } = testRouter(wildcards(1));
    const { call } = byId({ "w1/busy": () => fromUpstream(new RateLimitError("Rate limit reached for the model")) });
    await assert.rejects(router.execute("xinference/*", call, { wildcardMatch: "busy" }), { status: 503 });
    const stats = await state.stats(["w1/busy", "w1", "w1/calm"], clock.now());
    assert.match(stats.get("w1/busy")?.cooldown?.reason ?? "", /429/);
    assert.equal(stats.get("w1")?.cooldown, undefined);
    assert.equal((await router.execute("xinference/*", call, { wildcardMatch: "calm" })).result, "xinference/calm");
  });

  test("a uid no server has is a 404 naming it, every time, and cools nothing", async () => {
    const { router, state, clock } = testRouter(wildcards(2, { fallbacks: [{ "xinference/*": ["spare"] }] }));
    const { call, called } = byId({ "w1/nope": () => notLaunched("nope"), "w2/nope": () => notLaunched("nope") });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(router.execute("xinference/*", call, { wildcardMatch: "nope" }), (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.code, "model_not_found");
        assert.equal(error.param, "model");
        assert.match(error.message, /Model 'xinference\/nope' was not found: no deployment of 'xinference\/\*' has it/);
        assert.match(error.message, /uid: nope/);
        return true;
      });
    }
    // Each server asked once per request, never twice: a 404 is not worth a retry on the same one.
    assert.deepEqual(called, ["w1/nope", "w2/nope", "w1/nope", "w2/nope", "w1/nope", "w2/nope"]);
    const stats = await state.stats(["w1/nope", "w2/nope"], clock.now());
    assert.equal(stats.get("w1/nope")?.cooldown, undefined);
    assert.equal(stats.get("w2/nope")?.cooldown, undefined);
  });

  test("a uid only one server has is found there, without using up a retry", async () => {
    const { router } = testRouter(wildcards(3, { num_retries: 0 }));
    const { call, called } = byId({ "w1/rare": () => notLaunched("rare"), "w2/rare": () => notLaunched("rare") });
    const answer = await router.execute("xinference/*", call, { wildcardMatch: "rare" });
    assert.equal(answer.deployment.id, "w3/rare");
    assert.equal(answer.attempts, 3);
    assert.deepEqual(called, ["w1/rare", "w2/rare", "w3/rare"]);
  });

  test("a 404 that is not about the model (no such route: a wrong api_base) still cools the deployment", async () => {
    const { router, state, clock } = testRouter(wildcards(1));
    const noRoute = (): Error => fromUpstream(new NotFoundError("no route POST /v1/embeddings", { code: "not_found", param: "api_base" }));
    // A misconfiguration: the client is told the fix (a 502 naming api_base), not to come back.
    await assert.rejects(router.execute("xinference/*", byId({ "w1/m": noRoute }).call, { wildcardMatch: "m" }), {
      status: 502,
      message: /w1\/m needs a fix: 404: no route POST \/v1\/embeddings\. Check the deployment's litellm_params\.api_base\./,
    });
    assert.match((await state.stats(["w1/m"], clock.now())).get("w1/m")?.cooldown?.reason ?? "", /404/);
  });

  test("a variant is out of the rotation when health checks take its deployment out", async () => {
    const rotation = { inRotation: (id: string) => id !== "w1", nextCheckAt: () => undefined };
    const { router } = testRouter(wildcards(2), { rotation });
    assert.equal((await router.execute("xinference/*", byId().call, { wildcardMatch: "m" })).deployment.id, "w2/m");
  });

  test("variants are bounded in number; the state forgets the ones dropped", async () => {
    const state = new MemoryRouterState();
    const forgotten: string[] = [];
    const forget = state.forget.bind(state);
    state.forget = async (ids) => {
      forgotten.push(...ids);
      await forget(ids);
    };
    const { router, clock } = testRouter(wildcards(1), { state });
    const { call } = byId({ "w1/m0": () => fromUpstream(new RateLimitError("slow down")) });
    await router.execute("xinference/*", call, { wildcardMatch: "m0" }).catch(() => undefined);
    for (let i = 1; i <= MAX_WILDCARD_VARIANTS; i++) await router.execute("xinference/*", call, { wildcardMatch: `m${i}` });
    assert.equal(router.tracked().length, 1 + MAX_WILDCARD_VARIANTS);
    // A variant used again is the most recent: the next one dropped is the least recently used.
    await router.execute("xinference/*", call, { wildcardMatch: "m1" });
    await router.execute("xinference/*", call, { wildcardMatch: "fresh" });
    await router.close();
    assert.deepEqual(forgotten, ["w1/m0", "w1/m2"]);
    assert.equal((await state.stats(["w1/m0"], clock.now())).get("w1/m0")?.cooldown, undefined);
    assert.equal(router.tracked().length, 1 + MAX_WILDCARD_VARIANTS);
  });
});
