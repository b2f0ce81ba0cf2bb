import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { llmResult, type LlmKind, type StreamedResult } from "../../src/operations/llm-answer.js";
import type { CompletionUsage } from "../../src/openai/usage.js";
import type { ChunkStream } from "../../src/providers/index.js";

interface Chunk {
  model: string;
  choices: { text: string }[];
}

/** Counts a token per character and remembers how much text it was given. */
function kind(counted: number[]): LlmKind<Chunk, Chunk> {
  return {
    outputOf: (answer) => answer.choices.map((choice) => choice.text).join(""),
    outputOfChunk: (chunk) => chunk.choices.map((choice) => choice.text).join(""),
    estimate: async (output): Promise<CompletionUsage> => {
      counted.push(output.length);
      return { prompt_tokens: 7, completion_tokens: output.length, total_tokens: 7 + output.length };
    },
    usageChunk: (last, usage) => ({ ...last, choices: [], usage }) as Chunk,
  };
}

/** A stream of `texts`, one chunk each, that never reports usage. */
function chunkStream(texts: string[]): ChunkStream<Chunk> {
  return {
    usage: undefined,
    cancel: () => undefined,
    async *[Symbol.asyncIterator]() {
      for (const text of texts) yield { model: "m", choices: [{ text }] };
    },
  };
}

async function readSome(result: StreamedResult<Chunk>, count: number): Promise<void> {
  const chunks = result.chunks("asked")[Symbol.asyncIterator]();
  for (let i = 0; i < count; i++) assert.equal((await chunks.next()).done, false);
}

describe("a stream left before its end", () => {
  it("estimates what the chunks read so far used, and only those", async () => {
    const counted: number[] = [];
    const result = llmResult({ stream: true, chunks: chunkStream(["abc", "defg", "never read"]) }, kind(counted), false, undefined) as StreamedResult<Chunk>;
    await readSome(result, 2);
    const soFar = await result.usedSoFar();
    assert.deepEqual(soFar, { usage: { prompt_tokens: 7, completion_tokens: 7, total_tokens: 14 }, estimated: true });
  });

  it("tokenizes at most 64 KiB of a long answer and scales the count, so that leaving costs bounded CPU", async () => {
    const counted: number[] = [];
    const long = "x".repeat(100 * 1024);
    const result = llmResult({ stream: true, chunks: chunkStream([long, long, long]) }, kind(counted), false, undefined) as StreamedResult<Chunk>;
    await readSome(result, 3);
    const soFar = await result.usedSoFar();
    assert.deepEqual(counted, [64 * 1024], "the tokenizer saw the first 64 KiB only");
    assert.equal(soFar.usage.completion_tokens, 3 * long.length, "scaled to the whole text");
    assert.equal(soFar.usage.total_tokens, 7 + 3 * long.length);
  });
});

describe("answers whose upstream reported no usage", () => {
  const long = "y".repeat(100 * 1024);

  it("a stream read to its end is counted within the same bound", async () => {
    const counted: number[] = [];
    const result = llmResult({ stream: true, chunks: chunkStream([long, long]) }, kind(counted), false, undefined) as StreamedResult<Chunk>;
    for await (const _chunk of result.chunks("asked"));
    const done = await result.done;
    assert.deepEqual(counted, [64 * 1024]);
    assert.equal(done.usage.completion_tokens, 2 * long.length);
    assert.equal(done.estimated, true);
  });

  it("a whole answer too", async () => {
    const counted: number[] = [];
    const result = await llmResult({ stream: false, answer: { model: "m", choices: [{ text: long }] } }, kind(counted), false, undefined);
    assert.deepEqual(counted, [64 * 1024]);
    assert.equal(result.stream, false);
    assert.equal(result.stream === false && result.usage.completion_tokens, long.length);
  });
});
