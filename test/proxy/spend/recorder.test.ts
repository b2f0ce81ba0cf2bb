// The spend recorder between the request path and the store: rows journaled, committed batches reported
// (budgets rely on it not to count spend twice), journals of workers that no longer exist replayed, and old
// rows trimmed by the retention job on its own clock.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { parseDuration } from "../../../src/proxy/duration.js";
import { SpendJournal } from "../../../src/proxy/spend/journal.js";
import { SpendRecorder } from "../../../src/proxy/spend/recorder.js";
import { openStore, type Store } from "../../../src/proxy/store/index.js";
import { spendRow } from "../../support/records.js";
import { FakeClock } from "../router/helpers.js";

const DAY = 86_400_000;

describe("SpendRecorder", () => {
  let dir: string;
  let store: Store;
  let clock: FakeClock;
  const errors: Error[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "xgate-recorder-"));
    clock = new FakeClock();
    store = await openStore({ kind: "sqlite", path: join(dir, "xgate.db") }, { clock });
    errors.length = 0;
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function open(options: Partial<Parameters<typeof SpendRecorder.open>[0]> = {}): Promise<SpendRecorder> {
    return SpendRecorder.open({
      store,
      dir,
      instance: "0",
      flushIntervalMs: 1000,
      retention: undefined,
      clock,
      onError: (error) => errors.push(error),
      ...options,
    });
  }

  test("tells of each batch the database took, with what its new rows charged", async () => {
    const committed: number[][] = [];
    const recorder = await open({ onCommitted: (charges) => committed.push(charges.map((c) => c.spend)) });
    recorder.record(spendRow("a", clock.now(), { spend: 0.25 }));
    recorder.record(spendRow("b", clock.now(), { spend: 0.5 }));
    await recorder.flush();
    // A row the database had already (a replay after a crash) charges nothing, and is not reported.
    recorder.record(spendRow("a", clock.now(), { spend: 0.25 }));
    recorder.record(spendRow("c", clock.now(), { spend: 1 }));
    await recorder.flush();
    assert.deepEqual(committed, [[0.25, 0.5], [1]]);
    assert.equal((await store.spendLogs.list({}, { page: 1, size: 10 })).total, 3);
    await recorder.close();
    assert.deepEqual(errors, []);
  });

  test("the first worker replays the journal of a worker that no longer exists; the others do not", async () => {
    // Worker 3 of a run with four workers left a row behind; the proxy now runs two.
    const orphan = await SpendJournal.open({ dir, instance: "3", sink: { insertBatch: async () => Promise.reject(new Error("down")) }, flushIntervalMs: 60_000, clock });
    orphan.append(spendRow("left-behind", clock.now()));
    await orphan.close();
    const second = await open({ instance: "1" });
    assert.equal((await store.spendLogs.list({}, { page: 1, size: 10 })).total, 0);
    const first = await open({ instance: "0", live: new Set(["0", "1"]) });
    const rows = await store.spendLogs.list({}, { page: 1, size: 10 });
    assert.deepEqual(rows.items.map((r) => r.request_id), ["left-behind"]);
    await Promise.all([first.close(), second.close()]);
  });

  test("trims rows older than the retention period, first a minute after start, then hourly", async () => {
    const now = clock.now();
    await store.spendLogs.insertBatch([spendRow("old", now - 31 * DAY), spendRow("recent", now - 29 * DAY)]);
    const recorder = await open({ retention: parseDuration("30d") });
    const ids = async (): Promise<string[]> => (await store.spendLogs.list({}, { page: 1, size: 10 })).items.map((r) => r.request_id).sort();
    assert.deepEqual(await ids(), ["old", "recent"]);
    clock.advance(60_000);
    await waitFor(async () => (await ids()).length === 1);
    assert.deepEqual(await ids(), ["recent"]);
    // A day on, the hourly trim finds the row that was 29 days old past the period too.
    for (let hour = 0; hour < 25 && (await ids()).length > 0; hour++) {
      clock.advance(60 * 60 * 1000);
      await ticks(); // the trim runs, and arms the next one once it is done
    }
    assert.deepEqual(await ids(), []);
    await recorder.close();
    assert.deepEqual(errors, []);
  });
});

async function ticks(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Resolves once `check` holds: the trim runs on the database's own time, not the fake clock's. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("the condition never held");
}
