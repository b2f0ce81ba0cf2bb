/** `/spend/logs`, `/global/spend` and `/global/spend/report` over logged rows, on SQLite and on Postgres. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { spendRow } from "../../support/records.js";
import { type AdminApp, adminApp, backends, fields, HOUR } from "./helpers.js";

const MARCH_8 = Date.parse("2025-03-08T09:00:00.000Z");
const MARCH_10 = Date.parse("2025-03-10T09:00:00.000Z");

for (const backend of await backends("test/proxy/admin/spend.test.ts")) {
  describe(`spend routes on ${backend.name}`, () => {
    let admin: AdminApp;
    let key: string;
    let token: string;
    before(async () => {
      admin = await adminApp(backend);
    });
    after(() => admin.close());
    beforeEach(async () => {
      await admin.reset();
      await admin.call("POST", "/team/new", { body: { team_id: "team-a", team_alias: "Search" } });
      ({ key, token } = fields(await admin.call("POST", "/key/generate", { body: { team_id: "team-a" } })) as { key: string; token: string });
      await admin.store.spendLogs.insertBatch([
        spendRow("r1", MARCH_8, { api_key: token, user: "alice", team_id: "team-a", spend: 0.5, prompt_tokens: 4, total_tokens: 4 }),
        spendRow("r2", MARCH_8 + HOUR, { model: "rerank", model_group: "rerank", spend: 0.25, prompt_tokens: 2, total_tokens: 2 }),
        spendRow("r3", MARCH_10, { api_key: token, user: "bob", spend: 1, prompt_tokens: 8, total_tokens: 8 }),
      ]);
    });

    const ids = (body: unknown): string[] => (body as Array<{ request_id: string }>).map((row) => row.request_id);

    test("GET /spend/logs answers the rows newest first, a page at a time, with the total in a header", async () => {
      const all = await admin.call("GET", "/spend/logs");
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(ids(all.body), ["r3", "r2", "r1"]);
      assert.equal(all.headers["x-xgate-total-count"], "3");
      const row = (all.body as Array<Record<string, unknown>>)[2];
      assert.deepEqual([row?.api_key, row?.spend, row?.user, row?.team_id, row?.startTime], [token, 0.5, "alice", "team-a", new Date(MARCH_8).toISOString()]);
      assert.equal(all.text.includes(key), false);
      const second = await admin.call("GET", "/spend/logs?size=2&page=2");
      assert.deepEqual([ids(second.body), second.headers["x-xgate-total-count"]], [["r1"], "3"]);
    });

    test("filters by key (its value is hashed), request_id and model", async () => {
      assert.deepEqual(ids((await admin.call("GET", `/spend/logs?api_key=${key}`)).body), ["r3", "r1"]);
      assert.deepEqual(ids((await admin.call("GET", `/spend/logs?api_key=${token}`)).body), ["r3", "r1"]);
      assert.deepEqual(ids((await admin.call("GET", "/spend/logs?request_id=r2")).body), ["r2"]);
      assert.deepEqual(ids((await admin.call("GET", "/spend/logs?model=rerank")).body), ["r2"]);
    });

    test("with both dates, per-day totals in LiteLLM's shape, days without spend included", async () => {
      const answer = await admin.call("GET", "/spend/logs?start_date=2025-03-08&end_date=2025-03-10");
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body, [
        { [token]: 0.5, "": 0.25, startTime: "2025-03-08", spend: 0.75, users: { alice: 0.5 }, models: { embed: 0.5, rerank: 0.25 } },
        { startTime: "2025-03-09", spend: 0, users: {}, models: {} },
        { [token]: 1, startTime: "2025-03-10", spend: 1, users: { bob: 1 }, models: { embed: 1 } },
      ]);
      const oneKey = await admin.call("GET", `/spend/logs?start_date=2025-03-08&end_date=2025-03-08&api_key=${key}`);
      assert.deepEqual(oneKey.body, [{ [token]: 0.5, startTime: "2025-03-08", spend: 0.5, users: { alice: 0.5 }, models: { embed: 0.5 } }]);
    });

    test("summarize=false answers the rows in the range; a day counts whole, a time exactly", async () => {
      assert.deepEqual(ids((await admin.call("GET", "/spend/logs?start_date=2025-03-08&end_date=2025-03-08&summarize=false")).body), ["r2", "r1"]);
      assert.deepEqual(ids((await admin.call("GET", "/spend/logs?start_date=2025-03-08T09:30:00Z&end_date=2025-03-10T09:00:00Z&summarize=false")).body), ["r2"]);
      assert.deepEqual(ids((await admin.call("GET", "/spend/logs?start_date=2025-03-09")).body), ["r3"], "one date alone bounds the rows");
    });

    test("GET /global/spend answers the spend of every logged request", async () => {
      assert.deepEqual(fields(await admin.call("GET", "/global/spend")), { spend: 1.75, max_budget: null });
    });

    test("GET /global/spend/report groups by team (the default), by key and by model", async () => {
      const range = "start_date=2025-03-08&end_date=2025-03-10";
      const byTeam = await admin.call("GET", `/global/spend/report?${range}`);
      assert.equal(byTeam.status, 200, byTeam.text);
      // Teams within a day come in no particular order: compared by name.
      const days = (byTeam.body as Array<{ group_by_day: string; teams: Array<{ team_name: string }> }>).map((day) => ({
        ...day,
        teams: [...day.teams].sort((a, b) => a.team_name.localeCompare(b.team_name)),
      }));
      assert.deepEqual(days, [
        {
          group_by_day: "2025-03-08",
          teams: [
            { team_name: "Search", total_spend: 0.5, metadata: [{ model: "embed", api_key: token, spend: 0.5, total_tokens: 4 }] },
            { team_name: "Unassigned Team", total_spend: 0.25, metadata: [{ model: "rerank", api_key: "", spend: 0.25, total_tokens: 2 }] },
          ],
        },
        {
          group_by_day: "2025-03-10",
          teams: [{ team_name: "Unassigned Team", total_spend: 1, metadata: [{ model: "embed", api_key: token, spend: 1, total_tokens: 8 }] }],
        },
      ]);
      const byKey = (await admin.call("GET", `/global/spend/report?${range}&group_by=api_key`)).body as Array<Record<string, unknown>>;
      assert.deepEqual(byKey.map((entry) => [entry.api_key, entry.total_cost, entry.total_input_tokens]), [
        [token, 1.5, 12],
        ["", 0.25, 2],
      ]);
      const byModel = (await admin.call("GET", `/global/spend/report?${range}&group_by=model`)).body as Array<{ group_by_day: string; models: Array<{ model: string; total_spend: number }> }>;
      assert.deepEqual(byModel.map((day) => [day.group_by_day, day.models.map((m) => [m.model, m.total_spend]).sort()]), [
        ["2025-03-08", [["embed", 0.5], ["rerank", 0.25]]],
        ["2025-03-10", [["embed", 1]]],
      ]);
    });

    test("the report's range counts its last day whole", async () => {
      const answer = (await admin.call("GET", "/global/spend/report?start_date=2025-03-10&end_date=2025-03-10&group_by=api_key")).body as Array<Record<string, unknown>>;
      assert.deepEqual(answer.map((entry) => [entry.api_key, entry.total_cost]), [[token, 1]]);
    });
  });
}
