// The router against emulated Xinference servers misbehaving in every way the emulator knows, through the
// SDK's real upstream calls: with one healthy deployment in the group, no request fails; cooled deployments
// come back; with every deployment down, each request gets a clean 503 with a Retry-After.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ServiceUnavailableError } from "../../../src/errors.js";
import { embedding } from "../../../src/index.js";
import type { Clock } from "../../../src/proxy/router/clock.js";
import { type RouterConfigInput, routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { buildDeployments, type Deployment } from "../../../src/proxy/router/deployment.js";
import { MemoryRouterState } from "../../../src/proxy/router/memory-state.js";
import { type CallContext, Router } from "../../../src/proxy/router/router.js";
import { type Emulator, type Fault, startEmulator } from "../../support/emulator/index.js";
import { mulberry32 } from "./helpers.js";

/** Real timers, but a "now" the test can move forward, to bring cooled deployments back without waiting. */
class ShiftableClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  setTimer(ms: number, fn: () => void, options?: { unref?: boolean }): () => void {
    const timer = setTimeout(fn, ms);
    if (options?.unref) timer.unref();
    return () => clearTimeout(timer);
  }
}

const FAULTS: Record<string, Fault | "loading" | undefined> = {
  healthy: undefined,
  errors: { kind: "status", status: 500, body: { detail: "engine error" }, rate: 0.5 },
  resets: { kind: "reset", rate: 0.5 },
  stalls: { kind: "stall", rate: 0.3 },
  "stalled-bodies": { kind: "stall-body", rate: 0.3 },
  truncated: { kind: "truncate", rate: 0.5 },
  "rate-limited": { kind: "status", status: 429, body: { detail: "Rate limit reached for the model" }, rate: 0.5 },
  loading: "loading",
};

const emulators = new Map<string, Emulator>();

before(async () => {
  let seed = 1;
  for (const name of Object.keys(FAULTS)) {
    emulators.set(name, await startEmulator({ models: [{ model_name: "bge-small-en-v1.5", model_type: "embedding" }], seed: seed++ }));
  }
});

after(async () => {
  await Promise.all([...emulators.values()].map((e) => e.close()));
});

function applyFaults(): void {
  for (const [name, fault] of Object.entries(FAULTS)) {
    const emulator = emulators.get(name);
    if (emulator === undefined || fault === undefined) continue;
    if (fault === "loading") emulator.setLoading("bge-small-en-v1.5", true);
    else emulator.setFault("embeddings", fault);
  }
}

function clearFaults(): void {
  for (const emulator of emulators.values()) {
    emulator.setFault("embeddings", null);
    emulator.setLoading("bge-small-en-v1.5", false);
  }
}

function routerFor(clock: Clock): Router {
  const config: RouterConfigInput = {
    model_list: [...emulators].map(([name, emulator]) => ({
      model_name: "embed",
      // Stalls cost a faulty deployment's timeout; the healthy one's is long, so that a busy test machine
      // cannot make it look faulty too.
      litellm_params: { model: "xinference/bge-small-en-v1.5", api_base: emulator.baseUrl, timeout: name === "healthy" ? 30 : 1 },
      model_info: { id: name },
    })),
    // Enough retries to reach the healthy deployment past every faulty one.
    router_settings: { num_retries: Object.keys(FAULTS).length, cooldown_time: 1, allowed_fails: 2 },
    litellm_settings: { request_timeout: 30 },
  };
  const settings = routerSettingsFrom(config);
  return new Router({
    deployments: buildDeployments(config.model_list, settings),
    settings,
    state: new MemoryRouterState(),
    clock,
    random: mulberry32(3),
  });
}

function embed(deployment: Deployment, { signal, timeoutMs }: CallContext): Promise<number> {
  return embedding({
    model: deployment.model,
    input: "the quick brown fox",
    api_base: deployment.apiBase,
    timeout: timeoutMs / 1000,
    num_retries: 0,
    signal,
  }).then((response) => response.data.length);
}

/** Runs `total` requests, `concurrency` at a time; resolves with what each one ended with. */
async function load<T>(total: number, concurrency: number, one: () => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        results.push(await one().then((value): PromiseSettledResult<T> => ({ status: "fulfilled", value }), (reason: unknown) => ({ status: "rejected", reason })));
      }
    }),
  );
  return results;
}

describe("fault storm", () => {
  test("with one healthy deployment no request fails, and cooled deployments come back", async () => {
    const clock = new ShiftableClock();
    const router = routerFor(clock);
    applyFaults();
    const served = new Map<string, number>();
    const results = await load(600, 15, async () => {
      const answer = await router.execute("embed", embed);
      served.set(answer.deployment.id, (served.get(answer.deployment.id) ?? 0) + 1);
      return answer;
    });
    const failures = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of 600 requests failed`);
    assert.ok((served.get("healthy") ?? 0) > 0);
    assert.equal(served.get("loading"), undefined, "a loading model never answers");

    clearFaults();
    // Past every cooldown, the 30 s of the loading model's Retry-After included.
    clock.offset += 60_000;
    served.clear();
    await load(400, 10, async () => {
      const answer = await router.execute("embed", embed);
      served.set(answer.deployment.id, (served.get(answer.deployment.id) ?? 0) + 1);
    });
    assert.deepEqual([...served.keys()].sort(), Object.keys(FAULTS).sort());
    await router.close();
  });

  test("with every deployment down, each request gets a 503 with Retry-After", async () => {
    const router = routerFor(new ShiftableClock());
    for (const emulator of emulators.values()) {
      emulator.setFault("embeddings", { kind: "status", status: 429, body: { detail: "Rate limit reached for the model" } });
    }
    const results = await load(50, 5, () => router.execute("embed", embed));
    for (const result of results) {
      assert.equal(result.status, "rejected");
      const error = result.status === "rejected" ? (result.reason as unknown) : undefined;
      assert.ok(error instanceof ServiceUnavailableError, String(error));
      assert.ok((error.retryAfterMs ?? 0) > 0);
    }
    clearFaults();
    await router.close();
  });
});
