/**
 * The Grafana dashboard and the README against the metrics the proxy serves: every metric a panel queries
 * exists, and every metric served is documented — so that renaming one fails here, not on an operator's screen.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { testApp, type TestApp } from "../../support/app.js";
import { metricNames } from "../../support/metrics.js";

const DASHBOARD = new URL("../../../examples/grafana/xgate.json", import.meta.url);
const README = new URL("../../../README.md", import.meta.url);

/** What a histogram's series add to its name. */
const SERIES_SUFFIXES = ["_bucket", "_sum", "_count"];
/** Names a PromQL expression uses for metrics: xgate's own, and prom-client's process and Node.js ones. */
const METRIC_NAME = /\b(?:xgate|process|nodejs)_[a-zA-Z0-9_]+\b/g;

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  gridPos: { h: number; w: number; x: number; y: number };
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating: { list: { name: string; query: { query: string }; datasource: { uid: string } }[] };
  title: string;
  uid: string;
}

let app: TestApp;
let served: Set<string>;
before(async () => {
  // Key labels on, so that the spend metric has all its labels; the metric names do not depend on it.
  app = await testApp(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "http://127.0.0.1:9" }
general_settings: { metrics_key_labels: true }
`);
  const res = await app.app.inject({ method: "GET", url: "/metrics" });
  served = new Set(metricNames(res.body));
});
after(async () => {
  await app?.dispose();
});

function metricOf(name: string): string {
  if (served.has(name)) return name;
  const suffix = SERIES_SUFFIXES.find((s) => name.endsWith(s));
  return suffix === undefined ? name : name.slice(0, -suffix.length);
}

describe("examples/grafana/xgate.json", () => {
  test("imports as it is: a Prometheus datasource input that every panel and query uses, unique panel ids", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    assert.deepEqual(
      dashboard.__inputs.map((input) => [input.name, input.type, input.pluginId]),
      [["DS_PROMETHEUS", "datasource", "prometheus"]],
    );
    assert.equal(dashboard.uid, "xgate-overview");
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    const queried = dashboard.panels.filter((panel) => panel.type !== "row");
    assert.ok(queried.length >= 14);
    for (const panel of queried) {
      assert.equal(panel.datasource?.uid, "${DS_PROMETHEUS}", panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
      for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid, "${DS_PROMETHEUS}", panel.title);
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the grid`);
    }
    for (const variable of dashboard.templating.list) assert.equal(variable.datasource.uid, "${DS_PROMETHEUS}");
  });

  test("every metric its queries use is one the proxy serves", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    const expressions = [
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr }))),
      ...dashboard.templating.list.map((variable) => ({ where: `variable ${variable.name}`, expr: variable.query.query })),
    ];
    const used = new Set<string>();
    for (const { where, expr } of expressions) {
      const names = expr.match(METRIC_NAME) ?? [];
      assert.ok(names.length > 0, `${where} queries a metric: ${expr}`);
      for (const name of names) {
        assert.ok(served.has(metricOf(name)), `${where} uses ${name}, which /metrics does not serve`);
        used.add(metricOf(name));
      }
    }
    // The panels the dashboard promises: each of these metrics is on it.
    for (const name of [
      "xgate_requests_total",
      "xgate_request_duration_seconds",
      "xgate_upstream_duration_seconds",
      "xgate_time_to_first_token_seconds",
      "xgate_stream_tokens_per_second",
      "xgate_spend_usd_total",
      "xgate_cache_hits_total",
      "xgate_cache_misses_total",
      "xgate_deployment_healthy",
      "xgate_deployment_cooldowns_total",
      "xgate_rate_limit_refusals_total",
      "xgate_budget_refusals_total",
      "xgate_in_flight_requests",
    ]) {
      assert.ok(used.has(name), `the dashboard shows ${name}`);
    }
  });
});

describe("the README's Metrics section", () => {
  test("documents every metric the proxy serves, and no metric it does not", async () => {
    const readme = await readFile(README, "utf8");
    const start = readme.indexOf("\n## Metrics\n");
    assert.ok(start >= 0, "the README has a Metrics section");
    const end = readme.indexOf("\n## ", start + 1);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const documented = new Set([...section.matchAll(/`((?:xgate|process|nodejs)_[a-z0-9_]+)`/g)].map((m) => m[1]!));
    for (const name of served) assert.ok(documented.has(name), `the README documents ${name}`);
    for (const name of documented) assert.ok(served.has(name), `the README documents ${name}, which /metrics does not serve`);
  });
});
