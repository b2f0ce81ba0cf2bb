// What /health and /health/readiness say, from the router and its health monitor, against emulated Xinference
// servers and a TCP server that never answers; time is a fake clock.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { healthReport } from "../../src/proxy/health-report.js";
import { createRouter, type RouterBundle } from "../../src/proxy/router/index.js";
import type { ModelEntryInput } from "../../src/proxy/router/config.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type SilentServer, startSilentServer } from "../support/silent-server.js";
import { xinferenceOverHttp } from "./router/emulator-servers.js";
import { FakeClock, routerInput } from "./router/helpers.js";

let xinference: Emulator;
let silent: SilentServer;

before(async () => {
  xinference = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
  silent = await startSilentServer();
});

after(async () => {
  await Promise.all([xinference.close(), silent.close()]);
});

function entry(id: string, uid: string, apiBase = xinference.baseUrl): ModelEntryInput {
  return { model_name: "embed", litellm_params: { model: `xinference/${uid}`, api_base: apiBase }, model_info: { id } };
}

function bundle(entries: ModelEntryInput[], clock: FakeClock): RouterBundle {
  return createRouter(routerInput({ model_list: entries, general_settings: { health_check_timeout: 1 } }), { servers: xinferenceOverHttp, clock });
}

describe("/health/readiness", () => {
  // The uids of the two deployments (the emulator exists only once `before` ran), and what readiness then says.
  const cases: [string, [string, string], string][] = [
    ["every deployment healthy", ["bge-base-en", "bge-base-en"], "healthy"],
    ["some unhealthy", ["bge-base-en", "not-launched"], "degraded"],
    ["all unhealthy", ["not-launched", "not-launched-either"], "unhealthy"],
  ];
  for (const [what, [a, b], status] of cases) {
    test(`is 'starting' until each deployment is checked, then '${status}' with ${what}`, async () => {
      const { router, health, close } = bundle([entry("a", a), entry("b", b)], new FakeClock());
      const checks = healthReport(router, health);
      assert.deepEqual(checks.readiness(), { status: "starting", checked: 0, pending: 2, healthy_deployments: 0, unhealthy_deployments: 0 });
      await health.runPass();
      const healthy = { healthy: 2, degraded: 1, unhealthy: 0 }[status] ?? -1;
      assert.deepEqual(checks.readiness(), {
        status,
        checked: 2,
        pending: 0,
        healthy_deployments: healthy,
        unhealthy_deployments: 2 - healthy,
      });
      await close();
    });
  }
});

describe("/health", () => {
  test("lists a deployment whose check has not finished when the answer is due as unhealthy, saying why", async () => {
    const clock = new FakeClock();
    const { router, health, close } = bundle([entry("answers", "bge-base-en"), entry("hangs", "bge-base-en", silent.url("/v1"))], clock);
    const connections = silent.connections;
    const answer = healthReport(router, health).report({ fresh: false });
    await silent.connected(connections + 1);
    // Each turn of the event loop lets I/O in: the emulator's answer, then its recording.
    while (health.get("answers")?.checkedAt === undefined) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
    const report = await answer;
    assert.deepEqual(report, {
      healthy_endpoints: [
        {
          model_name: "embed",
          model: "xinference/bge-base-en",
          api_base: xinference.baseUrl,
          deployment_id: "answers",
          healthy: true,
          in_flight: 0,
          model_type: "embedding",
          launch_state: "launched",
          last_checked_at: new Date(clock.now() - 1000).toISOString(),
        },
      ],
      unhealthy_endpoints: [
        {
          model_name: "embed",
          model: "xinference/bge-base-en",
          api_base: silent.url("/v1"),
          deployment_id: "hangs",
          healthy: false,
          error: `Xinference server ${silent.url("/v1")} did not list its models: no answer within 1 s`,
          in_flight: 0,
          last_checked_at: new Date(clock.now()).toISOString(),
        },
      ],
      healthy_count: 1,
      unhealthy_count: 1,
      checked_at: new Date(clock.now() - 1000).toISOString(),
    });
    await close();
  });

  test("says of each deployment whether its uid is launched, what the server reports of it, and its requests in flight", async () => {
    const clock = new FakeClock();
    const { router, health, close } = bundle([entry("up", "bge-base-en"), entry("down", "not-launched")], clock);
    await health.runPass();
    let release: () => void = () => undefined;
    let called: () => void = () => undefined;
    const inCall = new Promise<void>((resolve) => (called = resolve));
    const held = new Promise<string>((resolve) => (release = () => resolve("done")));
    const routed = router.execute("embed", () => {
      called();
      return held;
    });
    await inCall;
    const report = await healthReport(router, health).report({ fresh: false });
    release();
    await routed;
    const up = report.healthy_endpoints.find((d) => d.deployment_id === "up");
    const down = report.unhealthy_endpoints.find((d) => d.deployment_id === "down");
    assert.deepEqual([up?.launch_state, up?.model_type], ["launched", "embedding"]);
    assert.deepEqual([down?.launch_state, down?.model_type], ["not_launched", undefined]);
    // Whichever deployment the router picked, the held call is counted on it.
    assert.equal((up?.in_flight ?? 0) + (down?.in_flight ?? 0), 1);
    assert.match(String(down?.error), /not launched/);
    await close();
  });
});
