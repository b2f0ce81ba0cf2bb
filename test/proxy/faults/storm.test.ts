/**
 * The proxy under a storm of upstream faults, as a client sees it: the real CLI in front of one model group
 * of eight deployments on eight emulated Xinference servers, one healthy and seven misbehaving (errors,
 * connection resets, stalled responses and bodies, truncated bodies, 429s, 503 while loading).
 *
 * With the healthy one in the group no client sees an error and no request outlives its deadline; once the
 * faults clear, every cooled deployment comes back; with every deployment down, each client gets a clean
 * 503 with Retry-After at once.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { type Emulator, type Fault, startEmulator } from "../../support/emulator/index.js";
import { fetchHealth, type HealthBody, type ProxyProcess, startProxyProcess } from "../../support/proxy-process.js";

const MASTER_KEY = "sk-fault-storm-master";
const UID = "bge-small-en-v1.5";
/** The request deadline (`request_timeout`, also the healthy deployment's timeout), seconds. */
const REQUEST_TIMEOUT_S = 5;
/** Each faulty deployment's own timeout: a stalled attempt is cut after this, seconds. */
const FAULTY_TIMEOUT_S = 0.5;
/**
 * No request may take longer than its deadline plus this: the process, the network and a busy CI machine get
 * this much slack. A correctness bound (a stall is never answered), not a speed expectation.
 */
const MARGIN_MS = 3_000;

/** Model loading, as Xinference answers it, but saying to come back in 1 s rather than 30. */
const LOADING: Fault = {
  kind: "status",
  status: 503,
  body: { detail: `Model is loading, please retry later: ${UID}` },
  headers: { "Retry-After": "1" },
};

const FAULTS: Record<string, Fault | undefined> = {
  healthy: undefined,
  errors: { kind: "status", status: 500, body: { detail: "CUDA error: device-side assert triggered" }, rate: 0.5 },
  resets: { kind: "reset", rate: 0.5 },
  stalls: { kind: "stall", rate: 0.3 },
  "stalled-bodies": { kind: "stall-body", rate: 0.3 },
  truncated: { kind: "truncate", rate: 0.5 },
  "rate-limited": { kind: "status", status: 429, body: { detail: `Rate limit reached for the model: ${UID}` }, rate: 0.5 },
  loading: LOADING,
};
const IDS = Object.keys(FAULTS);

interface Outcome {
  status: number;
  ms: number;
  deployment: string | null;
  attempts: number;
  retryAfter: string | null;
  body: unknown;
}

const emulators = new Map<string, Emulator>();
let proxy: ProxyProcess;

before(async () => {
  let seed = 1;
  for (const id of IDS) {
    emulators.set(id, await startEmulator({ models: [{ model_name: UID, model_type: "embedding" }], seed: seed++, recordRequests: false }));
  }
  const entries = [...emulators].map(
    ([id, emulator]) => `
  - model_name: embed
    litellm_params:
      model: xinference/${UID}
      api_base: ${emulator.baseUrl}
      timeout: ${id === "healthy" ? REQUEST_TIMEOUT_S : FAULTY_TIMEOUT_S}
    model_info:
      id: ${id}`,
  );
  proxy = await startProxyProcess(`model_list:${entries.join("")}
litellm_settings:
  request_timeout: ${REQUEST_TIMEOUT_S}
router_settings:
  num_retries: ${IDS.length - 1}
  allowed_fails: 3
  cooldown_time: 1
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([...emulators.values()].map((e) => e.close()));
});

function setFaults(faults: Record<string, Fault | undefined>): void {
  for (const [id, emulator] of emulators) emulator.setFault("embeddings", faults[id] ?? null);
}

async function embed(input: string): Promise<Outcome> {
  const started = performance.now();
  const res = await fetch(`${proxy.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "embed", input }),
  });
  const body: unknown = await res.json();
  return {
    status: res.status,
    ms: performance.now() - started,
    deployment: res.headers.get("x-xgate-deployment"),
    attempts: Number(res.headers.get("x-xgate-attempts") ?? 1),
    retryAfter: res.headers.get("retry-after"),
    body,
  };
}

/** `total` requests, `concurrency` at a time. */
async function load(total: number, concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) outcomes.push(await embed(`request ${next++}`));
    }),
  );
  return outcomes;
}

function assertWithinDeadline(outcomes: readonly Outcome[]): void {
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  assert.ok(slowest < REQUEST_TIMEOUT_S * 1000 + MARGIN_MS, `a request took ${Math.round(slowest)} ms, past its ${REQUEST_TIMEOUT_S} s deadline`);
}

function count<T>(items: readonly T[], key: (item: T) => string | null): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

const health = (): Promise<HealthBody> => fetchHealth(proxy, MASTER_KEY);

describe("a fault storm through the proxy", () => {
  test("with one healthy deployment, thousands of requests all succeed, each within its deadline", async () => {
    setFaults(FAULTS);
    const outcomes = await load(2500, 24);
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(
      [...count(failed, (o) => String(o.status))],
      [],
      `first failure: ${JSON.stringify(failed[0]?.body)}`,
    );
    assertWithinDeadline(outcomes);
    // The storm did happen: requests were retried past faulty deployments, some of which still answered
    // between their faults, while the loading one never did.
    const served = count(outcomes, (o) => o.deployment);
    assert.ok(outcomes.some((o) => o.attempts > 1));
    assert.ok((served.get("healthy") ?? 0) > 0);
    assert.ok((served.get("errors") ?? 0) + (served.get("rate-limited") ?? 0) > 0, JSON.stringify([...served]));
    assert.equal(served.get("loading"), undefined);
    const log = proxy.output().stdout;
    for (const id of ["errors", "resets", "stalls", "rate-limited", "loading"]) {
      assert.ok(log.includes(`deployment ${id} of 'embed' cooling down`), `${id} never cooled down`);
    }
  });

  test("once the faults clear, every cooled deployment comes back into the rotation", async () => {
    setFaults({});
    // Cooldowns last a second here (cooldown_time, and the loading model's Retry-After).
    const deadline = Date.now() + 15_000;
    let report = await health();
    while (report.healthy_count < IDS.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      report = await health();
    }
    assert.equal(report.healthy_count, IDS.length, JSON.stringify(report.unhealthy_endpoints));
    const outcomes = await load(400, 8);
    assert.ok(outcomes.every((o) => o.status === 200));
    assert.deepEqual([...count(outcomes, (o) => o.deployment).keys()].sort(), [...IDS].sort());
  });

  test("with every deployment down, each client gets a clean 503 with Retry-After, never a hang", async () => {
    // Each way of being down that takes a deployment out at once: rate limited, loading, a 503 with Retry-After.
    const down: Fault[] = [
      { kind: "status", status: 429, body: { detail: `Rate limit reached for the model: ${UID}` } },
      LOADING,
      { kind: "status", status: 503, body: { detail: "Server is overloaded" }, headers: { "Retry-After": "3" } },
    ];
    setFaults(Object.fromEntries(IDS.map((id, i) => [id, down[i % down.length]])));
    emulators.get("loading")?.setLoading(UID, true);
    try {
      const outcomes = await load(400, 16);
      assertWithinDeadline(outcomes);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 503, JSON.stringify(outcome.body));
        assert.ok(Number(outcome.retryAfter) >= 1, `Retry-After: ${outcome.retryAfter}`);
        const { error } = outcome.body as { error: Record<string, unknown> };
        assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"]);
        assert.equal(error.code, "no_deployment_available");
        assert.equal(typeof error.type, "string");
        assert.match(String(error.message), /No deployment of model group 'embed' is available/);
      }
    } finally {
      setFaults({});
      emulators.get("loading")?.setLoading(UID, false);
    }
  });
});
