/**
 * `/metrics` of a proxy run with `--num_workers 2`, a real process group: whichever worker answers a scrape,
 * it shows the group's totals; a worker that cannot answer is left out after the primary's bounded wait.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { parseMetrics, valueOf } from "../../support/metrics.js";
import { startProxyProcess } from "../../support/proxy-process.js";

const MASTER = "sk-cluster-metrics-master-1234";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator?.close();
});

/** A request on a connection of its own: the primary hands connections to its workers in turn. */
function fresh(url: string, method: "GET" | "POST", body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      { method, agent: false, headers: { authorization: `Bearer ${MASTER}`, ...(payload !== undefined && { "content-type": "application/json" }) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("/metrics with --num_workers", () => {
  test("every worker's scrape adds up all workers; a stopped worker is left out, not waited for", async () => {
    const proxy = await startProxyProcess(
      `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
general_settings: { master_key: ${MASTER} }
`,
      { args: ["--num_workers", "2"] },
    );
    const workers = (): number[] => execFileSync("pgrep", ["-P", String(proxy.child.pid)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
    let stopped: number | undefined;
    try {
      const sent = 8;
      for (let i = 0; i < sent; i++) assert.equal((await fresh(`${proxy.url}/v1/embeddings`, "POST", { model: "embed", input: `sentence ${i}` })).status, 200);
      // Four scrapes on connections of their own: the workers answer them in turn.
      for (let i = 0; i < 4; i++) {
        const scraped = await fresh(`${proxy.url}/metrics`, "GET");
        assert.equal(scraped.status, 200, scraped.text);
        const samples = parseMetrics(scraped.text);
        assert.equal(valueOf(samples, "xgate_workers_reporting"), 2, "both workers are in the scrape");
        assert.equal(valueOf(samples, "xgate_requests_total", { route: "/v1/embeddings", model_group: "embed", status_class: "2xx" }), sent);
        // Earlier scrapes are counted too, by whichever worker served them.
        assert.equal(valueOf(samples, "xgate_requests_total", { route: "/metrics", model_group: "none", status_class: "2xx" }), i);
        assert.equal(valueOf(samples, "xgate_in_flight_requests"), 0);
      }

      const [first, second] = workers();
      assert.ok(first !== undefined && second !== undefined, "two workers");
      stopped = second;
      process.kill(stopped, "SIGSTOP");
      // Of two scrapes at once, one goes to the worker still running: it answers without the stopped one.
      const scrapes = [fresh(`${proxy.url}/metrics`, "GET"), fresh(`${proxy.url}/metrics`, "GET")];
      const answered = await Promise.race(scrapes);
      assert.equal(answered.status, 200, answered.text);
      const partial = parseMetrics(answered.text);
      assert.equal(valueOf(partial, "xgate_workers_reporting"), 1);
      assert.ok(valueOf(partial, "xgate_requests_total", { route: "/v1/embeddings", status_class: "2xx" }) <= sent);
      process.kill(stopped, "SIGCONT");
      stopped = undefined;
      for (const scraped of await Promise.all(scrapes)) assert.equal(scraped.status, 200, scraped.text);
      const whole = parseMetrics((await fresh(`${proxy.url}/metrics`, "GET")).text);
      assert.equal(valueOf(whole, "xgate_workers_reporting"), 2);
      assert.equal(valueOf(whole, "xgate_requests_total", { route: "/v1/embeddings", model_group: "embed", status_class: "2xx" }), sent);
    } finally {
      if (stopped !== undefined) process.kill(stopped, "SIGCONT");
      assert.equal(await proxy.stop(), 0);
    }
  });
});
