/**
 * The spend journal against a real SQLite store: rows reach the database once, survive a database that is
 * down, a crash between insert and truncation, a torn last line and a `kill -9` of a process under load.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Clock } from "../../../src/proxy/router/clock.js";
import { journalPath, SpendJournal, type SpendSink } from "../../../src/proxy/spend/journal.js";
import { openStore, type SpendLogRow, type Store } from "../../../src/proxy/store/index.js";
import { RECORDED_AT, spendRow } from "../../support/records.js";

const WRITER = fileURLToPath(new URL("fixtures/journal-writer.ts", import.meta.url));
const KEY = createHash("sha256").update("sk-journal").digest("hex");

/** A row with a key, a user and metadata, all of which must come back from the database as they went in. */
function row(request_id: string, spend = 0.5): SpendLogRow {
  return spendRow(request_id, RECORDED_AT, { api_key: KEY, spend, user: "alice", metadata: { key_alias: "journal" } });
}

/** Timers that run only when the test says so. */
function manualClock(): Clock & { fire(): void } {
  let pending: Array<() => void> = [];
  return {
    now: () => Date.parse("2025-03-10T12:00:00.000Z"),
    setTimer(_ms, fn) {
      pending.push(fn);
      return () => (pending = pending.filter((f) => f !== fn));
    },
    fire() {
      const due = pending;
      pending = [];
      for (const fn of due) fn();
    },
  };
}

/** The store, behind switches: down, or failing after its insert (a crash before the journal is truncated). */
class TestSink implements SpendSink {
  down = false;
  failAfterInsert = false;
  /** Holds each insert until released. */
  gate: Promise<void> | undefined;
  readonly batches: SpendLogRow[][] = [];
  private waiting: Array<() => void> = [];

  constructor(private readonly store: Store) {}

  async insertBatch(rows: readonly SpendLogRow[]): Promise<number> {
    this.batches.push([...rows]);
    for (const wake of this.waiting.splice(0)) wake();
    if (this.gate) await this.gate;
    if (this.down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    const written = await this.store.spendLogs.insertBatch(rows);
    if (this.failAfterInsert) throw new Error("Connection terminated unexpectedly");
    return written;
  }

  /** Resolves at the next batch the journal sends. */
  nextBatch(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

describe("the spend journal", () => {
  let dir: string;
  let store: Store;
  let sink: TestSink;
  let errors: string[];
  const stored = async (): Promise<string[]> => (await store.spendLogs.list({}, { page: 1, size: 10_000 })).items.map((r) => r.request_id).sort();
  const keySpend = async (): Promise<number | undefined> => (await store.keys.findByToken(KEY))?.spend;
  const open = (options: Partial<Parameters<typeof SpendJournal.open>[0]> = {}) =>
    SpendJournal.open({ dir, instance: "0", sink, flushIntervalMs: 10_000, clock: manualClock(), onError: (e) => errors.push(e.message), ...options });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "xgate-journal-"));
    store = await openStore({ kind: "sqlite", path: join(dir, "xgate.db") });
    await store.keys.create({ token: KEY });
    sink = new TestSink(store);
    errors = [];
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("an appended row is in the file at once; a batch puts it in the database and empties the file", async () => {
    const journal = await open();
    journal.append(row("r1"));
    journal.append(row("r2", 0.25));
    const lines = readFileSync(journalPath(dir, "0"), "utf8").split("\n").filter(Boolean);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { request_id: string }).request_id), ["r1", "r2"]);
    await journal.flush();
    assert.deepEqual(await stored(), ["r1", "r2"]);
    assert.deepEqual((await store.spendLogs.list({ request_id: "r1" }, { page: 1, size: 1 })).items, [row("r1")]);
    assert.equal(await keySpend(), 0.75);
    assert.equal(statSync(journalPath(dir, "0")).size, 0);
    await journal.close();
    assert.deepEqual(errors, []);
  });

  test("the timer sends a batch each interval, and so do batchRows rows waiting", async () => {
    const clock = manualClock();
    const journal = await open({ clock, batchRows: 3 });
    journal.append(row("t1"));
    const timed = sink.nextBatch();
    clock.fire();
    await timed;
    const early = sink.nextBatch();
    for (const id of ["t2", "t3", "t4"]) journal.append(row(id));
    await early;
    await journal.close();
    assert.deepEqual(sink.batches.map((b) => b.map((r) => r.request_id)), [["t1"], ["t2", "t3", "t4"]]);
    assert.deepEqual(await stored(), ["t1", "t2", "t3", "t4"]);
  });

  test("while the database is down rows stay in the journal, and go in once when it is back", async () => {
    const clock = manualClock();
    const journal = await open({ clock });
    sink.down = true;
    journal.append(row("d1"));
    journal.append(row("d2"));
    await assert.rejects(journal.flush(), /ECONNREFUSED/);
    const failed = sink.nextBatch();
    clock.fire();
    await failed;
    await journal.flush().catch(() => undefined);
    assert.match(errors.join("\n"), /ECONNREFUSED/);
    assert.deepEqual(await stored(), []);
    assert.equal(readFileSync(journalPath(dir, "0"), "utf8").split("\n").filter(Boolean).length, 2);
    journal.append(row("d3"));
    sink.down = false;
    await journal.flush();
    assert.deepEqual(await stored(), ["d1", "d2", "d3"]);
    assert.equal(await keySpend(), 1.5);
    assert.equal(statSync(journalPath(dir, "0")).size, 0);
    await journal.close();
  });

  test("rows the database took just before the process lost its answer are sent again and charged once", async () => {
    const journal = await open();
    journal.append(row("c1"));
    sink.failAfterInsert = true;
    await assert.rejects(journal.flush(), /terminated/);
    assert.deepEqual(await stored(), ["c1"]);
    sink.failAfterInsert = false;
    await journal.flush();
    assert.equal(sink.batches.length, 2);
    assert.deepEqual(await stored(), ["c1"]);
    assert.equal(await keySpend(), 0.5);
    await journal.close();
  });

  test("a journal left by a crash is replayed on open; a torn last line and a garbled one are skipped, not fatal", async () => {
    const whole = [row("j1"), row("j2")].map((r) => JSON.stringify(r));
    writeFileSync(journalPath(dir, "0"), `${whole[0]}\n{"request_id": "garbled\n${whole[1]}\n${JSON.stringify(row("torn")).slice(0, 40)}`);
    const journal = await open();
    assert.deepEqual(await stored(), ["j1", "j2"]);
    assert.deepEqual(errors, [`skipped 2 torn line(s) in ${journalPath(dir, "0")} (a write cut short by a crash)`]);
    assert.equal(statSync(journalPath(dir, "0")).size, 0);
    journal.append(row("j3"));
    await journal.flush();
    assert.deepEqual(await stored(), ["j1", "j2", "j3"]);
    await journal.close();
  });

  test("a torn line left while the database is down ends before the next row, which stays whole", async () => {
    writeFileSync(journalPath(dir, "0"), `${JSON.stringify(row("k1"))}\n${JSON.stringify(row("torn")).slice(0, 30)}`);
    sink.down = true;
    const journal = await open();
    journal.append(row("k2"));
    sink.down = false;
    await journal.flush();
    assert.deepEqual(await stored(), ["k1", "k2"]);
    await journal.close();
  });

  test("under steady appends the journal is rewritten with only what the database lacks, and grows no further", async () => {
    const journal = await open({ batchRows: 1000 });
    const first = Array.from({ length: 300 }, (_, i) => row(`s${i}`));
    for (const r of first) journal.append(r);
    const sizeBefore = statSync(journalPath(dir, "0")).size;
    assert.ok(sizeBefore > 64 * 1024, `test needs more than 64 KiB of rows, has ${sizeBefore}`);
    let release = (): void => undefined;
    sink.gate = new Promise((resolve) => (release = resolve));
    const sending = sink.nextBatch();
    const flushed = journal.flush();
    await sending;
    const late = ["l1", "l2", "l3"].map((id) => row(id));
    for (const r of late) journal.append(r);
    sink.gate = undefined;
    release();
    await flushed;
    assert.equal(readFileSync(journalPath(dir, "0"), "utf8"), late.map((r) => `${JSON.stringify(r)}\n`).join(""));
    assert.equal(existsSync(`${journalPath(dir, "0")}.tmp`), false);
    journal.append(row("l4"));
    await journal.flush();
    assert.equal((await stored()).length, 304);
    assert.equal(await keySpend(), 152);
    assert.equal(statSync(journalPath(dir, "0")).size, 0);
    await journal.close();
  });

  test("journals no live process owns are replayed and removed; an owned one is left to its owner", async () => {
    writeFileSync(journalPath(dir, "7"), `${JSON.stringify(row("o1"))}\n${JSON.stringify(row("o2"))}\n`);
    writeFileSync(journalPath(dir, "0"), `${JSON.stringify(row("mine"))}\n`);
    writeFileSync(join(dir, "notes.jsonl"), "not a journal\n");
    sink.down = true;
    assert.deepEqual(await SpendJournal.replayUnowned({ dir, sink, owned: new Set(["0"]), onError: (e) => errors.push(e.message) }), ["7"]);
    assert.ok(existsSync(journalPath(dir, "7")));
    sink.down = false;
    assert.deepEqual(await SpendJournal.replayUnowned({ dir, sink, owned: new Set(["0"]) }), []);
    assert.deepEqual(await stored(), ["o1", "o2"]);
    assert.equal(existsSync(journalPath(dir, "7")), false);
    assert.equal(readFileSync(journalPath(dir, "0"), "utf8"), `${JSON.stringify(row("mine"))}\n`);
    assert.ok(existsSync(join(dir, "notes.jsonl")));
    assert.deepEqual(await SpendJournal.replayUnowned({ dir: join(dir, "none"), sink, owned: new Set() }), []);
  });

  test("an instance name that cannot be a file name is refused; a closed journal takes no rows", async () => {
    assert.throws(() => journalPath(dir, "../etc"), /'\.\.\/etc' cannot name a spend journal: use letters, digits/);
    const journal = await open();
    await journal.close();
    assert.throws(() => journal.append(row("late")), /the spend journal is closed/);
  });

  test("kill -9 of a process under load loses no acknowledged row, and replay charges each once", { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir, join(dir, "xgate.db"), "3", KEY], { stdio: ["ignore", "pipe", "inherit"] });
    const acked: string[] = [];
    // "close", not "exit": exit can come before the parent has read every ack still in the pipe.
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on("line", (line) => {
        acked.push(line.slice("ack ".length));
        if (acked.length === 1000) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await exited;
    const journal = await open({ instance: "3" });
    await journal.close();
    const rows = await stored();
    const missing = acked.filter((id) => !rows.includes(id));
    assert.deepEqual(missing, [], "every acknowledged row is in the database");
    // The kill can land between an append and its ack: at most that one row more than was acknowledged.
    assert.ok(rows.length - new Set(acked).size <= 1, `${rows.length} rows for ${acked.length} acks`);
    assert.deepEqual(rows, [...new Set(rows)]);
    assert.equal(await keySpend(), rows.length * 0.5, "each row charged once");
    assert.equal(statSync(journalPath(dir, "3")).size, 0);
  });
});
