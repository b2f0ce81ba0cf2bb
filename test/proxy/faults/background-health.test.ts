/**
 * Background health checks through the proxy: with `background_health_checks` on, each pass reads every
 * Xinference server's model list. A deployment whose uid is terminated there leaves the rotation before any
 * client request fails on it, `/health` says which uid on which server, and a relaunch brings it back.
 *
 * Waits are for the emulator to see the passes' `GET /v1/models` (never `/health`, which may run a pass of its
 * own once the last one is older than the interval), each bounded by a deadline.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, type RecordedRequest, startEmulator } from "../../support/emulator/index.js";
import { fetchHealth, type HealthBody, type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";

const MASTER_KEY = "sk-background-health-master";
const UID = "bge-small-en-v1.5";
/** Each wait for background passes gives up after this: with a 1 s interval, two passes take about 2 s. */
const PASS_DEADLINE_MS = 15_000;

/** Calls `listener` with each request the emulator named answers. */
const listeners = new Map<string, Set<(request: RecordedRequest) => void>>();

async function emulator(name: string): Promise<Emulator> {
  listeners.set(name, new Set());
  return startEmulator({
    models: [{ model_name: UID, model_type: "embedding" }],
    onRequest: (request) => listeners.get(name)?.forEach((listener) => listener(request)),
  });
}

/** Resolves once `name` has answered `count` model listings that arrived after now. */
function listings(name: string, count: number): Promise<void> {
  const since = Date.now();
  const listenersOf = listeners.get(name);
  assert.ok(listenersOf);
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      listenersOf.delete(listener);
      reject(new Error(`${name}: ${seen} of ${count} health passes within ${PASS_DEADLINE_MS / 1000} s`));
    }, PASS_DEADLINE_MS);
    const listener = (request: RecordedRequest): void => {
      if (request.method !== "GET" || request.path !== "/v1/models" || request.at < since) return;
      if (++seen < count) return;
      clearTimeout(timer);
      listenersOf.delete(listener);
      resolve();
    };
    listenersOf.add(listener);
  });
}

let a: Emulator;
let b: Emulator;
let proxy: ProxyProcess;

before(async () => {
  a = await emulator("a");
  b = await emulator("b");
  const entry = (id: string, server: Emulator): string => `
  - model_name: embed
    litellm_params:
      model: xinference/${UID}
      api_base: ${server.baseUrl}
    model_info:
      id: ${id}`;
  proxy = await startProxyProcess(`model_list:${entry("on-a", a)}${entry("on-b", b)}
general_settings:
  master_key: ${MASTER_KEY}
  background_health_checks: true
  health_check_interval: 1
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([a?.close(), b?.close()]);
});

async function servedBy(requests: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < requests; i++) {
    const res = await fetch(`${proxy.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: `request ${i}` }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-xgate-attempts"), null, "no request needed a retry");
    const id = res.headers.get("x-xgate-deployment") ?? "";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const health = (): Promise<HealthBody> => fetchHealth(proxy, MASTER_KEY);

describe("background health checks through the proxy", () => {
  test("a terminated uid leaves the rotation before any request fails on it; /health names the uid and server", async () => {
    assert.deepEqual([...(await servedBy(40)).keys()].sort(), ["on-a", "on-b"]);

    a.terminate(UID);
    // The second listing after the terminate means a whole pass ran after it.
    await listings("a", 2);
    const callsBefore = a.requests.filter((r) => r.path === "/v1/embeddings").length;
    assert.deepEqual([...(await servedBy(30)).keys()], ["on-b"]);
    assert.equal(a.requests.filter((r) => r.path === "/v1/embeddings").length, callsBefore, "a request was sent to the terminated uid");

    const report = await health();
    assert.equal(report.healthy_count, 1);
    const entry = report.unhealthy_endpoints.find((e) => e.deployment_id === "on-a");
    assert.equal(entry?.error, `model uid '${UID}' is not launched on Xinference server ${a.baseUrl}; launch it there, or set model_info.auto_launch`);
    assert.match(proxy.output().stdout, /deployment on-a of 'embed' is unhealthy: model uid 'bge-small-en-v1\.5' is not launched/);
  });

  test("relaunched, it comes back into the rotation", async () => {
    await a.launch({ model_name: UID, model_type: "embedding" });
    await listings("a", 2);
    assert.deepEqual([...(await servedBy(40)).keys()].sort(), ["on-a", "on-b"]);
    assert.equal((await health()).healthy_count, 2);
    assert.match(proxy.output().stdout, /deployment on-a of 'embed' is healthy again/);
  });
});
