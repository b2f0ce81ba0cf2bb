/**
 * Every kind of bad input the admin routes refuse, each a 400 whose param names the field and whose message
 * says what the field takes: wrong types, negative or fractional limits, durations, times, key values,
 * unknown fields (and LiteLLM's, ignored or refused), bodies that are not objects, and bad query strings.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { type AdminApp, adminApp, type Answer, errorOf, fields, MASTER_KEY, sqlite } from "./helpers.js";

function refused(answer: Answer, code: string, param: string | null, message?: RegExp): void {
  assert.equal(answer.status, 400, answer.text);
  const error = errorOf(answer);
  assert.deepEqual([error.code, error.param, error.type], [code, param, "invalid_request_error"], answer.text);
  if (message) assert.match(error.message, message);
}

describe("admin validation", () => {
  let admin: AdminApp;
  let token: string;
  before(async () => {
    admin = await adminApp(sqlite);
  });
  after(() => admin.close());
  beforeEach(async () => {
    await admin.reset();
    token = fields(await admin.call("POST", "/key/generate")).token as string;
  });

  const generate = (body: unknown) => admin.call("POST", "/key/generate", { body });

  test("a value of the wrong type names the field, what it takes and what it got", async () => {
    refused(await generate({ rpm_limit: "10" }), "invalid_field", "rpm_limit", /^rpm_limit must be a whole number of requests per minute .*; got "10"\.$/);
    refused(await generate({ models: "embed" }), "invalid_field", "models", /a list of the model names/);
    refused(await generate({ metadata: ["a"] }), "invalid_field", "metadata", /a JSON object/);
    refused(await generate({ blocked: "yes" }), "invalid_field", "blocked", /true .* or false/);
    refused(await generate({ aliases: { small: 3 } }), "invalid_field", "aliases.small", /^aliases\.small \(in aliases\) must be an object mapping/);
  });

  test("a value inside a list is named by its index", async () => {
    refused(await generate({ models: ["embed", 3] }), "invalid_field", "models[1]", /^models\[1\] \(in models\) must be/);
  });

  test("negative budgets and limits, and fractional counts, are refused", async () => {
    refused(await generate({ max_budget: -1 }), "invalid_field", "max_budget", /0 or more/);
    refused(await generate({ soft_budget: -0.5 }), "invalid_field", "soft_budget");
    refused(await generate({ tpm_limit: -5 }), "invalid_field", "tpm_limit");
    refused(await generate({ rpm_limit: 1.5 }), "invalid_field", "rpm_limit", /whole number/);
    refused(await generate({ max_parallel_requests: 2.5 }), "invalid_field", "max_parallel_requests");
    refused(await admin.call("POST", "/key/update", { body: { key: token, spend: -1 } }), "invalid_field", "spend");
    refused(await admin.call("POST", "/team/new", { body: { rpm_limit: -1 } }), "invalid_field", "rpm_limit");
  });

  test("a duration with a unit LiteLLM does not have, or none, is refused with the units it takes", async () => {
    refused(await generate({ duration: "1y" }), "invalid_duration", "duration", /s \(seconds\).*mo \(months\).*; got "1y"/);
    refused(await generate({ budget_duration: "30" }), "invalid_duration", "budget_duration");
    refused(await admin.call("POST", "/team/new", { body: { budget_duration: "0d" } }), "invalid_duration", "budget_duration");
    refused(await admin.call("POST", "/key/regenerate", { body: { key: token, grace_period: "1y" } }), "invalid_duration", "grace_period");
  });

  test("expires must be a future ISO time with a zone, and not given with duration", async () => {
    refused(await generate({ expires: "tomorrow" }), "invalid_expires", "expires", /ISO 8601 time with its zone/);
    refused(await generate({ expires: "2030-01-01T00:00:00" }), "invalid_expires", "expires");
    refused(await generate({ expires: "2025-03-10T11:59:59Z" }), "invalid_expires", "expires", /not in the future/);
    refused(await generate({ expires: "2030-01-01T00:00:00Z", duration: "1h" }), "invalid_expires", "expires", /not both/);
  });

  test("a chosen key must start with sk-, and is never quoted back", async () => {
    for (const key of ["my-secret-value", "sk-", "sk-has space", 42]) {
      const answer = await generate({ key });
      refused(answer, "invalid_key", "key", /starts with sk-/);
      assert.equal(answer.text.includes("my-secret-value"), false);
    }
    refused(await admin.call("POST", "/key/regenerate", { body: { key: token, new_key: "plain" } }), "invalid_key", "new_key");
  });

  test("a key reference must be a key or a hash", async () => {
    refused(await admin.call("POST", "/key/block", { body: { key: "not-a-key" } }), "invalid_key", "key", /the key \(sk-…\) or its hash/);
    refused(await admin.call("GET", "/key/info?key=ABC"), "invalid_key", "key");
    refused(await admin.call("POST", "/key/delete", { body: { keys: ["nope"] } }), "invalid_key", "keys[0]");
    refused(await admin.call("POST", "/key/nonsense/regenerate"), "invalid_key", "key");
  });

  test("allowed_cache_controls takes LiteLLM's four controls", async () => {
    refused(await generate({ allowed_cache_controls: ["no-cache", "no-thanks"] }), "invalid_field", "allowed_cache_controls[1]", /"no-store", "ttl" and "namespace"/);
    const answer = await generate({ allowed_cache_controls: ["no-store", "namespace"] });
    assert.deepEqual(fields(answer).allowed_cache_controls, ["no-store", "namespace"]);
  });

  test("an unknown field is named, with the fields the route takes", async () => {
    refused(await generate({ rpm_limt: 5 }), "unknown_field", "rpm_limt", /POST \/key\/generate has no field 'rpm_limt': remove it\. It takes key_alias, models, .*rpm_limit/);
    refused(await admin.call("POST", "/team/new", { body: { team_alias: "a", colour: "red" } }), "unknown_field", "colour");
  });

  test("a LiteLLM field that would lift a restriction if ignored is refused, saying so", async () => {
    refused(await generate({ model_max_budget: { embed: 1 } }), "unknown_field", "model_max_budget", /does not implement LiteLLM's model_max_budget: ignoring it would drop a limit/);
    refused(await admin.call("POST", "/team/new", { body: { blocked: true } }), "unknown_field", "blocked", /LiteLLM's blocked/);
  });

  test("a required field left out is named", async () => {
    refused(await admin.call("POST", "/key/update", { body: { rpm_limit: 1 } }), "missing_field", "key", /^POST \/key\/update needs key: /);
    refused(await admin.call("POST", "/team/update", { body: {} }), "missing_field", "team_id");
    refused(await admin.call("POST", "/team/delete", { body: {} }), "missing_field", "team_ids");
    refused(await admin.call("POST", "/key/delete", { body: {} }), "missing_field", "keys", /keys .* or key_aliases/);
    refused(await admin.call("GET", "/team/info"), "missing_field", "team_id");
    refused(await admin.call("GET", "/global/spend/report?start_date=2025-03-01"), "missing_field", "end_date");
  });

  test("a body that is not a JSON object is refused as a whole", async () => {
    refused(await generate([1, 2]), "invalid_body", null, /takes a JSON object.*; got an array\.$/);
    const bare = await admin.app.inject({
      method: "POST",
      url: "/key/update",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      payload: JSON.stringify("sk-a-key-sent-bare"),
    });
    assert.equal(bare.statusCode, 400);
    assert.equal(bare.body.includes("sk-a-key-sent-bare"), false);
    refused(await admin.call("POST", "/team/delete", { body: { team_ids: [] } }), "invalid_field", "team_ids", /non-empty list/);
  });

  test("query strings: page and size bounds, flags, unknown parameters, repeated ones", async () => {
    refused(await admin.call("GET", "/key/list?size=0"), "invalid_field", "size", /from 1 to 100/);
    refused(await admin.call("GET", "/key/list?size=101"), "invalid_field", "size");
    refused(await admin.call("GET", "/key/list?page=two"), "invalid_field", "page");
    refused(await admin.call("GET", "/key/list?page=1&page=2"), "invalid_field", "page");
    refused(await admin.call("GET", "/key/list?return_full_object=yes"), "invalid_field", "return_full_object");
    refused(await admin.call("GET", "/key/list?user_id=u-1"), "unknown_field", "user_id", /has no query parameter 'user_id'/);
    refused(await admin.call("GET", "/team/list?organization_id=o"), "unknown_field", "organization_id");
  });

  test("spend queries: dates, ranges, groupings and keys", async () => {
    refused(await admin.call("GET", "/spend/logs?start_date=2025-02-30"), "invalid_date", "start_date", /UTC day such as 2025-03-01/);
    refused(await admin.call("GET", "/spend/logs?start_date=2025-03-02&end_date=2025-03-01"), "invalid_date_range", "end_date", /not after start_date/);
    refused(await admin.call("GET", "/spend/logs?start_date=2000-01-01&end_date=2025-01-01"), "invalid_date_range", "end_date", /at most 3660 days/);
    refused(await admin.call("GET", "/spend/logs?api_key=nonsense"), "invalid_key", "api_key");
    refused(await admin.call("GET", "/spend/logs?summarize=maybe"), "invalid_field", "summarize");
    refused(await admin.call("GET", "/global/spend/report?start_date=2025-03-01&end_date=2025-03-02&group_by=customer"), "invalid_field", "group_by", /team, api_key, model/);
  });
});
