// `within`, the one bounded wait on a dependency (the cache's Redis reads, the key store's reads, trace
// exports): it must refuse what did not answer in time, and take what did, even when this process's own loop
// was too busy to look until after the deadline.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Socket, connect } from "node:net";
import { test } from "node:test";
import { systemClock, within } from "../../../src/proxy/router/clock.js";

const timedOut = (): Error => new Error("no answer in time");

/** Busy for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

test("an answer that arrived while the loop was blocked past the deadline is taken, not timed out", async () => {
  // The answer is written at once; then the loop is blocked (as by a long GC pause or a heavy request) past
  // the deadline, so that when it looks again, the timer is due and the answer waits to be read.
  const server = createServer((socket) =>
    socket.on("data", () => {
      socket.write("pong");
      block(200);
    }),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const socket: Socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  try {
    const answer = new Promise<string>((resolve) => socket.once("data", (data) => resolve(data.toString())));
    socket.write("ping");
    const waited = within(systemClock, answer, 20, timedOut);
    assert.equal(await waited, "pong");
  } finally {
    socket.destroy();
    server.close();
  }
});

test("a dependency that does not answer is refused once the time is up", async () => {
  const started = performance.now();
  await assert.rejects(within(systemClock, new Promise<never>(() => undefined), 30, timedOut), /no answer in time/);
  assert.ok(performance.now() - started >= 29);
});
