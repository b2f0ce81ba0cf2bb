/**
 * Health checks through the proxy, as an operator sees them, with upstreams that refuse connections, answer
 * 503 with `Retry-After: 30` (a model still loading), or accept connections and never answer.
 *
 * The proxy takes traffic while its first health pass is still waiting on an upstream, serves the deployments
 * it has not checked yet, and says so on `/health/readiness`; `/health` answers within `health_check_timeout`,
 * naming what did not answer, and comes from memory unless the pass is old or `fresh=true` asks for a new one.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type HealthBody, type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";
import { type SilentServer, startSilentServer } from "../../support/silent-server.js";

const MASTER_KEY = "sk-startup-health-master";
const UID = "bge-small-en-v1.5";
const auth = { authorization: `Bearer ${MASTER_KEY}` };
const LOADING_FAULT = {
  kind: "status",
  status: 503,
  body: { detail: `Model is loading, please retry later: ${UID}` },
  headers: { "Retry-After": "30" },
} as const;

interface Readiness {
  status: string;
  checked: number;
  pending: number;
  healthy_deployments: number;
  unhealthy_deployments: number;
  db: string;
}

type Report = HealthBody & { checked_at: string | null; unhealthy_endpoints: { deployment_id: string; error?: string }[] };

function deployment(id: string, apiBase: string, mode = "embedding"): string {
  return `
  - model_name: embed
    litellm_params:
      model: xinference/${UID}
      api_base: ${apiBase}
    model_info:
      id: ${id}
      mode: ${mode}`;
}

async function readiness(proxy: ProxyProcess): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${proxy.url}/health/readiness`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** Resolves once readiness says every deployment has been checked once (the first pass is over). */
async function firstPassOver(proxy: ProxyProcess): Promise<void> {
  while ((await readiness(proxy)).body.pending > 0) await delay(50);
}

async function report(proxy: ProxyProcess, query = ""): Promise<Report> {
  const res = await fetch(`${proxy.url}/health${query}`, { headers: auth });
  assert.equal(res.status, 200);
  return (await res.json()) as Report;
}

/** A base URL where nothing listens: connections are refused. */
async function refusingBase(): Promise<string> {
  const closed = await startEmulator({ models: [] });
  await closed.close();
  return closed.baseUrl;
}

describe("the proxy does not wait on its upstreams' health", () => {
  let serves: Emulator;
  let loading: Emulator;
  let proxy: ProxyProcess;

  before(async () => {
    serves = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
    // Its model list never comes: the first pass cannot finish while the test holds it.
    serves.setFault("models", { kind: "stall" });
    loading = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
    loading.setFault("*", LOADING_FAULT);
    proxy = await startProxyProcess(`model_list:${deployment("serves", serves.baseUrl)}${deployment("loading", loading.baseUrl)}${deployment("refused", await refusingBase())}
general_settings:
  master_key: ${MASTER_KEY}
  health_check_timeout: 600
`);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([serves?.close(), loading?.close()]);
  });

  test("it listens, answers liveness and serves unchecked deployments while the first pass is pending", async () => {
    const ready = await readiness(proxy);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, "starting");
    assert.ok(ready.body.pending >= 1, JSON.stringify(ready.body));
    assert.equal(ready.body.checked + ready.body.pending, 3);
    assert.equal(typeof ready.body.db, "string");

    const live = await fetch(`${proxy.url}/health/liveliness`);
    assert.equal(live.status, 200);

    const res = await fetch(`${proxy.url}/v1/embeddings`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "served before its check" }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-xgate-deployment"), "serves");
    // Still pending: the model list of the deployment that just answered has not come.
    assert.equal((await readiness(proxy)).body.status, "starting");
  });
});

describe("/health answers within health_check_timeout and says what did not answer", () => {
  let loading: Emulator;
  let serves: Emulator;
  let silent: SilentServer;
  let proxy: ProxyProcess;

  before(async () => {
    loading = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
    loading.setLoading(UID, true);
    serves = await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }] });
    silent = await startSilentServer();
    proxy = await startProxyProcess(`model_list:${deployment("hangs", silent.url("/v1"))}${deployment("loading", loading.baseUrl)}${deployment("serves", serves.baseUrl)}
general_settings:
  master_key: ${MASTER_KEY}
  health_check_timeout: 2
`);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([loading?.close(), serves?.close(), silent?.close()]);
  });

  test("a server that never answers and a model still loading are named, with the wait and the Retry-After", async () => {
    // A new pass, in a process past its start (whose first requests are slow on a busy machine).
    await firstPassOver(proxy);
    const probes = (): number => loading.requests.filter((r) => r.path === "/v1/embeddings").length;
    const probesBefore = probes();
    const body = await report(proxy, "?fresh=true");
    const errors = Object.fromEntries(body.unhealthy_endpoints.map((e) => [e.deployment_id, e.error]));
    assert.deepEqual(errors, {
      hangs: `Xinference server ${silent.url("/v1")} did not list its models: no answer within 2 s`,
      loading: `health probe failed: still loading (503, Retry-After: 30 s): Model is loading, please retry later: ${UID}`,
    });
    assert.deepEqual(
      body.healthy_endpoints.map((e) => e.deployment_id),
      ["serves"],
    );
    assert.equal(typeof body.checked_at, "string");
    assert.equal(probes(), probesBefore + 1, "the 503 was retried");

    const ready = await readiness(proxy);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ...ready.body, status: "degraded", checked: 3, pending: 0, healthy_deployments: 1, unhealthy_deployments: 2 });
  });

  test("a recent pass is reported from memory; fresh=true runs a new one", async () => {
    const first = await report(proxy);
    const connections = silent.connections;
    const again = await report(proxy);
    assert.equal(again.checked_at, first.checked_at);
    assert.equal(silent.connections, connections, "a recent pass was run again");

    const fresh = await report(proxy, "?fresh=true");
    await silent.connected(connections + 1);
    assert.ok(Date.parse(fresh.checked_at ?? "") > Date.parse(first.checked_at ?? ""), `${fresh.checked_at} after ${first.checked_at}`);
    assert.match(fresh.unhealthy_endpoints.find((e) => e.deployment_id === "hangs")?.error ?? "", /no answer within 2 s$/);
  });

  test("fresh takes true or false", async () => {
    const res = await fetch(`${proxy.url}/health?fresh=maybe`, { headers: auth });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; type: string; param: string; code: string } };
    assert.deepEqual(body.error, {
      message: "GET /health takes fresh=true (run a new health pass) or fresh=false (the default).",
      type: "invalid_request_error",
      param: "fresh",
      code: "invalid_request",
    });
  });
});
