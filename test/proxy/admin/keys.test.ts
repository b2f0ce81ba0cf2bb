/**
 * The `/key/*` routes with the master key, on SQLite and on Postgres: what each answers, what it stores, what
 * it tells the notifier, and that a key's value appears in no answer but the one that made it.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { hashKey } from "../../../src/proxy/keys/tokens.js";
import { type AdminApp, adminApp, backends, DAY, errorOf, fields, HOUR, MASTER_KEY, START } from "./helpers.js";

for (const backend of await backends("test/proxy/admin/keys.test.ts")) {
  describe(`/key/* on ${backend.name}`, () => {
    let admin: AdminApp;
    before(async () => {
      admin = await adminApp(backend);
    });
    after(() => admin.close());
    beforeEach(() => admin.reset());

    /** Generates a key with `body`; answers its value and token. */
    async function generated(body: Record<string, unknown> = {}): Promise<{ key: string; token: string }> {
      const answer = await admin.call("POST", "/key/generate", { body });
      assert.equal(answer.status, 200, answer.text);
      const { key, token } = fields(answer) as { key: string; token: string };
      return { key, token };
    }

    describe("POST /key/generate", () => {
      test("answers the new key once with its hash, name and every setting, and stores the hash", async () => {
        await admin.call("POST", "/team/new", { body: { team_id: "team-a" } });
        const answer = await admin.call("POST", "/key/generate", {
          body: {
            key_alias: "app",
            models: ["embed", "rerank"],
            aliases: { small: "embed" },
            metadata: { owner: "ops" },
            max_budget: 10,
            soft_budget: 8,
            budget_duration: "1d",
            rpm_limit: 60,
            tpm_limit: 100_000,
            max_parallel_requests: 4,
            duration: "1h",
            team_id: "team-a",
            blocked: false,
            allowed_cache_controls: ["no-cache", "ttl"],
          },
        });
        assert.equal(answer.status, 200, answer.text);
        const body = fields(answer);
        const key = body.key as string;
        assert.match(key, /^sk-[A-Za-z0-9_-]{22}$/);
        assert.deepEqual(body, {
          key,
          token: hashKey(key),
          key_name: `sk-...${key.slice(-4)}`,
          key_alias: "app",
          models: ["embed", "rerank"],
          aliases: { small: "embed" },
          metadata: { owner: "ops" },
          max_budget: 10,
          soft_budget: 8,
          spend: 0,
          budget_duration: "1d",
          budget_reset_at: new Date(START + DAY).toISOString(),
          rpm_limit: 60,
          tpm_limit: 100_000,
          max_parallel_requests: 4,
          expires: new Date(START + HOUR).toISOString(),
          blocked: false,
          team_id: "team-a",
          previous_token: null,
          previous_token_expires: null,
          allowed_cache_controls: ["no-cache", "ttl"],
          created_at: new Date(START).toISOString(),
          updated_at: new Date(START).toISOString(),
        });
        assert.equal((await admin.store.keys.findByToken(hashKey(key)))?.key_alias, "app");
        assert.deepEqual(admin.notices.keys, [[hashKey(key)]]);
      });

      test("with no body, a key that never expires, limited by nothing", async () => {
        const answer = await admin.call("POST", "/key/generate");
        assert.equal(answer.status, 200, answer.text);
        const body = fields(answer);
        assert.equal(body.expires, null);
        assert.deepEqual([body.models, body.max_budget, body.rpm_limit, body.blocked, body.team_id], [[], null, null, false, null]);
      });

      test("a caller-chosen key is kept as given, and is stored only as its hash", async () => {
        const { key, token } = await generated({ key: "sk-my-own-key-0001" });
        assert.equal(key, "sk-my-own-key-0001");
        assert.equal(token, hashKey("sk-my-own-key-0001"));
        const info = await admin.call("GET", `/key/info?key=${token}`);
        assert.equal(fields(info).key, token);
        assert.equal((fields(info).info as Record<string, unknown>).key_name, "sk-...0001");
      });

      test("expires takes an ISO time", async () => {
        const answer = await admin.call("POST", "/key/generate", { body: { expires: "2025-04-01T00:00:00+02:00" } });
        assert.equal(fields(answer).expires, "2025-03-31T22:00:00.000Z");
      });

      test("a team_id that names no team is a 400 naming team_id, and nothing is created", async () => {
        const answer = await admin.call("POST", "/key/generate", { body: { team_id: "nope" } });
        assert.equal(answer.status, 400);
        assert.deepEqual([errorOf(answer).code, errorOf(answer).param], ["team_not_found", "team_id"]);
        assert.match(errorOf(answer).message, /POST \/team\/new/);
        assert.equal((await admin.store.keys.list({ page: 1, size: 10 })).total, 0);
      });

      test("an alias or a key value already taken is a 400 naming the field", async () => {
        await generated({ key_alias: "app", key: "sk-taken-value" });
        const alias = await admin.call("POST", "/key/generate", { body: { key_alias: "app" } });
        assert.equal(alias.status, 400);
        assert.deepEqual([errorOf(alias).code, errorOf(alias).param], ["key_alias_taken", "key_alias"]);
        const value = await admin.call("POST", "/key/generate", { body: { key: "sk-taken-value" } });
        assert.equal(value.status, 400);
        assert.deepEqual([errorOf(value).code, errorOf(value).param], ["key_taken", "key"]);
        assert.doesNotMatch(value.text, /sk-taken-value/);
      });

      test("the master key is refused as a chosen key or new_key, without echoing it", async () => {
        const chosen = await admin.call("POST", "/key/generate", { body: { key: MASTER_KEY, key_alias: "shadow" } });
        assert.equal(chosen.status, 400);
        assert.deepEqual([errorOf(chosen).code, errorOf(chosen).param], ["invalid_key", "key"]);
        assert.match(errorOf(chosen).message, /master key/);
        assert.doesNotMatch(chosen.text, new RegExp(MASTER_KEY));
        const { key } = await generated({ key_alias: "to-regenerate" });
        const renewed = await admin.call("POST", "/key/regenerate", { body: { key, new_key: MASTER_KEY } });
        assert.equal(renewed.status, 400);
        assert.deepEqual([errorOf(renewed).code, errorOf(renewed).param], ["invalid_key", "new_key"]);
        assert.deepEqual(
          (await admin.store.keys.list({ page: 1, size: 10 })).items.map((record) => record.key_alias),
          ["to-regenerate"],
          "nothing stored for the refused key; the regenerated one unchanged",
        );
        assert.ok(await admin.store.keys.findByToken(hashKey(key)), "the key keeps its value");
      });

      test("LiteLLM fields xgate ignores are accepted, dropped, and named in a header", async () => {
        const answer = await admin.call("POST", "/key/generate", { body: { user_id: "u-1", tags: ["a"], send_invite_email: false, models: ["embed"] } });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.headers["x-xgate-ignored-fields"], "user_id, tags, send_invite_email");
        assert.deepEqual(fields(answer).models, ["embed"]);
        assert.equal("user_id" in fields(answer), false);
      });
    });

    describe("GET /key/info", () => {
      test("finds a key by its value or its hash, and answers it by its hash", async () => {
        const { key, token } = await generated({ key_alias: "app" });
        for (const reference of [key, token]) {
          const answer = await admin.call("GET", `/key/info?key=${encodeURIComponent(reference)}`);
          assert.equal(answer.status, 200, answer.text);
          assert.equal(fields(answer).key, token);
          assert.equal((fields(answer).info as Record<string, unknown>).token, token);
          assert.equal((fields(answer).info as Record<string, unknown>).key_alias, "app");
          assert.equal(answer.text.includes(key), false);
        }
      });

      test("an unknown key is a 404 that names it by its short form, never its value", async () => {
        const answer = await admin.call("GET", "/key/info?key=sk-not-a-stored-key-wxyz");
        assert.equal(answer.status, 404);
        assert.deepEqual([errorOf(answer).code, errorOf(answer).param], ["key_not_found", "key"]);
        assert.match(errorOf(answer).message, /sk-\.\.\.wxyz/);
        assert.equal(answer.text.includes("sk-not-a-stored-key-wxyz"), false);
      });

      test("the master key must name a key", async () => {
        const answer = await admin.call("GET", "/key/info");
        assert.equal(answer.status, 400);
        assert.deepEqual([errorOf(answer).code, errorOf(answer).param], ["missing_field", "key"]);
      });
    });

    describe("POST /key/update", () => {
      test("changes the fields given, spend included, and keeps the rest", async () => {
        await admin.call("POST", "/team/new", { body: { team_id: "team-b" } });
        const { key, token } = await generated({ key_alias: "app", rpm_limit: 5, models: ["embed"], duration: "1h" });
        admin.clock.advance(HOUR / 2);
        const answer = await admin.call("POST", "/key/update", {
          body: { key, rpm_limit: 50, max_budget: 2.5, spend: 1.25, team_id: "team-b", duration: null, metadata: { v: 2 } },
        });
        assert.equal(answer.status, 200, answer.text);
        const body = fields(answer);
        assert.equal(body.key, token);
        assert.deepEqual(
          [body.rpm_limit, body.max_budget, body.spend, body.team_id, body.expires, body.metadata, body.models, body.key_alias],
          [50, 2.5, 1.25, "team-b", null, { v: 2 }, ["embed"], "app"],
        );
        assert.equal(body.updated_at, new Date(START + HOUR / 2).toISOString());
        assert.equal(answer.text.includes(key), false);
        assert.deepEqual(admin.notices.keys.at(-1), [token]);
      });

      test("a new duration counts from now; null fields clear their setting", async () => {
        const { token } = await generated({ max_budget: 5, key_alias: "x", budget_duration: "1d" });
        admin.clock.advance(HOUR);
        const body = fields(await admin.call("POST", "/key/update", { body: { key: token, duration: "2h", max_budget: null, key_alias: null, budget_duration: null } }));
        assert.deepEqual(
          [body.expires, body.max_budget, body.key_alias, body.budget_duration, body.budget_reset_at],
          [new Date(START + 3 * HOUR).toISOString(), null, null, null, null],
        );
      });

      test("an unknown key is a 404; a taken alias a 400; a team that does not exist a 400", async () => {
        const { token } = await generated();
        await generated({ key_alias: "taken" });
        const unknown = await admin.call("POST", "/key/update", { body: { key: "0".repeat(64), rpm_limit: 1 } });
        assert.deepEqual([unknown.status, errorOf(unknown).code], [404, "key_not_found"]);
        const alias = await admin.call("POST", "/key/update", { body: { key: token, key_alias: "taken" } });
        assert.deepEqual([alias.status, errorOf(alias).code, errorOf(alias).param], [400, "key_alias_taken", "key_alias"]);
        const team = await admin.call("POST", "/key/update", { body: { key: token, team_id: "nope" } });
        assert.deepEqual([team.status, errorOf(team).code], [400, "team_not_found"]);
      });
    });

    describe("POST /key/delete", () => {
      test("deletes by value, hash or alias, answers what it deleted by hash, and tells the notifier", async () => {
        const a = await generated();
        const b = await generated();
        const c = await generated({ key_alias: "gamma" });
        const kept = await generated();
        const answer = await admin.call("POST", "/key/delete", { body: { keys: [a.key, b.token], key_aliases: ["gamma"] } });
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(fields(answer), { deleted_keys: [a.token, b.token, "gamma"] });
        assert.equal(answer.text.includes(a.key), false);
        assert.deepEqual(new Set(admin.notices.keys.at(-1)), new Set([a.token, b.token, c.token]));
        const left = await admin.call("GET", "/key/list");
        assert.deepEqual(fields(left).keys, [kept.token]);
      });

      test("a list naming an unknown key deletes nothing and says which", async () => {
        const a = await generated();
        const answer = await admin.call("POST", "/key/delete", { body: { keys: [a.token, "sk-gone-key-9999"], key_aliases: ["ghost"] } });
        assert.equal(answer.status, 404);
        assert.equal(errorOf(answer).code, "key_not_found");
        assert.match(errorOf(answer).message, /sk-\.\.\.9999, with key_alias 'ghost': nothing was deleted/);
        assert.ok(await admin.store.keys.findByToken(a.token));
      });
    });

    describe("GET /key/list", () => {
      test("pages through the keys oldest first, with LiteLLM's counts", async () => {
        const tokens: string[] = [];
        for (let i = 0; i < 25; i++) {
          tokens.push((await generated()).token);
          admin.clock.advance(1000);
        }
        const first = fields(await admin.call("GET", "/key/list?size=10"));
        assert.deepEqual(first, { keys: tokens.slice(0, 10), total_count: 25, current_page: 1, total_pages: 3 });
        const last = fields(await admin.call("GET", "/key/list?size=10&page=3"));
        assert.deepEqual(last, { keys: tokens.slice(20), total_count: 25, current_page: 3, total_pages: 3 });
        const beyond = fields(await admin.call("GET", "/key/list?size=10&page=4"));
        assert.deepEqual(beyond.keys, []);
        assert.equal(fields(await admin.call("GET", "/key/list")).total_pages, 3, "10 a page by default");
      });

      test("filters by team_id and key_alias; return_full_object answers the keys, without their values", async () => {
        await admin.call("POST", "/team/new", { body: { team_id: "team-a" } });
        const inTeam = await generated({ team_id: "team-a" });
        admin.clock.advance(1000);
        const aliased = await generated({ key_alias: "solo" });
        assert.deepEqual(fields(await admin.call("GET", "/key/list?team_id=team-a")).keys, [inTeam.token]);
        assert.deepEqual(fields(await admin.call("GET", "/key/list?key_alias=solo")).keys, [aliased.token]);
        const full = await admin.call("GET", "/key/list?return_full_object=true");
        const keys = fields(full).keys as Array<Record<string, unknown>>;
        assert.deepEqual(keys.map((k) => [k.token, k.team_id, k.key_alias]), [
          [inTeam.token, "team-a", null],
          [aliased.token, null, "solo"],
        ]);
        assert.equal(full.text.includes(inTeam.key) || full.text.includes(aliased.key), false);
      });
    });

    describe("GET /key/list?search=", () => {
      test("finds keys by part of their alias or team, in any case, beyond the first page", async () => {
        for (let i = 0; i < 120; i++) await generated({ key_alias: `bulk-${i}` });
        const wanted = await generated({ key_alias: "Nightly-Reindex" });
        const found = fields(await admin.call("GET", "/key/list?search=REINDEX"));
        assert.deepEqual([found.keys, found.total_count], [[wanted.token], 1]);
        assert.equal(fields(await admin.call("GET", "/key/list?search=bulk-11&size=100")).total_count, 11, "bulk-11 and bulk-110…119");
        const bad = await admin.call("GET", `/key/list?search=${"x".repeat(5000)}`);
        assert.equal(bad.status, 400);
        assert.match(bad.text, /search/);
      });
    });

    describe("POST /key/regenerate", () => {
      test("a new value for the key: limits and spend kept, the old value refused at once, both tokens notified", async () => {
        const old = await generated({ key_alias: "app", rpm_limit: 7, max_budget: 3 });
        await admin.store.keys.update(old.token, { spend: 1.5 });
        admin.notices.keys.length = 0;
        const answer = await admin.call("POST", "/key/regenerate", { body: { key: old.key, max_budget: 4 } });
        assert.equal(answer.status, 200, answer.text);
        const body = fields(answer);
        const key = body.key as string;
        assert.notEqual(key, old.key);
        assert.deepEqual(
          [body.token, body.key_name, body.key_alias, body.rpm_limit, body.max_budget, body.spend, body.previous_token],
          [hashKey(key), `sk-...${key.slice(-4)}`, "app", 7, 4, 1.5, old.token],
        );
        assert.deepEqual(admin.notices.keys, [[old.token, hashKey(key)]]);
        assert.equal((await admin.call("GET", `/key/info?key=${old.key}`)).status, 404);
        assert.equal((await admin.call("GET", `/key/info?key=${key}`)).status, 200);
      });

      test("with grace_period, the old value works until it ends (POST /key/:key/regenerate)", async () => {
        const old = await generated();
        const answer = await admin.call("POST", `/key/${old.key}/regenerate`, { body: { grace_period: "1h" } });
        assert.equal(answer.status, 200, answer.text);
        const renewed = fields(answer);
        assert.equal(renewed.previous_token_expires, new Date(START + HOUR).toISOString());
        admin.clock.advance(HOUR - 1);
        const during = await admin.call("GET", `/key/info?key=${old.key}`);
        assert.equal(fields(during).key, renewed.token, "the old value finds the regenerated key");
        admin.clock.advance(1);
        assert.equal((await admin.call("GET", `/key/info?key=${old.key}`)).status, 404);
      });

      test("the path form needs no body; new_key chooses the value; an unknown key is a 404", async () => {
        const old = await generated();
        const bare = await admin.call("POST", `/key/${old.token}/regenerate`);
        assert.equal(bare.status, 200, bare.text);
        const chosen = await admin.call("POST", "/key/regenerate", { body: { key: fields(bare).key, new_key: "sk-chosen-value-1" } });
        assert.deepEqual([fields(chosen).key, fields(chosen).token], ["sk-chosen-value-1", hashKey("sk-chosen-value-1")]);
        const unknown = await admin.call("POST", "/key/sk-never-made/regenerate");
        assert.deepEqual([unknown.status, errorOf(unknown).code], [404, "key_not_found"]);
      });

      test("a new_key already in use is a 400 naming new_key", async () => {
        const a = await generated();
        await generated({ key: "sk-in-use-0001" });
        const answer = await admin.call("POST", "/key/regenerate", { body: { key: a.token, new_key: "sk-in-use-0001" } });
        assert.deepEqual([answer.status, errorOf(answer).code, errorOf(answer).param], [400, "key_taken", "new_key"]);
      });
    });

    describe("POST /key/block and /key/unblock", () => {
      test("block and unblock the key, answer it, and tell the notifier", async () => {
        const { key, token } = await generated();
        const blocked = await admin.call("POST", "/key/block", { body: { key } });
        assert.deepEqual([blocked.status, fields(blocked).blocked, fields(blocked).token], [200, true, token]);
        assert.equal((await admin.store.keys.findByToken(token))?.blocked, true);
        const unblocked = await admin.call("POST", "/key/unblock", { body: { key: token } });
        assert.equal(fields(unblocked).blocked, false);
        assert.deepEqual(admin.notices.keys.slice(-2), [[token], [token]]);
        assert.equal((await admin.call("POST", "/key/block", { body: { key: "sk-nobody" } })).status, 404);
      });
    });
  });
}
