/** `/global/activity*` and `/global/spend/keys|models` over logged rows, on SQLite and on Postgres. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { spendRow } from "../../support/records.js";
import { type AdminApp, adminApp, backends, errorOf, fields, HOUR } from "./helpers.js";

const MARCH_8 = Date.parse("2025-03-08T09:00:00.000Z");
const MARCH_10 = Date.parse("2025-03-10T09:00:00.000Z");

interface Bucket {
  date: string;
  api_requests: number;
  failed_requests: number;
  total_tokens: number;
  spend: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

/** Within the histogram's ±10%. */
function near(actual: number | null | undefined, expected: number, message: string): void {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= expected * 0.1, `${message}: ${actual} is not about ${expected}`);
}

for (const backend of await backends("test/proxy/admin/activity.test.ts")) {
  describe(`activity routes on ${backend.name}`, () => {
    let admin: AdminApp;
    let token: string;
    before(async () => {
      admin = await adminApp(backend);
    });
    after(() => admin.close());
    beforeEach(async () => {
      await admin.reset();
      ({ token } = fields(await admin.call("POST", "/key/generate", { body: { key_alias: "search-app" } })) as { token: string });
      const rows = [
        spendRow("r1", MARCH_8, { spend: 0.5, total_tokens: 4 }),
        spendRow("r2", MARCH_8 + HOUR, { model: "rerank", model_group: "rerank", status: "failure", spend: 0, total_tokens: 0, endTime: new Date(MARCH_8 + HOUR + 2000) }),
        spendRow("r3", MARCH_10, { api_key: token, spend: 1, total_tokens: 8, endTime: new Date(MARCH_10 + 100) }),
      ];
      // Twenty more requests of the key on March 10, at 40 ms each: p50 is theirs, p99 the slowest.
      for (let i = 0; i < 20; i++) rows.push(spendRow(`k${i}`, MARCH_10 + i * 1000, { api_key: token, spend: 0.01, total_tokens: 1, endTime: new Date(MARCH_10 + i * 1000 + 40) }));
      await admin.store.spendLogs.insertBatch(rows);
    });

    test("GET /global/activity: LiteLLM's daily_data and sums, with failures, spend and latency, every day of the range", async () => {
      const answer = await admin.call("GET", "/global/activity?start_date=2025-03-08&end_date=2025-03-10");
      assert.equal(answer.status, 200, answer.text);
      const body = answer.body as { daily_data: Bucket[]; sum_api_requests: number; sum_total_tokens: number; sum_failed_requests: number; sum_spend: number };
      assert.deepEqual(
        body.daily_data.map((d) => [d.date, d.api_requests, d.failed_requests, d.total_tokens]),
        [
          ["2025-03-08", 2, 1, 4],
          ["2025-03-09", 0, 0, 0],
          ["2025-03-10", 21, 0, 28],
        ],
      );
      assert.deepEqual([body.sum_api_requests, body.sum_total_tokens, body.sum_failed_requests], [23, 32, 1]);
      assert.ok(Math.abs(body.sum_spend - 1.7) < 1e-9, String(body.sum_spend));
      const [march8, march9, march10] = body.daily_data;
      near(march8?.latency_p99_ms, 2000, "March 8's p99 is the slow failure");
      assert.deepEqual([march9?.latency_p50_ms, march9?.latency_p99_ms], [null, null], "a day without requests has no latency");
      near(march10?.latency_p50_ms, 40, "March 10's p50");
      near(march10?.latency_p99_ms, 100, "March 10's p99");
    });

    test("interval=hour answers one entry per hour, each dated by its start", async () => {
      const answer = await admin.call("GET", "/global/activity?start_date=2025-03-08T08:00:00Z&end_date=2025-03-08T11:00:00Z&interval=hour");
      assert.equal(answer.status, 200, answer.text);
      const daily = (answer.body as { daily_data: Bucket[] }).daily_data;
      assert.deepEqual(
        daily.map((d) => [d.date, d.api_requests, d.failed_requests]),
        [
          ["2025-03-08T08:00:00.000Z", 0, 0],
          ["2025-03-08T09:00:00.000Z", 1, 0],
          ["2025-03-08T10:00:00.000Z", 1, 1],
        ],
      );
      near(daily[1]?.latency_p50_ms, 25, "the 09:00 request's latency");
    });

    test("the range is required and bounded; a wrong interval is a 400 naming the field", async () => {
      const missing = await admin.call("GET", "/global/activity?start_date=2025-03-08");
      assert.equal(missing.status, 400);
      assert.equal(errorOf(missing).param, "end_date");
      const tooLong = await admin.call("GET", "/global/activity?start_date=2025-01-01&end_date=2025-03-01&interval=hour");
      assert.equal(tooLong.status, 400);
      assert.equal(errorOf(tooLong).code, "invalid_date_range");
      assert.match(errorOf(tooLong).message, /interval=day/);
      const interval = await admin.call("GET", "/global/activity?start_date=2025-03-08&end_date=2025-03-09&interval=minute");
      assert.equal(interval.status, 400);
      assert.equal(errorOf(interval).param, "interval");
    });

    test("GET /global/activity/model: each model group's traffic per day, the busiest first, at most limit", async () => {
      const answer = await admin.call("GET", "/global/activity/model?start_date=2025-03-08&end_date=2025-03-10");
      assert.equal(answer.status, 200, answer.text);
      const models = answer.body as Array<{ model: string; daily_data: Bucket[]; sum_api_requests: number; sum_failed_requests: number; sum_total_tokens: number }>;
      assert.deepEqual(
        models.map((m) => [m.model, m.sum_api_requests, m.sum_failed_requests, m.sum_total_tokens, m.daily_data.map((d) => d.api_requests)]),
        [
          ["embed", 22, 0, 32, [1, 0, 21]],
          ["rerank", 1, 1, 0, [1, 0, 0]],
        ],
      );
      const top = await admin.call("GET", "/global/activity/model?start_date=2025-03-08&end_date=2025-03-10&limit=1");
      assert.deepEqual((top.body as Array<{ model: string }>).map((m) => m.model), ["embed"]);
    });

    test("GET /global/spend/keys: the keys that spent most, with alias and name; the master key's rows as ''", async () => {
      const answer = await admin.call("GET", "/global/spend/keys?start_date=2025-03-01&end_date=2025-03-31");
      assert.equal(answer.status, 200, answer.text);
      const keys = answer.body as Array<{ api_key: string; key_alias: string | null; key_name: string | null; total_spend: number; api_requests: number }>;
      assert.deepEqual(
        keys.map((k) => [k.api_key, k.key_alias, k.api_requests]),
        [
          [token, "search-app", 21],
          ["", null, 2],
        ],
      );
      assert.match(String(keys[0]?.key_name), /^sk-\.\.\./);
      assert.ok(Math.abs((keys[0]?.total_spend ?? 0) - 1.2) < 1e-9);
    });

    test("without dates, the top keys and models are the last 30 days'", async () => {
      admin.clock.advance(MARCH_10 + 31 * 24 * HOUR - admin.clock.now());
      assert.deepEqual((await admin.call("GET", "/global/spend/keys")).body, []);
      admin.clock.advance(-2 * 24 * HOUR);
      assert.deepEqual(((await admin.call("GET", "/global/spend/keys")).body as Array<{ api_key: string }>).map((k) => k.api_key), [token]);
      const half = await admin.call("GET", "/global/spend/keys?start_date=2025-03-01");
      assert.equal(half.status, 400);
      assert.equal(errorOf(half).code, "invalid_date_range");
    });

    test("GET /global/spend/models: the model groups that cost most", async () => {
      const answer = await admin.call("GET", "/global/spend/models?start_date=2025-03-01&end_date=2025-03-31&limit=5");
      assert.equal(answer.status, 200, answer.text);
      const models = answer.body as Array<{ model: string; total_spend: number; api_requests: number }>;
      assert.deepEqual(models.map((m) => [m.model, m.api_requests]), [["embed", 22], ["rerank", 1]]);
      assert.ok(Math.abs((models[0]?.total_spend ?? 0) - 1.7) < 1e-9);
    });

    test("they are the master key's: a virtual key is refused", async () => {
      const { key } = fields(await admin.call("POST", "/key/generate", { body: {} })) as { key: string };
      for (const url of ["/global/activity?start_date=2025-03-08&end_date=2025-03-09", "/global/activity/model", "/global/spend/keys", "/global/spend/models"]) {
        const answer = await admin.call("GET", url, { as: key });
        assert.equal(answer.status, 403, url);
        assert.equal(errorOf(answer).code, "admin_only");
      }
    });
  });
}
