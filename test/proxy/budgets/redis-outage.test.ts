// Redis going away under running budgets: every request is still answered, by this instance's own counts;
// the log says so once, state() says so; what was settled meanwhile reaches the shared count when Redis is
// back. Each test runs a redis-server of its own (on CI a missing redis-server fails it).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type Budgets, createBudgets } from "../../../src/proxy/budgets/index.js";
import type { RouterLogger } from "../../../src/proxy/router/logger.js";
import { type PrivateRedis, startPrivateRedis } from "../../support/redis.js";
import { FakeClock } from "../router/helpers.js";
import { admitted, close, drained, keyScope, refused, spendOf, START } from "./helpers.js";

const servers: PrivateRedis[] = [];
after(() => Promise.all(servers.map((server) => server.kill())));

interface Captured extends RouterLogger {
  lines: { level: string; message: string | undefined }[];
}

function capturingLogger(): Captured {
  const lines: Captured["lines"] = [];
  return {
    lines,
    info: (_fields, message) => void lines.push({ level: "info", message }),
    warn: (_fields, message) => void lines.push({ level: "warn", message }),
  };
}

function saying(logger: Captured, text: string): number {
  return logger.lines.filter((line) => line.message?.includes(text)).length;
}

/** Waits, event by event, until the budgets are shared again: each `ready()` returns at the connection's next outcome. */
async function untilShared(budgets: Budgets): Promise<void> {
  for (let outcomes = 0; budgets.state().mode !== "shared"; outcomes++) {
    if (outcomes > 200) throw new Error(`budgets never shared again: ${budgets.state().detail}`);
    await budgets.ready();
  }
}

async function start(t: { skip: (message: string) => void }): Promise<PrivateRedis | undefined> {
  const server = await startPrivateRedis("redis-outage.test.ts");
  if (server === undefined) t.skip("redis-server is not installed (CI has it)");
  else servers.push(server);
  return server;
}

test("Redis killed: requests are checked by this instance's own counts, said once and in state(); shared again when it is back", async (t) => {
  const server = await start(t);
  if (!server) return;
  const clock = new FakeClock(START);
  const logger = capturingLogger();
  const budgets = createBudgets({ host: "127.0.0.1", port: server.port, password: undefined }, { clock, logger });
  try {
    await budgets.ready();
    assert.equal(budgets.state().mode, "shared");
    const scope = keyScope({ maxBudget: 10 });
    (await admitted(budgets, [scope], 1)).settle(4);

    await server.kill();
    const during = await admitted(budgets, [scope], 1);
    // This instance knows what it settled: 4, not yet in the row.
    close(during.spend.get("key:hash-of-my-app"), 4);
    during.settle(3);
    (await admitted(budgets, [scope], 1)).settle(3);
    await refused(budgets, [scope]);
    const down = budgets.state();
    assert.equal(down.mode, "per-instance");
    assert.match(down.detail, /^Redis \(127\.0\.0\.1:\d+\) not answering since \S+ \(.+\): each instance counts spend against budgets on its own until it is back$/);
    assert.equal(saying(logger, "budgets: Redis is not answering"), 1, "said once, not per request");

    await server.restart();
    await untilShared(budgets);
    assert.equal(saying(logger, "budgets: Redis answers again"), 1);
    // The restarted Redis lost its counts: the count begins again from what this instance knows.
    const refusal = await refused(budgets, [scope]);
    assert.deepEqual([refusal.spend, refusal.reserved], [10, 0]);
  } finally {
    await budgets.close();
  }
});

test("Redis frozen and back: what an instance settled while it was away reaches the shared count once, which another instance sees", async (t) => {
  const server = await start(t);
  if (!server) return;
  const clock = new FakeClock(START);
  const connection = { host: "127.0.0.1", port: server.port, password: undefined };
  const first = createBudgets(connection, { clock });
  const second = createBudgets(connection, { clock });
  try {
    await Promise.all([first.ready(), second.ready()]);
    const scope = keyScope({ maxBudget: 10 });
    (await admitted(first, [scope], 1)).settle(2);

    server.pause();
    // The command times out (250 ms): this instance checks on its own, and owes what it settles.
    (await admitted(first, [scope], 1)).settle(3);
    assert.equal(first.state().mode, "per-instance");
    const late = await admitted(first, [scope], 1);
    server.resume();
    clock.advance(1_000); // the next probe
    await untilShared(first);
    close(await spendOf(second, scope), 5);

    // Admitted while Redis was away, over once it is back: its cost goes to the shared count at once.
    late.settle(0.5);
    await drained(first);
    close(await spendOf(second, scope), 5.5);
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});
