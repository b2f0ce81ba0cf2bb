// Health checks against emulated Xinference servers: model lists read once per server and pass, missing uids
// named, abilities recorded for edits, auto-launch, deployments leaving and rejoining the rotation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BadRequestError } from "../../../src/errors.js";
import { routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { buildDeployments, type Deployment } from "../../../src/proxy/router/deployment.js";
import { HealthMonitor, type HealthMonitorOptions } from "../../../src/proxy/router/health.js";
import type { RouterLogger } from "../../../src/proxy/router/logger.js";
import { modelServerClient } from "../../../src/proxy/router/model-servers.js";
import * as providers from "../../../src/providers/index.js";
import type { ModelEntryInput } from "../../../src/proxy/router/config.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { xinferenceOverHttp } from "./emulator-servers.js";
import { FakeClock, testRouter } from "./helpers.js";

const API_KEY = "sk-abcdefghijklm";
const ADMIN = "admin-token-for-tests";

let one: Emulator;
let two: Emulator;

before(async () => {
  one = await startEmulator({ apiKeys: [API_KEY], adminTokens: [ADMIN] });
  two = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
});

after(async () => {
  await one.close();
  await two.close();
});

function xinference(model_name: string, id: string, uid: string, server: Emulator, more: Partial<ModelEntryInput> = {}): ModelEntryInput {
  return {
    model_name,
    litellm_params: { model: `xinference/${uid}`, api_base: server.baseUrl, ...(server === one ? { api_key: ADMIN } : {}) },
    model_info: { id, ...(more.model_info ?? {}) },
  };
}

function deployments(entries: ModelEntryInput[]): Deployment[] {
  return buildDeployments(entries, routerSettingsFrom({ model_list: [] }));
}

function recordingLogger(): RouterLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (_f, message) => lines.push(`info: ${message}`), warn: (_f, message) => lines.push(`warn: ${message}`) };
}

function monitor(list: Deployment[], options: Partial<HealthMonitorOptions> = {}): HealthMonitor {
  return new HealthMonitor(list, { background: true, intervalMs: 10_000, checkTimeoutMs: 5000, servers: xinferenceOverHttp, clock: new FakeClock(), ...options });
}

function modelListReads(server: Emulator): number {
  return server.requests.filter((r) => r.method === "GET" && r.path === "/v1/models").length;
}

describe("Xinference-aware health", () => {
  test("a configured uid that is not launched is unhealthy, with a reason naming the uid and the server", async () => {
    const list = deployments([
      xinference("embed", "embed-1", "bge-base-en", one),
      xinference("embed", "embed-2", "bge-base-en-v1.5", one),
      xinference("embed", "embed-3", "bge-base-en", two),
    ]);
    const health = monitor(list);
    await health.runPass();
    assert.equal(health.get("embed-1")?.status, "healthy");
    assert.equal(health.get("embed-3")?.status, "healthy");
    assert.equal(health.get("embed-2")?.status, "unhealthy");
    assert.equal(
      health.get("embed-2")?.reason,
      `model uid 'bge-base-en-v1.5' is not launched on Xinference server ${one.baseUrl}; launch it there, or set model_info.auto_launch`,
    );
    assert.equal(health.inRotation("embed-1"), true);
    assert.equal(health.inRotation("embed-2"), false);
    assert.doesNotMatch(JSON.stringify(health.get("embed-2")), new RegExp(ADMIN));
    health.stop();
  });

  test("each server's model list is read once per pass, however many deployments it serves", async () => {
    one.clearRequests();
    two.clearRequests();
    const list = deployments([
      xinference("a", "a1", "bge-base-en", one),
      xinference("b", "b1", "bge-small-en-v1.5", one),
      xinference("c", "c1", "sd-turbo", one),
      xinference("d", "d1", "bge-base-en", two),
    ]);
    const health = monitor(list);
    await health.runPass();
    assert.equal(modelListReads(one), 1);
    assert.equal(modelListReads(two), 1);
    health.stop();
  });

  test("a server that does not answer makes its deployments unhealthy, and the pass goes on", async () => {
    const closed = await startEmulator({ models: [] });
    const base = closed.baseUrl;
    await closed.close();
    const list = deployments([
      { model_name: "gone", litellm_params: { model: "xinference/bge-base-en", api_base: base }, model_info: { id: "gone-1" } },
      xinference("embed", "embed-1", "bge-base-en", two),
    ]);
    const health = monitor(list);
    await health.runPass();
    assert.equal(health.get("gone-1")?.status, "unhealthy");
    assert.match(health.get("gone-1")?.reason ?? "", new RegExp(`^Xinference server ${base} did not list its models: `));
    assert.equal(health.get("embed-1")?.status, "healthy");
    health.stop();
  });

  test("the abilities the server reports are recorded", async () => {
    const list = deployments([xinference("sd", "sd-1", "stabilityai/stable-diffusion-3.5-large", one), xinference("embed", "e-1", "bge-base-en", one)]);
    const health = monitor(list);
    await health.runPass();
    assert.deepEqual(health.get("sd-1")?.abilities, ["text2image", "image2image", "inpainting"]);
    assert.equal(health.get("sd-1")?.modelType, "image");
    assert.equal(health.get("e-1")?.modelType, "embedding");
    health.stop();
  });

  describe("edits a model cannot do are refused with a 400 before any upstream call", () => {
    let health: HealthMonitor;
    // The emulators exist only once the file's `before` ran, so the monitor is built in a hook too.
    before(async () => {
      health = monitor(
        deployments([
          xinference("sd35", "sd35-1", "stabilityai/stable-diffusion-3.5-large", one),
          xinference("turbo", "turbo-1", "sd-turbo", one),
          xinference("inpaint", "inpaint-1", "stable-diffusion-inpainting", one),
          xinference("embed", "embed-1", "bge-base-en", one),
          { model_name: "elsewhere", litellm_params: { model: "openai/dall-e-2" }, model_info: { id: "else-1" } },
        ]),
      );
      await health.runPass();
    });
    after(() => health.stop());

    test("a model with image2image and inpainting can do both", () => {
      health.checkEdit("sd35", false);
      health.checkEdit("sd35", true);
    });

    test("a text2image-only model cannot edit", () => {
      assert.throws(
        () => health.checkEdit("turbo", false),
        (error: unknown) =>
          error instanceof BadRequestError &&
          error.status === 400 &&
          error.param === "model" &&
          /Model 'turbo' cannot edit images: an edit without a mask needs the image2image ability, and its abilities are: text2image/.test(error.message),
      );
    });

    test("an inpainting-only model needs a mask", () => {
      health.checkEdit("inpaint", true);
      assert.throws(() => health.checkEdit("inpaint", false), /send a mask to inpaint instead/);
    });

    test("a model that is not an image model cannot edit", () => {
      assert.throws(() => health.checkEdit("embed", false), /it is a embedding model, not an image model/);
    });

    test("unknown capabilities leave the decision to the upstream", () => {
      health.checkEdit("elsewhere", false);
      health.checkEdit("no-such-group", false);
    });
  });

  test("auto_launch launches a missing uid apart from the pass, checks it once launched, and logs what it did", async () => {
    const logger = recordingLogger();
    const list = deployments([
      xinference("small", "small-1", "my-small-bge", one, {
        model_info: { auto_launch: { model_name: "bge-small-en-v1.5", model_type: "embedding" } },
      }),
    ]);
    const health = monitor(list, { logger });
    await health.runPass();
    const launching = `model uid 'my-small-bge' is not launched on Xinference server ${one.baseUrl}; auto-launching it (bge-small-en-v1.5), which can take minutes`;
    assert.equal(health.get("small-1")?.reason, launching);
    await health.settled();
    assert.equal(health.get("small-1")?.status, "healthy");
    assert.equal(health.get("small-1")?.modelType, "embedding");
    const launch = one.requests.find((r) => r.method === "POST" && r.path === "/v1/models");
    assert.deepEqual(launch?.body, { model_name: "bge-small-en-v1.5", model_type: "embedding", model_uid: "my-small-bge" });
    assert.deepEqual(logger.lines, [
      `info: auto-launching 'my-small-bge' (bge-small-en-v1.5) on Xinference server ${one.baseUrl}`,
      `warn: deployment small-1 of 'small' is unhealthy: ${launching}`,
      `info: auto-launched 'my-small-bge' on Xinference server ${one.baseUrl}`,
      "info: deployment small-1 of 'small' is healthy again",
    ]);
    one.terminate("my-small-bge");
    health.stop();
  });

  test("a failed auto-launch is reported, not fatal", async () => {
    const logger = recordingLogger();
    const list = deployments([
      xinference("nope", "nope-1", "my-nope", one, { model_info: { auto_launch: { model_name: "no-such-model", model_type: "embedding" } } }),
      {
        model_name: "keyed",
        // An API key (not an admin token) may not launch: Xinference answers 403.
        litellm_params: { model: "xinference/my-keyed", api_base: one.baseUrl, api_key: API_KEY },
        model_info: { id: "keyed-1", auto_launch: { model_name: "bge-small-en-v1.5", model_type: "embedding" } },
      },
      xinference("bad", "bad-1", "my-bad", one, { model_info: { auto_launch: { model_type: "embedding" } } }),
      xinference("untyped", "untyped-1", "my-untyped", one, { model_info: { auto_launch: { model_name: "bge-small-en-v1.5" } } }),
    ]);
    const health = monitor(list, { logger });
    await health.runPass();
    await health.settled();
    assert.match(health.get("nope-1")?.reason ?? "", /^model uid 'my-nope' is not launched on .*; auto-launch failed: POST \/models answered 400: Embedding model no-such-model not found/);
    assert.match(health.get("keyed-1")?.reason ?? "", /auto-launch failed: POST \/models answered 403: Not enough permissions/);
    assert.match(health.get("bad-1")?.reason ?? "", /auto-launch failed: model_info.auto_launch needs model_name/);
    assert.match(health.get("untyped-1")?.reason ?? "", /auto-launch failed: model_info.auto_launch needs model_type/);
    assert.equal(logger.lines.filter((line) => line.startsWith("warn: auto-launch of")).length, 2);
    assert.doesNotMatch(logger.lines.join("\n"), new RegExp(`${API_KEY}|${ADMIN}`));
    health.stop();
  });

  test("with background checks, an unhealthy deployment leaves the rotation and comes back when it recovers", async () => {
    const clock = new FakeClock();
    await one.launch({ model_name: "bge-large-en-v1.5", model_type: "embedding", model_uid: "flaky" });
    const entries = [xinference("g", "flaky-1", "flaky", one), xinference("g", "steady-1", "bge-base-en", one)];
    const health = monitor(deployments(entries), { clock });
    health.start();
    await health.settled();
    assert.equal(health.nextCheckAt(), clock.now() + 10_000);
    const { router } = testRouter({ model_list: entries }, { rotation: health, clock });
    const picked = async (): Promise<Set<string>> => {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) ids.add((await router.execute("g", async (d) => d.id)).result);
      return ids;
    };
    assert.deepEqual([...(await picked())].sort(), ["flaky-1", "steady-1"]);

    one.terminate("flaky");
    clock.advance(10_000);
    await health.runPass();
    assert.equal(health.get("flaky-1")?.status, "unhealthy");
    assert.deepEqual([...(await picked())], ["steady-1"]);

    await one.launch({ model_name: "bge-large-en-v1.5", model_type: "embedding", model_uid: "flaky" });
    clock.advance(10_000);
    await health.runPass();
    assert.equal(health.get("flaky-1")?.status, "healthy");
    assert.deepEqual([...(await picked())].sort(), ["flaky-1", "steady-1"]);
    health.stop();
    one.terminate("flaky");
  });

  test("without background checks, the start pass reports but removes nothing from the rotation", async () => {
    const health = monitor(deployments([xinference("g", "missing-1", "not-there", one)]), { background: false });
    health.start();
    await health.settled();
    assert.equal(health.get("missing-1")?.status, "unhealthy");
    assert.equal(health.inRotation("missing-1"), true);
    assert.equal(health.nextCheckAt(), undefined);
    health.stop();
  });
});

describe("the default client, over the SDK's xinference provider", () => {
  test("lists, finds missing uids, records abilities and auto-launches", async () => {
    const list = deployments([
      xinference("sd", "sd-1", "stabilityai/stable-diffusion-3.5-large", one),
      xinference("missing", "missing-1", "not-launched", one),
      xinference("launched", "launched-1", "sdk-launched", one, {
        model_info: { auto_launch: { model_name: "bge-small-en-v1.5", model_type: "embedding" } },
      }),
      { model_name: "any/*", litellm_params: { model: "xinference/*", api_base: one.baseUrl, api_key: ADMIN }, model_info: { id: "wild-1" } },
    ]);
    const health = monitor(list, { servers: modelServerClient(providers) });
    await health.runPass();
    await health.settled();
    assert.deepEqual(health.get("sd-1")?.abilities, ["text2image", "image2image", "inpainting"]);
    assert.match(health.get("missing-1")?.reason ?? "", /^model uid 'not-launched' is not launched on Xinference server /);
    assert.equal(health.get("launched-1")?.status, "healthy");
    // A wildcard reaches what its server lists: each model under the name a client asks for it by.
    assert.equal(health.get("wild-1")?.status, "healthy");
    const reached = new Map(health.wildcardModels().map(({ id, model }) => [id, model]));
    assert.deepEqual(reached.get("any/qwen2.5-instruct")?.model_ability, ["chat", "tools"]);
    assert.equal(reached.get("any/stabilityai/stable-diffusion-3.5-large")?.model_type, "image");
    one.terminate("sdk-launched");
    health.stop();
  });
});

describe("probes", () => {
  test("an injected probe decides for deployments the model servers do not cover, and after the listing", async () => {
    const failing = new Set(["other-bad", "x-bad"]);
    const probed: string[] = [];
    const list = deployments([
      { model_name: "other", litellm_params: { model: "openai/text-embedding-3-small" }, model_info: { id: "other-ok" } },
      { model_name: "other", litellm_params: { model: "openai/text-embedding-3-large" }, model_info: { id: "other-bad" } },
      xinference("x", "x-bad", "bge-base-en", two),
      xinference("x", "x-missing", "not-launched", two),
    ]);
    const health = monitor(list, {
      probe: async (d) => {
        probed.push(d.id);
        if (failing.has(d.id)) throw new Error("embedding call answered 500");
      },
    });
    await health.runPass();
    assert.equal(health.get("other-ok")?.status, "healthy");
    assert.equal(health.get("other-bad")?.reason, "health probe failed: embedding call answered 500");
    assert.equal(health.get("x-bad")?.status, "unhealthy");
    assert.equal(health.get("x-missing")?.status, "unhealthy");
    assert.deepEqual(probed.sort(), ["other-bad", "other-ok", "x-bad"], "a uid that is not launched is not probed");
    health.stop();
  });

  test("a probe that hangs is cut by the check timeout", async () => {
    const clock = new FakeClock();
    const list = deployments([{ model_name: "o", litellm_params: { model: "openai/x" }, model_info: { id: "o-1" } }]);
    const health = monitor(list, {
      clock,
      checkTimeoutMs: 3000,
      probe: () => {
        clock.advance(3000);
        return new Promise(() => undefined);
      },
    });
    await health.runPass();
    assert.equal(health.get("o-1")?.reason, "health probe failed: no answer within 3 s");
    health.stop();
  });

  test("without servers or a probe, nothing is known and everything stays in rotation", async () => {
    const list = deployments([{ model_name: "o", litellm_params: { model: "openai/x" }, model_info: { id: "o-1" } }]);
    const health = new HealthMonitor(list, { background: true, intervalMs: 1000, checkTimeoutMs: 5000, clock: new FakeClock() });
    await health.runPass();
    assert.equal(health.get("o-1")?.status, "unknown");
    assert.equal(health.inRotation("o-1"), true);
    health.stop();
  });
});
