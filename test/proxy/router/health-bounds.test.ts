// Health checks never hold anything up: start() does not wait for the first pass, every check is cut after the
// check timeout, a few run at a time, none is retried or waits out a Retry-After, reports come from memory
// while they are recent and never wait past the timeout, and an auto-launch runs apart from the pass.
// Upstreams are real: emulated Xinference servers and a TCP server that never answers, on port 0; time is a
// fake clock, moved only once the upstream has seen what the test waits for.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as providers from "../../../src/providers/index.js";
import { cheapProbe } from "../../../src/proxy/health-report.js";
import { type ModelEntryInput, routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { buildDeployments, type Deployment } from "../../../src/proxy/router/deployment.js";
import { HealthMonitor, type HealthMonitorOptions, type HealthView } from "../../../src/proxy/router/health.js";
import { modelServerClient } from "../../../src/proxy/router/model-servers.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type SilentServer, startSilentServer } from "../../support/silent-server.js";
import { xinferenceOverHttp } from "./emulator-servers.js";
import { FakeClock } from "./helpers.js";

const ADMIN = "admin-token-for-tests";
const UID = "bge-small-en-v1.5";
/** Only a guard against a hang (the defect these tests are about), never a measure of speed. */
const HANG_GUARD = { timeout: 20_000 };

let xinference: Emulator;
/** Its model is loading: inference answers 503 with Retry-After: 30. */
let modelLoading: Emulator;
/** Answers every request 503 with Retry-After: 30. */
let serverLoading: Emulator;
let silent: SilentServer;

before(async () => {
  xinference = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }], adminTokens: [ADMIN] });
  modelLoading = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
  modelLoading.setLoading(UID, true);
  serverLoading = await startEmulator({ models: [] });
  serverLoading.setFault("*", {
    kind: "status",
    status: 503,
    body: { detail: "Server is starting, please retry later" },
    headers: { "Retry-After": "30" },
  });
  silent = await startSilentServer();
});

after(async () => {
  await Promise.all([xinference.close(), modelLoading.close(), serverLoading.close(), silent.close()]);
});

function entry(id: string, apiBase: string, more: { model?: string; model_info?: Record<string, unknown> } = {}): ModelEntryInput {
  return {
    model_name: "embed",
    litellm_params: { model: more.model ?? `xinference/${UID}`, api_base: apiBase, api_key: ADMIN },
    model_info: { id, ...more.model_info },
  };
}

function deployments(entries: ModelEntryInput[]): Deployment[] {
  return buildDeployments(entries, routerSettingsFrom({ model_list: [] }));
}

function monitor(list: ModelEntryInput[], options: Partial<HealthMonitorOptions> = {}): HealthMonitor {
  return new HealthMonitor(deployments(list), {
    background: false,
    intervalMs: 10_000,
    checkTimeoutMs: 1000,
    servers: xinferenceOverHttp,
    clock: new FakeClock(),
    ...options,
  });
}

/** What a report says of a deployment: why the pass had not finished with it, else its last finding. */
function reported(health: HealthMonitor, view: HealthView, id: string): string | undefined {
  return view.unfinished.get(id) ?? health.get(id)?.reason;
}

/** Resolves once `condition` holds, looking again after each turn of the event loop (I/O included). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

function reads(server: Emulator, method: string, path: string): number {
  return server.requests.filter((r) => r.method === method && r.path === path).length;
}

describe("health checks hold nothing up", () => {
  test("start() returns before the first pass ends; unchecked deployments are in the rotation meanwhile", HANG_GUARD, async () => {
    const clock = new FakeClock();
    const health = monitor([entry("hangs", silent.url("/start/v1")), entry("answers", xinference.baseUrl)], { clock, background: true });
    const connectionsBefore = silent.connections;
    await health.start();
    assert.deepEqual(health.summary(), { checked: 0, pending: 2, healthy: 0, unhealthy: 0 });
    assert.equal(health.inRotation("hangs"), true);
    assert.equal(health.inRotation("answers"), true);

    await silent.connected(connectionsBefore + 1);
    await until(() => health.get("answers")?.checkedAt !== undefined);
    assert.deepEqual(health.summary(), { checked: 1, pending: 1, healthy: 1, unhealthy: 0 });
    clock.advance(1000);
    await health.settled();
    assert.deepEqual(health.summary(), { checked: 2, pending: 0, healthy: 1, unhealthy: 1 });
    assert.equal(health.get("hangs")?.reason, `Xinference server ${silent.url("/start/v1")} did not list its models: no answer within 1 s`);
    assert.equal(health.inRotation("hangs"), false);
    health.stop();
  });

  test("at most `concurrency` checks run at once; a report due first says which were not answered or not reached", HANG_GUARD, async () => {
    const clock = new FakeClock();
    let running = 0;
    let most = 0;
    let started = 0;
    let onStart = (): void => undefined;
    const probesStarted = (count: number): Promise<void> =>
      new Promise((resolve) => {
        onStart = () => started >= count && resolve();
        onStart();
      });
    const ids = ["p1", "p2", "p3", "p4", "p5"];
    const health = monitor(
      ids.map((id) => entry(id, "http://127.0.0.1:1/v1", { model: `openai/${id}` })),
      {
        clock,
        concurrency: 2,
        probe: (_deployment, signal) => {
          most = Math.max(most, ++running);
          started++;
          onStart();
          return new Promise((_resolve, reject) =>
            signal.addEventListener("abort", () => {
              running--;
              reject(signal.reason as Error);
            }),
          );
        },
      },
    );
    const report = health.report();
    clock.advance(1000);
    const view = await report;
    assert.equal(reported(health, view, "p1"), "health probe failed: no answer within 1 s");
    assert.equal(reported(health, view, "p2"), "health probe failed: no answer within 1 s");
    for (const id of ["p3", "p4", "p5"]) {
      assert.match(
        reported(health, view, id) ?? "",
        /^(not checked yet: waiting for one of the 2 health checks that run at a time|still being checked: no answer after 0 s, and \/health waits 1 s at most)$/,
      );
    }
    // The pass goes on after the report, two at a time.
    await probesStarted(4);
    clock.advance(1000);
    await probesStarted(5);
    clock.advance(1000);
    await health.settled();
    for (const id of ids) assert.equal(health.get(id)?.reason, "health probe failed: no answer within 1 s");
    assert.equal(most, 2);
    health.stop();
  });

  test("a server that accepts and never answers is reported as not answering within the timeout", HANG_GUARD, async () => {
    const clock = new FakeClock();
    const health = monitor([entry("hangs", silent.url("/report/v1")), entry("answers", xinference.baseUrl)], { clock });
    const connectionsBefore = silent.connections;
    const report = health.report();
    await silent.connected(connectionsBefore + 1);
    await until(() => health.get("answers")?.checkedAt !== undefined);
    clock.advance(1000);
    const view = await report;
    assert.equal(reported(health, view, "hangs"), `Xinference server ${silent.url("/report/v1")} did not list its models: no answer within 1 s`);
    assert.equal(reported(health, view, "answers"), undefined);
    assert.equal(health.get("answers")?.status, "healthy");
    health.stop();
  });

  test("a loading model is reported as loading, with its Retry-After: never retried, never waited out", HANG_GUARD, async () => {
    const health = monitor(
      [
        entry("model-loading", modelLoading.baseUrl, { model_info: { mode: "embedding" } }),
        entry("server-loading", serverLoading.baseUrl),
      ],
      { servers: modelServerClient(providers), probe: cheapProbe },
    );
    await health.runPass();
    assert.equal(
      health.get("model-loading")?.reason,
      `health probe failed: still loading (503, Retry-After: 30 s): Model is loading, please retry later: ${UID}`,
    );
    assert.equal(
      health.get("server-loading")?.reason,
      `Xinference server ${serverLoading.baseUrl} did not list its models: still loading (503, Retry-After: 30 s): Server is starting, please retry later`,
    );
    assert.equal(reads(modelLoading, "POST", "/v1/embeddings"), 1);
    assert.equal(reads(serverLoading, "GET", "/v1/models"), 1);
    health.stop();
  });

  test("a pass younger than the interval is reported from memory; fresh asks for a new one; concurrent reports share one", async () => {
    const clock = new FakeClock();
    const health = monitor([entry("answers", xinference.baseUrl)], { clock });
    const before = reads(xinference, "GET", "/v1/models");
    const listings = (): number => reads(xinference, "GET", "/v1/models") - before;

    const views = await Promise.all([health.report(), health.report(), health.report()]);
    assert.equal(listings(), 1);
    assert.equal(new Set(views.map((v) => v.passStartedAt)).size, 1);

    clock.advance(9_999);
    await health.report();
    assert.equal(listings(), 1, "a pass younger than the interval ran again");
    await health.report({ fresh: true });
    assert.equal(listings(), 2);
    clock.advance(10_000);
    await health.report();
    assert.equal(listings(), 3);
    health.stop();
  });

  test("an auto-launch that takes minutes holds up neither the pass nor its report", HANG_GUARD, async () => {
    const uid = "slow-launch";
    const health = monitor([
      entry("launched", xinference.baseUrl, {
        model: `xinference/${uid}`,
        // `loading_ms`, an emulator extra passed through to POST /v1/models, keeps the launch going until released.
        model_info: { auto_launch: { model_name: "bge-base-en", model_type: "embedding", loading_ms: 3_600_000 } },
      }),
    ]);
    const view = await health.report();
    assert.equal(
      reported(health, view, "launched"),
      `model uid '${uid}' is not launched on Xinference server ${xinference.baseUrl}; auto-launching it (bge-base-en), which can take minutes`,
    );
    assert.equal(health.summary().unhealthy, 1);
    await health.report({ fresh: true });
    assert.equal(reads(xinference, "POST", "/v1/models"), 1, "a second launch while the first runs");

    xinference.setLoading(uid, false);
    await health.settled();
    assert.equal(health.get("launched")?.status, "healthy");
    xinference.terminate(uid);
    health.stop();
  });
});
