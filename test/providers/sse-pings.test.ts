// Xinference's streamed speech carries sse-starlette's ping comments between its audio chunks: they are taken
// out wherever the body's chunks split them, and audio that merely resembles one is left alone.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { withoutPings } from "../../src/providers/xinference/sse-pings.js";

async function through(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(withoutPings())) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

const PING = Buffer.from(": ping - 2025-06-01 12:00:00.123456+00:00\r\n\r\n");
const audio = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_unused, i) => (i * 31 + seed * 17) % 256));

describe("withoutPings", () => {
  it("removes ping comments however the body is split", async () => {
    const a = audio(300, 1);
    const b = audio(200, 2);
    const body = Buffer.concat([PING, a, PING, PING, b, PING]);
    const expected = Buffer.concat([a, b]);
    assert.deepEqual(await through([body]), expected);
    for (let cut = 1; cut < body.length; cut++) {
      assert.deepEqual(await through([body.subarray(0, cut), body.subarray(cut)]), expected, `split at ${cut}`);
    }
    // One byte at a time: every ping split everywhere at once.
    assert.deepEqual(await through([...body].map((byte) => Buffer.from([byte]))), expected);
  });

  it("leaves audio that only resembles a ping as it is", async () => {
    const lookalikes = [
      Buffer.from(": ping"), // at the very end: no line ending follows
      Buffer.from(": pinged\r\nX"), // a line ending that is not the comment's blank line
      Buffer.concat([Buffer.from(": ping "), Buffer.alloc(120, 0x41), Buffer.from("\r\n\r\n")]), // far too long a line
      Buffer.from(": pin"),
    ];
    for (const lookalike of lookalikes) {
      const body = Buffer.concat([audio(50, 3), lookalike, audio(50, 4)]);
      assert.deepEqual(await through([body]), body, JSON.stringify(lookalike.toString("latin1").slice(0, 20)));
      const tail = Buffer.concat([audio(50, 5), lookalike]);
      assert.deepEqual(await through([tail]), tail, "held back at the end, then passed on");
    }
  });
});
