// What an instance knows beyond the rows it is handed: spend it settled that the database does not have yet,
// spend the database took after a row was read, and which of it counts once a period is over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_COMMIT_MEMORY_MS, MemoryBudgets } from "../../../src/proxy/budgets/index.js";
import { FakeClock } from "../router/helpers.js";
import { admitted, close, keyScope, refused, spendOf, START, teamScope } from "./helpers.js";

function setUp(): { clock: FakeClock; budgets: MemoryBudgets } {
  const clock = new FakeClock(START);
  return { clock, budgets: new MemoryBudgets({ clock }) };
}

test("spend settled and not yet in the database counts against the row's spend", async () => {
  const { budgets } = setUp();
  const scope = keyScope({ storedSpend: 2, maxBudget: 5 });
  (await admitted(budgets, [scope], 1)).settle(3);
  const refusal = await refused(budgets, [scope]);
  assert.deepEqual([refusal.spend, refusal.reserved], [5, 0]);
  await budgets.close();
});

test("committed() does not count a request twice: not for the row read before the batch, nor for the one read after", async () => {
  const { clock, budgets } = setUp();
  const readBefore = keyScope({ storedSpend: 1, maxBudget: 100 });
  (await admitted(budgets, [readBefore], 1)).settle(4);
  clock.advance(10_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 4 }]);
  // The row read before the batch lacks the 4: it is added. The row read after has it: it is not.
  close(await spendOf(budgets, readBefore), 5);
  clock.advance(1);
  close(await spendOf(budgets, keyScope({ storedSpend: 5, readAt: clock.now() })), 5);
  await budgets.close();
});

test("committed() charges the key and its team, and not the master key ('')", async () => {
  const { clock, budgets } = setUp();
  clock.advance(1_000);
  budgets.committed([
    { api_key: "hash-of-my-app", team_id: "team-ml", spend: 2 },
    { api_key: "", team_id: "team-ml", spend: 3 },
    { api_key: "hash-of-my-app", team_id: null, spend: 0.5 },
  ]);
  close(await spendOf(budgets, keyScope()), 2.5);
  close(await spendOf(budgets, teamScope()), 5);
  close(await spendOf(budgets, keyScope({ id: "" })), 0);
  await budgets.close();
});

test("rows another run of this instance left in its journal count for rows read before they reached the database", async () => {
  const { clock, budgets } = setUp();
  clock.advance(1_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 6 }]);
  close(await spendOf(budgets, keyScope({ storedSpend: 1 })), 7);
  await budgets.close();
});

test("what the database took is remembered for the commit memory, then rows are taken to have it", async () => {
  const { clock, budgets } = setUp();
  clock.advance(1_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 6 }]);
  clock.advance(DEFAULT_COMMIT_MEMORY_MS - 60_000);
  close(await spendOf(budgets, keyScope()), 6);
  clock.advance(DEFAULT_COMMIT_MEMORY_MS);
  close(await spendOf(budgets, keyScope()), 0);
  await budgets.close();
});

test("once a period is over, what the database took since it began counts, and nothing from before", async () => {
  const { clock, budgets } = setUp();
  const scope = keyScope({ storedSpend: 50, maxBudget: 10, periodEndsAt: START + 60_000, budgetDuration: "1m" });
  clock.advance(30_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 1 }]);
  // Two periods later the row, read at START, is still the one handed in: the period now began at +120 s.
  clock.advance(100_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 2 }]);
  clock.advance(5_000);
  budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: 4 }]);
  const hold = await admitted(budgets, [scope]);
  close(hold.spend.get("key:hash-of-my-app"), 6);
  hold.settle(4.5);
  const refusal = await refused(budgets, [scope]);
  assert.equal(refusal.resetsAt, START + 180_000);
  close(refusal.spend, 10.5);
  await budgets.close();
});

test("a regenerated key's budget counts what requests under its previous token settled that the row lacks", async () => {
  const { clock, budgets } = setUp();
  const old = keyScope({ id: "hash-of-old-value", maxBudget: 10 });
  (await admitted(budgets, [old], 1)).settle(4);
  const inFlight = await admitted(budgets, [old], 3);
  // /key/regenerate: the row under its new token, read before the journal's batch reached the database.
  const regenerated = keyScope({ id: "hash-of-new-value", previousId: "hash-of-old-value", maxBudget: 10, readAt: clock.now() });
  close(await spendOf(budgets, regenerated), 4);
  const refusal = await refused(budgets, [{ ...regenerated, maxBudget: 7 }]);
  assert.deepEqual([refusal.spend, refusal.reserved], [4, 3]);
  inFlight.settle(2);
  clock.advance(1_000);
  budgets.committed([{ api_key: "hash-of-old-value", team_id: null, spend: 6 }]);
  close(await spendOf(budgets, regenerated), 6);
  // Read again after the batch: the row has the 6, which is not counted twice.
  clock.advance(1);
  close(await spendOf(budgets, { ...regenerated, storedSpend: 6, readAt: clock.now() }), 6);
  await budgets.close();
});

test("a cost that is negative or not a number is not charged", async () => {
  const { budgets } = setUp();
  (await admitted(budgets, [keyScope()], 1)).settle(Number.NaN);
  (await admitted(budgets, [keyScope()], 1)).settle(-3);
  close(await spendOf(budgets, keyScope()), 0);
  await budgets.close();
});

test("a request in flight for minutes, over budgeted and unbudgeted scopes alike, settles into counts the sweep left alone", async () => {
  const { clock, budgets } = setUp();
  const key = keyScope({ maxBudget: 10 });
  const team = teamScope({ maxBudget: undefined });
  const first = await admitted(budgets, [key, team], 2);
  const second = await admitted(budgets, [key, team], 2);
  // Sweeps run every minute; neither request's ledgers may go while they are held.
  clock.advance(5 * 60_000);
  first.settle(3);
  // The key's reservation is the second request's alone now: 3 settled + 2 reserved.
  const refusal = await refused(budgets, [keyScope({ maxBudget: 5 })]);
  assert.deepEqual([refusal.spend, refusal.reserved], [3, 2]);
  second.release();
  close(await spendOf(budgets, key), 3);
  close(await spendOf(budgets, team), 3);
  // A hold settles once, whichever is called first and however often.
  assert.equal(first.settle(100).get("key:hash-of-my-app"), 3);
  close(await spendOf(budgets, key), 3);
  await budgets.close();
});

test("thousands of batches in the commit memory: each read counts exactly the commits after it, as a walk over them would", async () => {
  const { clock, budgets } = setUp();
  const commits: Array<{ at: number; amount: number }> = [];
  // A batch every 250 ms for 20 minutes (beyond the 15 of the commit memory), amounts of a per-token price.
  for (let i = 0; i < 4_800; i++) {
    clock.advance(250);
    const amount = 0.000001 * (1 + (i % 7));
    budgets.committed([{ api_key: "hash-of-my-app", team_id: null, spend: amount }]);
    commits.push({ at: clock.now(), amount });
  }
  const remembered = commits.filter((c) => c.at >= clock.now() - DEFAULT_COMMIT_MEMORY_MS);
  for (const readAt of [remembered[0]!.at - 1, remembered[0]!.at, commits[3_000]!.at, commits[4_799]!.at - 1, clock.now()]) {
    const walked = remembered.filter((c) => c.at > readAt).reduce((sum, c) => sum + c.amount, 0);
    close(await spendOf(budgets, keyScope({ storedSpend: 1, readAt, maxBudget: 100 })), 1 + walked);
  }
  await budgets.close();
});
