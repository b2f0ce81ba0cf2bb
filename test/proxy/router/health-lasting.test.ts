// A uid the health checks found not launched, with no auto-launch to bring it, is not a passing outage: the
// client hears the checks' reason with a 404 and no invitation to retry.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { testApp } from "../../support/app.js";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => emulator.close());

it("answers 404 with the health checks' reason for a uid not launched, without calling it", async () => {
  const app = await testApp(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-m3, api_base: ${emulator.baseUrl} }
    model_info: { id: embed-a, mode: embedding }
general_settings: { background_health_checks: true, health_check_interval: 300 }
`);
  try {
    await app.router.health.runPass();
    emulator.clearRequests();
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hi" } });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.headers["retry-after"], undefined);
    assert.match((res.json() as { error: { message: string } }).error.message, /model uid 'bge-m3' is not launched on .*launch it there, or set model_info\.auto_launch/);
    assert.equal(emulator.requests.filter((r) => r.path === "/v1/embeddings").length, 0);
  } finally {
    await app.dispose();
  }
});
