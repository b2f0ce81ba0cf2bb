/**
 * A virtual key's own work on a request, stage by stage, in CPU per request against the master key's: the
 * authenticate stage (a key-cache hit), then the request's account — budgets reserved, limits counted,
 * `x-ratelimit-*` and spend headers written, the cost settled — with an rpm_limit, a tpm_limit and a
 * max_budget on the key and its team, as S9's key has. What the two keys share (reading the body, the
 * upstream call, the log line, the spend row's journal) is left out, so that the difference is all that is
 * measured. Rounds alternate between the two keys; the medians are reported.
 *
 *   npx tsx bench/account-stage.ts [--iterations 200000] [--rounds 7]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import { MemoryBudgets } from "../src/proxy/budgets/index.js";
import { KeyCache } from "../src/proxy/keys/cache.js";
import { generateKey, hashKey, keyName } from "../src/proxy/keys/tokens.js";
import { MemoryLimiter } from "../src/proxy/limits/index.js";
import { type AccountingDeps, RequestAccount } from "../src/proxy/pipeline/account.js";
import type { Dispatched } from "../src/proxy/pipeline/dispatch.js";
import { authenticator, type Authenticate } from "../src/proxy/pipeline/authenticate.js";
import { openStore } from "../src/proxy/store/index.js";

const MASTER = "sk-bench-master-key-0123456789";
const CHUNK = 5_000;
const PRICING = { inputCostPerToken: 0.0000001 };

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A request and its reply with what the stages read and write: a route, headers, and headers going out. */
function exchange(key: string): { request: FastifyRequest; reply: FastifyReply } {
  const request = {
    id: "bench",
    routeOptions: { url: "/v1/embeddings", config: {} },
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", host: "127.0.0.1:4000" },
    principal: null,
    trace: {},
  } as unknown as FastifyRequest;
  const out: Record<string, string> = {};
  const raw = { headersSent: false, once: () => raw };
  const reply = {
    raw,
    header(name: string, value: string) {
      out[name] = value;
      return reply;
    },
    headers(values: Record<string, string>) {
      Object.assign(out, values);
      return reply;
    },
  } as unknown as FastifyReply;
  return { request, reply };
}

const OUTCOME: Dispatched<unknown> = {
  result: undefined,
  group: "embed",
  deploymentId: "d1",
  apiBase: "http://127.0.0.1:9997/v1",
  pricing: PRICING,
  attempts: 1,
  fallbackUsed: false,
  upstreamMs: 1,
  quota: { requests: undefined, tokens: undefined },
};

/** CPU µs per request of authenticate + account, `iterations` times. */
async function cpuPerRequest(authenticate: Authenticate, deps: AccountingDeps, key: string, iterations: number): Promise<number> {
  const start = process.cpuUsage();
  for (let done = 0; done < iterations; done += CHUNK) {
    for (let i = 0; i < CHUNK; i++) {
      const { request, reply } = exchange(key);
      const pending = authenticate(request);
      if (pending !== undefined) await pending;
      const account = new RequestAccount(deps, request, reply, "embeddings");
      account.parsed("embed", undefined);
      account.routed("embed");
      await account.admit("embed", () => ({ promptTokens: 10 }));
      account.answeredBy(OUTCOME);
      account.finish({ promptTokens: 10, completionTokens: 0 });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

async function main(): Promise<void> {
  const iterations = option("iterations", 200_000);
  const rounds = option("rounds", 7);
  const dir = await mkdtemp(join(tmpdir(), "xgate-bench-account-"));
  const store = await openStore({ kind: "sqlite", path: join(dir, "xgate.db") });
  const limiter = new MemoryLimiter();
  const budgets = new MemoryBudgets();
  try {
    await store.teams.create({ team_id: "bench-team", models: ["embed"], rpm_limit: 1e9, tpm_limit: 1e12, max_budget: 1e9 });
    const value = generateKey();
    await store.keys.create({
      token: hashKey(value),
      key_name: keyName(value),
      key_alias: "bench",
      team_id: "bench-team",
      models: ["embed"],
      rpm_limit: 1e9,
      tpm_limit: 1e12,
      max_budget: 1e9,
    });
    const keys = new KeyCache(store);
    keys.setNotified(true);
    const authenticate = authenticator(MASTER, keys);
    const deps: AccountingDeps = {
      limiter,
      budgets,
      recorder: undefined,
      estimateCost: (_model, estimate) => estimate.promptTokens * PRICING.inputCostPerToken,
      onSoftBudget: () => undefined,
      now: () => Date.now(),
      onRecordError: (error) => {
        throw error;
      },
    };

    await cpuPerRequest(authenticate, deps, MASTER, 50_000);
    await cpuPerRequest(authenticate, deps, value, 50_000);
    const master: number[] = [];
    const virtual: number[] = [];
    for (let round = 0; round < rounds; round++) {
      master.push(await cpuPerRequest(authenticate, deps, MASTER, iterations));
      virtual.push(await cpuPerRequest(authenticate, deps, value, iterations));
    }
    const m = median(master);
    const v = median(virtual);
    console.log(`authenticate + account stages, CPU per request (median of ${rounds} rounds of ${iterations.toLocaleString("en")})`);
    console.log(`  master key                                                  ${m.toFixed(2).padStart(7)} µs`);
    console.log(`  virtual key and team, each with rpm, tpm and a max_budget   ${v.toFixed(2).padStart(7)} µs   +${(v - m).toFixed(2)} µs`);
  } finally {
    await limiter.close();
    await budgets.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
