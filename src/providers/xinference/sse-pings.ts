/**
 * Xinference streams speech through sse-starlette's EventSourceResponse, which writes the audio chunks raw
 * but still slips its keep-alive comment (`: ping - <time>\r\n\r\n`, every XINFERENCE_SSE_PING_ATTEMPTS_SECONDS)
 * in between: bytes that are no audio and would be heard as clicks or break a decoder. This removes them,
 * wherever the chunks of the body split them. A false match needs `: ping` and then `\r\n\r\n` within one
 * short line in the audio itself, which compressed or sampled audio does not hold in practice.
 */
import { Transform } from "node:stream";

const PING_START = Buffer.from(": ping");
const PING_END = Buffer.from("\r\n\r\n");
/** `: ping - 2025-01-01 00:00:00.000000+00:00\r\n\r\n` is 46 bytes; anything much longer is no ping. */
const MAX_PING_BYTES = 96;
const CR = 0x0d;
const LF = 0x0a;

type Match = { kind: "ping"; end: number } | { kind: "partial" } | { kind: "none" };

/**
 * Whether a ping comment starts at `start` (where `: ping` is): one short line, then `\r\n\r\n`. `partial`
 * when the data ends before it could tell.
 */
function matchPing(data: Buffer, start: number): Match {
  // Scanned no further than a ping can reach: a line that long is no ping, whatever follows it.
  const limit = Math.min(data.length, start + MAX_PING_BYTES);
  let i = start + PING_START.length;
  while (i < limit && data[i] !== CR && data[i] !== LF) i++;
  const end = i + PING_END.length;
  if (end - start > MAX_PING_BYTES) return { kind: "none" };
  const available = Math.min(data.length, end) - i;
  if (!data.subarray(i, i + available).equals(PING_END.subarray(0, available))) return { kind: "none" };
  return available === PING_END.length ? { kind: "ping", end } : { kind: "partial" };
}

/** How many bytes at the end of `data` (from `from` on) could be the beginning of a ping comment. */
function partialStart(data: Buffer, from: number): number {
  for (let keep = Math.min(PING_START.length - 1, data.length - from); keep > 0; keep--) {
    if (data.subarray(data.length - keep).equals(PING_START.subarray(0, keep))) return keep;
  }
  return 0;
}

/** A stream that passes audio bytes through without sse-starlette's ping comments. */
export function withoutPings(): Transform {
  /** Bytes held back because they may begin a ping that the next chunk completes. */
  let held: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const data = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      held = Buffer.alloc(0);
      let at = 0;
      for (;;) {
        const start = data.indexOf(PING_START, at);
        if (start === -1) {
          const keep = partialStart(data, at);
          if (data.length - keep > at) this.push(data.subarray(at, data.length - keep));
          held = data.subarray(data.length - keep);
          break;
        }
        const match = matchPing(data, start);
        if (match.kind === "none") {
          // Audio that happens to hold `: ping`: passed on, and the search goes on after its first byte.
          this.push(data.subarray(at, start + 1));
          at = start + 1;
          continue;
        }
        if (start > at) this.push(data.subarray(at, start));
        if (match.kind === "partial") {
          held = data.subarray(start);
          break;
        }
        at = match.end;
      }
      callback();
    },
    flush(callback) {
      callback(null, held.length === 0 ? undefined : held);
    },
  });
}
