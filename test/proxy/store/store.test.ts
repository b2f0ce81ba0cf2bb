/**
 * The store's one contract, run on both databases: SQLite in a temp dir, and the machine's Postgres in a
 * schema of this run's own (dropped at the end). Time is a fake clock, so budget periods pass on demand.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { connect, type Database } from "../../../src/proxy/store/database.js";
import { type DatabaseTarget, openStore, type SpendLogRow, type Store, StoreConflictError } from "../../../src/proxy/store/index.js";
import { freshSchema, postgresReachable } from "../../support/postgres.js";
import { keyRecord, spendRow } from "../../support/records.js";

const START = Date.parse("2025-03-10T12:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WRITER = fileURLToPath(new URL("fixtures/store-writer.ts", import.meta.url));

const hash = (key: string): string => createHash("sha256").update(key).digest("hex");
const A = hash("sk-a");
const B = hash("sk-b");
const C = hash("sk-c");

/** A database for one describe block, and how to make another from scratch. */
interface Backend {
  name: string;
  fresh(): Promise<{ target: DatabaseTarget; dispose(): Promise<void> }>;
}

const sqlite: Backend = {
  name: "SQLite",
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), "xgate-store-"));
    return { target: { kind: "sqlite", path: join(dir, "data", "xgate.db") }, dispose: () => rm(dir, { recursive: true, force: true }) };
  },
};

const postgres: Backend = {
  name: "Postgres",
  async fresh() {
    const schema = await freshSchema();
    return { target: { kind: "postgres", url: schema.url, poolLimit: 4 }, dispose: () => schema.drop() };
  },
};

const backends = [sqlite, ...((await postgresReachable("test/proxy/store/store.test.ts")) ? [postgres] : [])];

for (const backend of backends) {
  describe(`the store on ${backend.name}`, () => {
    let now = START;
    const clock = { now: () => now };
    let store: Store;
    /** The same database, for what the repositories do not show (and to empty it between tests). */
    let raw: Database;
    let dispose: () => Promise<void>;
    let target: DatabaseTarget;

    const log = (request_id: string, fields: Partial<SpendLogRow> = {}): SpendLogRow =>
      spendRow(request_id, now, { spend: 0, prompt_tokens: 2, total_tokens: 2, ...fields });

    before(async () => {
      const fresh = await backend.fresh();
      target = fresh.target;
      dispose = fresh.dispose;
      store = await openStore(target, { clock });
      raw = connect(target);
    });

    after(async () => {
      await store.close();
      await raw.close();
      await dispose();
    });

    beforeEach(async () => {
      now = START;
      await raw.db.deleteFrom("xgate_spend_logs").execute();
      await raw.db.deleteFrom("xgate_keys").execute();
      await raw.db.deleteFrom("xgate_teams").execute();
    });

    describe("migrations", () => {
      test("the first opening applies them; the next finds nothing to do and keeps the data", async () => {
        const fresh = await backend.fresh();
        try {
          const first = await openStore(fresh.target, { clock });
          assert.deepEqual(first.migrated, [1, 2]);
          await first.keys.create({ token: A });
          await first.close();
          const second = await openStore(fresh.target, { clock });
          assert.deepEqual(second.migrated, []);
          assert.equal((await second.keys.findByToken(A))?.token, A);
          await second.close();
        } finally {
          await fresh.dispose();
        }
      });

      test("a database at version 1 gains allowed_cache_controls; its keys read an empty list (no restriction)", async () => {
        const fresh = await backend.fresh();
        try {
          (await openStore(fresh.target, { clock })).close();
          // Back to version 1's schema, with a key written then.
          const db = connect(fresh.target);
          await db.db.schema.alterTable("xgate_keys").dropColumn("allowed_cache_controls").execute();
          await db.db.deleteFrom("xgate_migrations").where("version", "=", 2).execute();
          await sql`insert into xgate_keys (token, models, aliases, metadata, blocked, created_at, updated_at) values (${A}, '[]', '{}', '{}', ${0}, ${new Date(START).toISOString()}, ${new Date(START).toISOString()})`.execute(db.db);
          await db.close();
          const upgraded = await openStore(fresh.target, { clock });
          assert.deepEqual(upgraded.migrated, [2]);
          assert.deepEqual((await upgraded.keys.findByToken(A))?.allowed_cache_controls, []);
          assert.deepEqual((await upgraded.keys.update(A, { allowed_cache_controls: ["no-store"] }))?.allowed_cache_controls, ["no-store"]);
          await upgraded.close();
        } finally {
          await fresh.dispose();
        }
      });

      test("a database migrated by a newer xgate is refused with what to do", async () => {
        const fresh = await backend.fresh();
        try {
          (await openStore(fresh.target, { clock })).close();
          const db = connect(fresh.target);
          await db.db.insertInto("xgate_migrations").values({ version: 999, name: "future", applied_at: "2030-01-01T00:00:00.000Z" }).execute();
          await db.close();
          await assert.rejects(openStore(fresh.target, { clock }), /schema is version 999, written by a newer xgate; this one knows versions up to 2: upgrade xgate/);
        } finally {
          await fresh.dispose();
        }
      });

      if (backend === postgres) {
        test("instances starting at once apply each migration once", async () => {
          const fresh = await backend.fresh();
          try {
            const opened = await Promise.all([openStore(fresh.target), openStore(fresh.target), openStore(fresh.target)]);
            assert.deepEqual(opened.map((s) => s.migrated).sort(), [[], [], [1, 2]]);
            await Promise.all(opened.map((s) => s.close()));
          } finally {
            await fresh.dispose();
          }
        });
      }

      if (backend === sqlite) {
        test("worker processes opening a new file at once migrate it once, and write together without 'database is locked'", async () => {
          const fresh = await backend.fresh();
          try {
            const path = (fresh.target as { path: string }).path;
            const names = ["w0", "w1", "w2"];
            const writers = names.map((name) => {
              const child = spawn(process.execPath, ["--import", "tsx", WRITER, path, name, "40", "25", hash(name)], { stdio: ["pipe", "pipe", "pipe"] });
              const lines: string[] = [];
              let stderr = "";
              child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
              const ready = new Promise<void>((resolve) => createInterface({ input: child.stdout }).on("line", (line) => (line === "ready" ? resolve() : lines.push(line))));
              const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
              return { child, lines, ready, exit, stderr: () => stderr };
            });
            // All loaded first, so that they open the file together.
            await Promise.all(writers.map((w) => w.ready));
            for (const w of writers) w.child.stdin.end("go\n");
            const codes = await Promise.all(writers.map((w) => w.exit));
            assert.deepEqual(codes, [0, 0, 0], writers.map((w) => w.stderr()).join("\n"));
            const migrated = writers.map((w) => (JSON.parse(w.lines[0]!) as { migrated: number[] }).migrated);
            assert.deepEqual(migrated.sort(), [[], [], [1, 2]]);
            const check = await openStore(fresh.target);
            assert.equal((await check.spendLogs.list({}, { page: 1, size: 1 })).total, 3 * 40 * 25);
            for (const name of names) assert.equal((await check.keys.findByToken(hash(name)))?.spend, 40 * 25 * 0.25);
            await check.close();
          } finally {
            await fresh.dispose();
          }
        });
      }
    });

    describe("keys", () => {
      test("a key is created with every field and found by its token; unset fields take their defaults", async () => {
        const expires = new Date(START + HOUR);
        const created = await store.keys.create({
          token: A,
          key_name: "sk-...ey-a",
          key_alias: "app",
          models: ["embed", "rerank"],
          aliases: { small: "embed" },
          metadata: { owner: "ops", tags: ["a"] },
          max_budget: 10,
          soft_budget: 8,
          budget_duration: "1d",
          rpm_limit: 60,
          tpm_limit: 100_000,
          max_parallel_requests: 4,
          expires,
          blocked: false,
          team_id: "team-1",
          allowed_cache_controls: ["no-cache", "ttl"],
        });
        assert.deepEqual(created, {
          token: A,
          key_name: "sk-...ey-a",
          key_alias: "app",
          models: ["embed", "rerank"],
          aliases: { small: "embed" },
          metadata: { owner: "ops", tags: ["a"] },
          max_budget: 10,
          soft_budget: 8,
          spend: 0,
          budget_duration: "1d",
          budget_reset_at: new Date(START + DAY),
          rpm_limit: 60,
          tpm_limit: 100_000,
          max_parallel_requests: 4,
          expires,
          blocked: false,
          team_id: "team-1",
          previous_token: null,
          previous_token_expires: null,
          allowed_cache_controls: ["no-cache", "ttl"],
          created_at: new Date(START),
          updated_at: new Date(START),
        });
        assert.deepEqual(await store.keys.findByToken(A), created);
        assert.equal(await store.keys.findByToken(B), undefined);

        const bare = await store.keys.create({ token: B });
        // The fixture's defaults are the store's: every field but the token as a key created with nothing else.
        assert.deepEqual(bare, keyRecord({ token: B, key_name: null, created_at: bare.created_at, updated_at: bare.updated_at }));
      });

      test("a token or an alias already taken is a conflict naming the field", async () => {
        await store.keys.create({ token: A, key_alias: "app" });
        await assert.rejects(store.keys.create({ token: A }), (e: unknown) => e instanceof StoreConflictError && e.field === "token");
        await assert.rejects(store.keys.create({ token: B, key_alias: "app" }), (e: unknown) => e instanceof StoreConflictError && e.field === "key_alias");
        await store.keys.create({ token: B });
        await assert.rejects(store.keys.update(B, { key_alias: "app" }), (e: unknown) => e instanceof StoreConflictError && e.field === "key_alias");
        assert.equal((await store.keys.list({ page: 1, size: 10 })).total, 2);
      });

      test("an update changes what it names and nothing else; a new budget_duration starts a new period", async () => {
        await store.keys.create({ token: A, key_alias: "app", models: ["embed"], max_budget: 5, budget_duration: "1d", rpm_limit: 10 });
        now = START + HOUR;
        const updated = await store.keys.update(A, { models: ["embed", "rerank"], rpm_limit: null, metadata: { v: 2 } });
        assert.deepEqual(updated?.models, ["embed", "rerank"]);
        assert.equal(updated?.rpm_limit, null);
        assert.deepEqual(updated?.metadata, { v: 2 });
        assert.equal(updated?.max_budget, 5);
        assert.equal(updated?.key_alias, "app");
        assert.deepEqual(updated?.budget_reset_at, new Date(START + DAY));
        assert.deepEqual(updated?.updated_at, new Date(START + HOUR));
        assert.deepEqual(updated?.created_at, new Date(START));

        const weekly = await store.keys.update(A, { budget_duration: "7d", spend: 1.5, expires: new Date(START + DAY) });
        assert.deepEqual(weekly?.budget_reset_at, new Date(START + HOUR + 7 * DAY));
        assert.equal(weekly?.spend, 1.5);
        assert.deepEqual(weekly?.expires, new Date(START + DAY));
        const unlimited = await store.keys.update(A, { budget_duration: null, expires: null });
        assert.equal(unlimited?.budget_reset_at, null);
        assert.equal(unlimited?.expires, null);
        assert.equal(await store.keys.update(B, { rpm_limit: 1 }), undefined);
      });

      test("blocking and unblocking is an update of `blocked`; a blocked key is still found, so the caller can say why it refuses", async () => {
        await store.keys.create({ token: A });
        assert.equal((await store.keys.update(A, { blocked: true }))?.blocked, true);
        assert.equal((await store.keys.findByToken(A))?.blocked, true);
        assert.equal((await store.keys.update(A, { blocked: false }))?.blocked, false);
      });

      test("keys are deleted by token or by alias, and the deleted ones are answered", async () => {
        await store.keys.create({ token: A, key_alias: "a" });
        await store.keys.create({ token: B, key_alias: "b" });
        await store.keys.create({ token: C });
        const deleted = await store.keys.delete({ tokens: [C, hash("sk-none")], aliases: ["a"] });
        assert.deepEqual(
          deleted.sort((x, y) => x.token.localeCompare(y.token)),
          [
            { token: A, key_alias: "a" },
            { token: C, key_alias: null },
          ].sort((x, y) => x.token.localeCompare(y.token)),
        );
        assert.deepEqual(await store.keys.delete({}), []);
        assert.deepEqual((await store.keys.list({ page: 1, size: 10 })).items.map((k) => k.token), [B]);
      });

      test("the list pages oldest first, with the total, filtered by alias or team", async () => {
        const tokens = Array.from({ length: 7 }, (_, i) => hash(`sk-list-${i}`));
        for (const [i, token] of tokens.entries()) {
          now = START + i * 1000;
          await store.keys.create({ token, key_alias: `k${i}`, team_id: i % 2 === 0 ? "even" : "odd" });
        }
        const first = await store.keys.list({ page: 1, size: 3 });
        const third = await store.keys.list({ page: 3, size: 3 });
        assert.equal(first.total, 7);
        assert.deepEqual(first.items.map((k) => k.key_alias), ["k0", "k1", "k2"]);
        assert.deepEqual(third.items.map((k) => k.key_alias), ["k6"]);
        assert.deepEqual((await store.keys.list({ page: 4, size: 3 })).items, []);
        const odd = await store.keys.list({ page: 1, size: 10 }, { team_id: "odd" });
        assert.deepEqual([odd.total, odd.items.map((k) => k.key_alias)], [3, ["k1", "k3", "k5"]]);
        const one = await store.keys.list({ page: 1, size: 10 }, { key_alias: "k4" });
        assert.deepEqual([one.total, one.items.map((k) => k.token)], [1, [tokens[4]]]);
      });

      test("the list searches alias, name and team for text in any case, its % and _ taken literally", async () => {
        await store.keys.create({ token: hash("sk-search-1"), key_alias: "Search-App", key_name: "sk-...aaaa", team_id: "ml" });
        await store.keys.create({ token: hash("sk-search-2"), key_alias: "batch_100%", key_name: "sk-...bbbb", team_id: "Research" });
        await store.keys.create({ token: hash("sk-search-3"), key_alias: null, key_name: "sk-...cccc", team_id: null });
        const found = async (search: string): Promise<string[]> =>
          (await store.keys.list({ page: 1, size: 10 }, { search })).items.map((k) => k.key_name ?? "").sort();
        assert.deepEqual(await found("search"), ["sk-...aaaa", "sk-...bbbb"]);
        assert.deepEqual(await found("CCCC"), ["sk-...cccc"]);
        assert.deepEqual(await found("100%"), ["sk-...bbbb"]);
        assert.deepEqual(await found("_1"), ["sk-...bbbb"]);
        assert.deepEqual(await found("b_tch"), [], "_ is no wildcard");
        assert.deepEqual(await found("%"), ["sk-...bbbb"], "% is no wildcard");
        const page = await store.keys.list({ page: 1, size: 1 }, { search: "search" });
        assert.deepEqual([page.total, page.items.length], [2, 1]);
      });

      test("regenerating keeps limits and spend; the old token works through the grace period and not after", async () => {
        await store.keys.create({ token: A, key_alias: "app", max_budget: 3, rpm_limit: 7, models: ["embed"] });
        await store.keys.addSpend(A, 1.25);
        now = START + HOUR;
        const regenerated = await store.keys.regenerate(A, { token: B, key_name: "sk-...ey-b", graceUntil: new Date(now + HOUR), changes: { rpm_limit: 8 } });
        assert.equal(regenerated?.token, B);
        assert.equal(regenerated?.key_name, "sk-...ey-b");
        assert.equal(regenerated?.spend, 1.25);
        assert.equal(regenerated?.max_budget, 3);
        assert.equal(regenerated?.rpm_limit, 8);
        assert.deepEqual(regenerated?.models, ["embed"]);
        assert.equal(regenerated?.key_alias, "app");
        assert.equal((await store.keys.findByToken(B))?.token, B);
        assert.equal((await store.keys.findByToken(A))?.token, B, "the old key, within its grace period, is the same key");
        now = START + 2 * HOUR;
        assert.equal(await store.keys.findByToken(A), undefined);
        assert.equal((await store.keys.findByToken(B))?.token, B);
        assert.equal(await store.keys.regenerate(A, { token: C, key_name: null }), undefined, "the old token no longer names the key");
      });

      test("without a grace period the old token stops at once, yet spend recorded under it still reaches the key", async () => {
        await store.keys.create({ token: A });
        await store.keys.regenerate(A, { token: B, key_name: null });
        assert.equal(await store.keys.findByToken(A), undefined);
        await store.spendLogs.insertBatch([log("in-flight", { api_key: A, spend: 0.5 })]);
        assert.equal((await store.keys.findByToken(B))?.spend, 0.5);
      });

      test("a token that is any key's token or previous token cannot be used again", async () => {
        await store.keys.create({ token: A });
        await store.keys.create({ token: C });
        await store.keys.regenerate(A, { token: B, key_name: null, graceUntil: new Date(START + HOUR) });
        await assert.rejects(store.keys.create({ token: A }), (e: unknown) => e instanceof StoreConflictError && e.field === "token");
        await assert.rejects(store.keys.regenerate(B, { token: C, key_name: null }), (e: unknown) => e instanceof StoreConflictError && e.field === "token");
        await assert.rejects(store.keys.regenerate(C, { token: A, key_name: null }), (e: unknown) => e instanceof StoreConflictError && e.field === "token");
      });

      test("spend adds up atomically, however many writers add at once", async () => {
        await store.keys.create({ token: A });
        await Promise.all(Array.from({ length: 40 }, () => store.keys.addSpend(A, 0.25)));
        assert.equal((await store.keys.findByToken(A))?.spend, 10);
        await store.keys.addSpend(hash("sk-unknown"), 1);
      });

      test("a budget resets when its period is over, on the period's cadence, and spend after it counts in the new one", async () => {
        await store.keys.create({ token: A, max_budget: 1, budget_duration: "1d" });
        await store.keys.addSpend(A, 0.75);
        now = START + DAY - 1;
        assert.equal((await store.keys.findByToken(A))?.spend, 0.75);
        now = START + 3 * DAY + HOUR;
        const reset = await store.keys.findByToken(A);
        assert.equal(reset?.spend, 0);
        assert.deepEqual(reset?.budget_reset_at, new Date(START + 4 * DAY));
        await store.keys.addSpend(A, 0.5);
        assert.equal((await store.keys.findByToken(A))?.spend, 0.5);
        now = START + 4 * DAY;
        await store.keys.addSpend(A, 0.25);
        const next = await store.keys.findByToken(A);
        assert.deepEqual([next?.spend, next?.budget_reset_at], [0.25, new Date(START + 5 * DAY)]);
        const listed = await store.keys.list({ page: 1, size: 1 });
        assert.equal(listed.items[0]?.spend, 0.25);
      });

      test("a period that ends while several readers look resets once", async () => {
        await store.keys.create({ token: A, budget_duration: "1h" });
        await store.keys.addSpend(A, 2);
        now = START + HOUR;
        const seen = await Promise.all(Array.from({ length: 5 }, () => store.keys.findByToken(A)));
        assert.deepEqual(new Set(seen.map((k) => `${k?.spend}@${k?.budget_reset_at?.toISOString()}`)), new Set([`0@${new Date(START + 2 * HOUR).toISOString()}`]));
      });
    });

    describe("teams", () => {
      test("a team is created, found, updated, listed, and deleted with its keys", async () => {
        const team = await store.teams.create({ team_id: "t1", team_alias: "Search", models: ["embed"], max_budget: 100, budget_duration: "1mo", rpm_limit: 1000, tpm_limit: 50_000, max_parallel_requests: 20, metadata: { cost_center: 7 } });
        assert.deepEqual(team, {
          team_id: "t1",
          team_alias: "Search",
          models: ["embed"],
          metadata: { cost_center: 7 },
          max_budget: 100,
          spend: 0,
          budget_duration: "1mo",
          budget_reset_at: new Date("2025-04-10T12:00:00.000Z"),
          rpm_limit: 1000,
          tpm_limit: 50_000,
          max_parallel_requests: 20,
          created_at: new Date(START),
          updated_at: new Date(START),
        });
        assert.deepEqual(await store.teams.get("t1"), team);
        await assert.rejects(store.teams.create({ team_id: "t1" }), (e: unknown) => e instanceof StoreConflictError && e.field === "team_id");
        now = START + 1000;
        await store.teams.create({ team_id: "t2" });
        const updated = await store.teams.update("t1", { team_alias: "Search & Rank", rpm_limit: null, budget_duration: null });
        assert.deepEqual([updated?.team_alias, updated?.rpm_limit, updated?.budget_reset_at, updated?.max_budget], ["Search & Rank", null, null, 100]);
        assert.equal(await store.teams.update("none", { rpm_limit: 1 }), undefined);
        const page = await store.teams.list({ page: 1, size: 1 });
        assert.deepEqual([page.total, page.items.map((t) => t.team_id)], [2, ["t1"]]);
        assert.deepEqual((await store.teams.list({ page: 2, size: 1 })).items.map((t) => t.team_id), ["t2"]);

        await store.keys.create({ token: A, team_id: "t1" });
        await store.keys.create({ token: B, team_id: "t2" });
        assert.deepEqual(await store.teams.delete(["t1", "none"]), { team_ids: ["t1"], tokens: [A] });
        assert.equal(await store.teams.get("t1"), undefined);
        assert.equal(await store.keys.findByToken(A), undefined);
        assert.equal((await store.keys.findByToken(B))?.team_id, "t2");
        assert.deepEqual(await store.teams.delete([]), { team_ids: [], tokens: [] });
      });

      test("team spend adds up and resets with its period", async () => {
        await store.teams.create({ team_id: "t1", budget_duration: "30s" });
        await store.teams.addSpend("t1", 4);
        assert.equal((await store.teams.get("t1"))?.spend, 4);
        now = START + 45_000;
        const reset = await store.teams.get("t1");
        assert.deepEqual([reset?.spend, reset?.budget_reset_at], [0, new Date(START + 60_000)]);
      });
    });

    describe("spend logs", () => {
      test("a batch is written once: replaying it charges nobody twice", async () => {
        await store.keys.create({ token: A, team_id: "t1" });
        await store.teams.create({ team_id: "t1" });
        const rows = [log("r1", { api_key: A, team_id: "t1", spend: 0.5 }), log("r2", { api_key: A, team_id: "t1", spend: 0.25 }), log("r3", { spend: 1 })];
        assert.equal(await store.spendLogs.insertBatch(rows), 3);
        assert.equal(await store.spendLogs.insertBatch(rows), 0);
        assert.equal(await store.spendLogs.insertBatch([rows[0]!, log("r4", { api_key: A, spend: 2 }), log("r4", { api_key: A, spend: 2 })]), 1);
        assert.equal((await store.keys.findByToken(A))?.spend, 2.75);
        assert.equal((await store.teams.get("t1"))?.spend, 0.75);
        assert.equal(await store.spendLogs.insertBatch([]), 0);
        const stored = await store.spendLogs.list({ request_id: "r1" }, { page: 1, size: 10 });
        assert.deepEqual(stored.items, [rows[0]]);
      });

      test("batches racing each other with the same rows charge each row once", async () => {
        await store.keys.create({ token: A });
        const rows = Array.from({ length: 50 }, (_, i) => log(`race-${i}`, { api_key: A, spend: 0.5 }));
        const written = await Promise.all([store.spendLogs.insertBatch(rows), store.spendLogs.insertBatch(rows.slice(10)), store.spendLogs.insertBatch(rows.slice(0, 30))]);
        assert.equal(written.reduce((a, b) => a + b, 0), 50);
        assert.equal((await store.keys.findByToken(A))?.spend, 25);
      });

      test("a batch larger than one INSERT is written whole", async () => {
        const rows = Array.from({ length: 1234 }, (_, i) => log(`big-${i}`, { spend: 0.125 }));
        assert.equal(await store.spendLogs.insertBatch(rows), 1234);
        assert.equal(await store.spendLogs.total(), 1234 * 0.125);
      });

      test("logs are listed newest first, filtered by key, request, model and time, and paged", async () => {
        const rows = [
          log("old", { api_key: A, startTime: new Date(START - DAY), endTime: new Date(START - DAY + 10) }),
          log("a1", { api_key: A, model: "embed", startTime: new Date(START + 1000) }),
          log("a2", { api_key: A, model: "rerank", startTime: new Date(START + 2000) }),
          log("b1", { api_key: B, model: "embed", startTime: new Date(START + 3000), status: "failure", user: "alice", metadata: { key_alias: "b", cache_hit: false } }),
        ];
        await store.spendLogs.insertBatch(rows);
        const ids = async (filter: Parameters<typeof store.spendLogs.list>[0], page = { page: 1, size: 10 }) => {
          const found = await store.spendLogs.list(filter, page);
          return [found.total, found.items.map((r) => r.request_id)];
        };
        assert.deepEqual(await ids({}), [4, ["b1", "a2", "a1", "old"]]);
        assert.deepEqual(await ids({ api_key: A }), [3, ["a2", "a1", "old"]]);
        assert.deepEqual(await ids({ model: "embed", start: new Date(START) }), [2, ["b1", "a1"]]);
        assert.deepEqual(await ids({ start: new Date(START - DAY), end: new Date(START + 2000) }), [2, ["a1", "old"]]);
        assert.deepEqual(await ids({ request_id: "a2" }), [1, ["a2"]]);
        assert.deepEqual(await ids({}, { page: 2, size: 3 }), [4, ["old"]]);
        assert.deepEqual((await store.spendLogs.list({ request_id: "b1" }, { page: 1, size: 1 })).items[0], rows[3]);
      });

      test("per-day summaries cover every day of the range, by key, user and model", async () => {
        const day1 = Date.parse("2025-03-01T10:00:00Z");
        await store.spendLogs.insertBatch([
          log("d1a", { api_key: A, user: "alice", model: "embed", spend: 0.5, startTime: new Date(day1) }),
          log("d1b", { api_key: B, user: null, model: "rerank", spend: 0.25, startTime: new Date(day1 + 13 * HOUR) }),
          log("d3", { api_key: A, user: "alice", model: "embed", spend: 1, startTime: new Date(day1 + 2 * DAY) }),
          log("out", { api_key: A, spend: 8, startTime: new Date(day1 + 5 * DAY) }),
        ]);
        const days = await store.spendLogs.daily({ start: new Date("2025-03-01T00:00:00Z"), end: new Date("2025-03-04T00:00:00Z") });
        assert.deepEqual(days, [
          { day: "2025-03-01", spend: 0.75, api_keys: { [A]: 0.5, [B]: 0.25 }, users: { alice: 0.5 }, models: { embed: 0.5, rerank: 0.25 } },
          { day: "2025-03-02", spend: 0, api_keys: {}, users: {}, models: {} },
          { day: "2025-03-03", spend: 1, api_keys: { [A]: 1 }, users: { alice: 1 }, models: { embed: 1 } },
        ]);
        const onlyB = await store.spendLogs.daily({ api_key: B, start: new Date("2025-03-01T00:00:00Z"), end: new Date("2025-03-02T00:00:00Z") });
        assert.deepEqual(onlyB.map((d) => d.spend), [0.25]);
        assert.equal(await store.spendLogs.total(), 9.75);
        assert.equal(await store.spendLogs.total({ start: new Date("2025-03-02T00:00:00Z"), end: new Date("2025-03-05T00:00:00Z") }), 1);
      });

      test("the spend report groups by team, key or model in LiteLLM's shape", async () => {
        await store.teams.create({ team_id: "t1", team_alias: "Search" });
        const d1 = Date.parse("2025-03-01T08:00:00Z");
        await store.spendLogs.insertBatch([
          log("1", { api_key: A, team_id: "t1", model: "embed", spend: 0.5, total_tokens: 10, prompt_tokens: 10, startTime: new Date(d1) }),
          log("2", { api_key: A, team_id: "t1", model: "embed", spend: 0.25, total_tokens: 4, prompt_tokens: 4, startTime: new Date(d1 + HOUR) }),
          log("3", { api_key: B, team_id: null, model: "rerank", spend: 1, total_tokens: 3, prompt_tokens: 3, startTime: new Date(d1 + 2 * HOUR) }),
          log("4", { api_key: A, team_id: "t1", model: "rerank", spend: 2, total_tokens: 5, prompt_tokens: 5, startTime: new Date(d1 + DAY) }),
        ]);
        const range = { start: new Date("2025-03-01T00:00:00Z"), end: new Date("2025-03-03T00:00:00Z") };
        const sortTeams = (report: unknown) =>
          (report as Array<{ group_by_day: string; teams: Array<{ team_name: string }> }>).map((day) => ({ ...day, teams: [...day.teams].sort((x, y) => x.team_name.localeCompare(y.team_name)) }));
        assert.deepEqual(sortTeams(await store.spendLogs.report("team", range)), [
          {
            group_by_day: "2025-03-01",
            teams: [
              { team_name: "Search", total_spend: 0.75, metadata: [{ model: "embed", api_key: A, spend: 0.75, total_tokens: 14 }] },
              { team_name: "Unassigned Team", total_spend: 1, metadata: [{ model: "rerank", api_key: B, spend: 1, total_tokens: 3 }] },
            ],
          },
          { group_by_day: "2025-03-02", teams: [{ team_name: "Search", total_spend: 2, metadata: [{ model: "rerank", api_key: A, spend: 2, total_tokens: 5 }] }] },
        ]);
        const byKey = await store.spendLogs.report("api_key", range);
        assert.deepEqual(
          (byKey as Array<{ model_details: Array<{ model: string }> }>).map((k) => ({ ...k, model_details: [...k.model_details].sort((x, y) => x.model.localeCompare(y.model)) })),
          [
            {
              api_key: A,
              total_cost: 2.75,
              total_input_tokens: 19,
              total_output_tokens: 0,
              model_details: [
                { model: "embed", total_cost: 0.75, total_input_tokens: 14, total_output_tokens: 0 },
                { model: "rerank", total_cost: 2, total_input_tokens: 5, total_output_tokens: 0 },
              ],
            },
            { api_key: B, total_cost: 1, total_input_tokens: 3, total_output_tokens: 0, model_details: [{ model: "rerank", total_cost: 1, total_input_tokens: 3, total_output_tokens: 0 }] },
          ],
        );
        const byModel = (await store.spendLogs.report("model", { start: new Date("2025-03-02T00:00:00Z"), end: new Date("2025-03-03T00:00:00Z") })) as unknown;
        assert.deepEqual(byModel, [{ group_by_day: "2025-03-02", models: [{ model: "rerank", total_spend: 2, metadata: [{ api_key: A, team_id: "t1", spend: 2, total_tokens: 5 }] }] }]);
      });

      test("retention deletes the rows older than the cutoff, in batches, and keeps keys' spend", async () => {
        await store.keys.create({ token: A });
        const old = Array.from({ length: 7 }, (_, i) => log(`old-${i}`, { api_key: A, spend: 1, startTime: new Date(START - 40 * DAY + i) }));
        await store.spendLogs.insertBatch([...old, log("recent", { api_key: A, spend: 1 })]);
        assert.equal(await store.spendLogs.deleteOlderThan(new Date(START - 30 * DAY), 3), 7);
        assert.deepEqual((await store.spendLogs.list({}, { page: 1, size: 10 })).items.map((r) => r.request_id), ["recent"]);
        assert.equal((await store.keys.findByToken(A))?.spend, 8);
        assert.equal(await store.spendLogs.deleteOlderThan(new Date(START - 30 * DAY)), 0);
      });

      test("a row's spend resets a key's period that is over before it is added", async () => {
        await store.keys.create({ token: A, budget_duration: "1d" });
        await store.spendLogs.insertBatch([log("before", { api_key: A, spend: 3 })]);
        now = START + DAY;
        await store.spendLogs.insertBatch([log("after", { api_key: A, spend: 1 })]);
        const key = await store.keys.findByToken(A);
        assert.deepEqual([key?.spend, key?.budget_reset_at], [1, new Date(START + 2 * DAY)]);
      });
    });
  });
}
