import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadGatewayError } from "../../src/errors.js";
import { decodeEmbeddingBody, embeddingResult } from "../../src/providers/embedding-answer.js";

const FROM = { provider: "openai", label: "OpenAI-compatible server" };

function base64Of(values: number[]): string {
  return Buffer.from(Float32Array.from(values).buffer).toString("base64");
}

function answer(embeddings: unknown[], spacing?: number): Buffer {
  const data = embeddings.map((embedding, index) => ({ object: "embedding", index, embedding }));
  return Buffer.from(JSON.stringify({ object: "list", data, model: "m", usage: { prompt_tokens: 3, total_tokens: 3 } }, null, spacing));
}

describe("embedding answers in base64", () => {
  it("are scanned, not parsed, past `\"object\": \"embedding\"`, and their text is kept as it came", () => {
    const vectors = [[0.5, -1.25, 3], [1e-7, 2]];
    for (const spacing of [undefined, 2]) {
      const body = answer(vectors.map(base64Of), spacing);
      const decoded = decodeEmbeddingBody(body, true);
      assert.ok(decoded.base64, "scanned");
      const { vectors: list, usage } = embeddingResult(decoded, FROM);
      assert.deepEqual(usage, { prompt_tokens: 3, total_tokens: 3 });
      assert.deepEqual([list.size(0), list.size(1)], [3, 2]);
      assert.deepEqual(list.numbers(0), [0.5, -1.25, 3]);
      assert.deepEqual(list.numbers(1), vectors[1]?.map((x) => Math.fround(x)));
      assert.equal(list.base64?.(1).toString("latin1"), base64Of(vectors[1] ?? []));
      assert.equal(list.base64?.(0).buffer, body.buffer, "a view of the body, not a copy");
      assert.deepEqual(list.float32(0), Buffer.from(base64Of([0.5, -1.25, 3]), "base64"));
    }
  });

  it("read the same when parsed (an escape in the string), and put out of order items in place", () => {
    const escaped = Buffer.from(
      `{"data":[{"index":1,"embedding":"${base64Of([2])}"},{"index":0,"embedding":"${base64Of([1]).replace("A", "\\u0041")}"}]}`,
    );
    const decoded = decodeEmbeddingBody(escaped, true);
    assert.equal(decoded.base64, undefined);
    const { vectors } = embeddingResult(decoded, FROM);
    assert.deepEqual([vectors.numbers(0), vectors.numbers(1)], [[1], [2]]);
  });

  it("that are not whole float32s in standard base64 are a bad gateway", () => {
    for (const embedding of ["AAAA", "not base64!", "AAAAAAA="]) {
      assert.throws(
        () => embeddingResult(decodeEmbeddingBody(answer([embedding]), true), FROM),
        (err: unknown) => err instanceof BadGatewayError && /data\[0\] holds no list of floats or base64 float32s/.test(err.message),
      );
    }
    assert.throws(
      () => embeddingResult(decodeEmbeddingBody(answer([base64Of([1]), [1]]), false), FROM),
      (err: unknown) => err instanceof BadGatewayError && /mixes float lists and base64/.test(err.message),
    );
  });

  it("float answers are still scanned as float text when base64 is wanted (a server that ignored encoding_format)", () => {
    const decoded = decodeEmbeddingBody(answer([[0.25, 0.5]]), true);
    assert.ok(decoded.scanned);
    const { vectors } = embeddingResult(decoded, FROM);
    assert.equal(vectors.base64, undefined);
    assert.deepEqual(vectors.float32(0), Buffer.from(base64Of([0.25, 0.5]), "base64"));
  });
});
