// The SSE reader on every framing a server may use, fed in pieces that split lines and line endings anywhere.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type SseEvent, SseParser, sseComment, sseData, SSE_DONE } from "../../src/openai/sse.js";

/** Every event of `text`, fed one piece of `size` bytes at a time. */
function parse(text: string, size = text.length): SseEvent[] {
  const parser = new SseParser();
  const bytes = Buffer.from(text, "utf8");
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) events.push(...parser.feed(bytes.subarray(i, i + size)));
  events.push(...parser.end());
  return events;
}

const data = (events: SseEvent[]): string[] => events.map((e) => e.data);

describe("SseParser", () => {
  test("CRLF framing with sse-starlette's ping comments, split at every byte", () => {
    const text = ': ping - 2026-01-01 00:00:00+00:00\r\n\r\ndata: {"a": 1}\r\n\r\n: ping\r\n\r\ndata: [DONE]\r\n\r\n';
    for (const size of [1, 2, 3, 7, text.length]) assert.deepEqual(data(parse(text, size)), ['{"a": 1}', "[DONE]"], `pieces of ${size}`);
  });

  test("LF and lone CR line endings, multi-line data joined with LF, one leading space dropped", () => {
    assert.deepEqual(data(parse("data: one\ndata:two\ndata:  three\n\n")), ["one\ntwo\n three"]);
    assert.deepEqual(data(parse("data: a\r\rdata: b\r\r")), ["a", "b"]);
  });

  test("an event: field, a BOM at the start, UTF-8 split across pieces, a last event without its blank line", () => {
    const events = parse("\ufeffevent: error\ndata: é中\n\ndata: tail", 1);
    assert.deepEqual(events, [
      { event: "error", data: "é中" },
      { event: undefined, data: "tail" },
    ]);
  });

  test("comments and events without data dispatch nothing", () => {
    assert.deepEqual(parse(": hello\n\nevent: x\n\nid: 3\n\n"), []);
  });
});

describe("SSE writing", () => {
  test("LF framing, multi-line data as several data lines, comments on one line", () => {
    assert.equal(sseData('{"a":1}'), 'data: {"a":1}\n\n');
    assert.equal(sseData("x\ny"), "data: x\ndata: y\n\n");
    assert.equal(sseComment("keep-alive\r\nnow"), ": keep-alive now\n\n");
    assert.deepEqual(data(parse(sseData("x\ny") + SSE_DONE)), ["x\ny", "[DONE]"]);
  });
});
