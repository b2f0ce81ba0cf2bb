import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scanEmbeddingBody } from "../../src/providers/embedding-body.js";
import { numberVectors } from "../../src/providers/vectors.js";

/** What the ordinary path gives for vector i: JSON.parse, then writeFloatLE of each double. */
function float32Bytes(vector: readonly number[]): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes;
}

function placeholders(skeleton: unknown): number[] {
  return (skeleton as { data: { embedding: number[] }[] }).data.map((item) => item.embedding[0] as number);
}

/**
 * Scans a body both ways (float32 converted while checking, or later from the text) and checks every vector
 * against JSON.parse of the same body, in all three forms.
 */
function assertSameAsParse(text: string): void {
  const parsed = JSON.parse(text) as { data: { embedding: number[] }[] };
  const expected = numberVectors(parsed.data.map((item) => item.embedding));
  for (const float32 of [false, true]) {
    const scanned = scanEmbeddingBody(Buffer.from(text), { float32 });
    assert.ok(scanned, `scanned (float32: ${float32}): ${text.slice(0, 80)}`);
    const list = scanned.vectors(placeholders(scanned.skeleton));
    assert.equal(list.length, expected.length);
    for (let i = 0; i < list.length; i++) {
      assert.equal(list.size(i), expected.size(i));
      assert.deepEqual(list.numbers(i), expected.numbers(i));
      assert.deepEqual(JSON.parse(`[${list.jsonElements(i).toString()}]`), expected.numbers(i));
      assert.deepEqual(list.float32(i), float32Bytes(expected.numbers(i)), `vector ${i} (float32: ${float32})`);
    }
  }
}

describe("embedding bodies scanned without parsing their floats", () => {
  it("reads every spelling of a JSON number as JSON.parse does", () => {
    assertSameAsParse(
      '{"object":"list","model":"m","data":[{"index":0,"object":"embedding","embedding":' +
        "[0.023704860359430313,-0.04087808355689049,1.0,-0.0,0,1e-05,1.5E+3,-2.5e-7,123456789012345678,3.4028235677973366e38,1e-40," +
        "0.000012345678901234567,-0.00000099999997,12345678901234567890,0.12345678901234567890123456789,7e22,1E-45,-0e3]}]," +
        '"usage":{"prompt_tokens":3,"total_tokens":3}}',
    );
  });

  it("turns random doubles into the same float32 as writeFloatLE, near rounding boundaries too", () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 12 - 8));
    // Doubles just beside the midpoint between two float32s, where a sloppy conversion would round the wrong way.
    for (let i = 0; i < 2_000; i++) {
      const f = Math.fround(random());
      const ulp = Math.fround(f * (1 + 2 ** -23)) - f;
      for (const offset of [-1e-12, 0, 1e-12]) values.push(f + ulp / 2 + offset * f);
    }
    assertSameAsParse(`{"data":[{"embedding":[${values.map(String).join(",")}]}]}`);
  });

  it("converts bodies of short numbers, which need more float32 room than long ones", () => {
    const ints = Array.from({ length: 5_000 }, (_, i) => i % 10);
    assertSameAsParse(`{"data":[{"embedding":[${ints.join(",")}]},{"embedding":[${ints.reverse().join(",")}]}]}`);
  });

  it("keeps whitespace, reordered indexes and other fields", () => {
    assertSameAsParse('{ "data" : [ { "embedding" : [ 1 , 2 ] , "index" : 1 } ,\n{"index":0,"embedding":[]} ] , "x": {"embedding":[9]} }');
    const scanned = scanEmbeddingBody(Buffer.from('{"data":[{"index":1,"embedding":[1]},{"index":0,"embedding":[2,3]}],"usage":{"a":"[]"}}'));
    assert.ok(scanned);
    assert.deepEqual(scanned.skeleton, {
      data: [
        { index: 1, embedding: [0] },
        { index: 0, embedding: [1] },
      ],
      usage: { a: "[]" },
    });
  });

  it("leaves anything unusual to the ordinary parse", () => {
    for (const text of [
      '{"data":[{"embedding":"AAAA"}]}',
      '{"data":[{"embedding":[1,"2"]}]}',
      '{"data":[{"embedding":[NaN]}]}',
      '{"data":[{"embedding":[1e400]}]}',
      '{"data":[{"embedding":[01]}]}',
      '{"data":[{"embedding":[1.]}]}',
      '{"data":[{"embedding":[-]}]}',
      '{"data":[{"embedding":[-01]}]}',
      '{"data":[{"embedding":[.5]}]}',
      '{"data":[{"embedding":[1e]}]}',
      '{"data":[{"embedding":[1e+]}]}',
      '{"data":[{"embedding":[1 2]}]}',
      '{"data":[{"embedding":[123456789012345678901]}]}',
      '{"data":[{"embedding":[1,]}]}',
      '{"data":[{"embedd\\u0069ng":[1]}]}',
      '{"data":[{"embedding":[1]}]} x',
      '{"data":[{"embedding":[1]}],}',
      '{"data":[{"embedding":[1]}]',
      "[]",
      "",
    ]) {
      assert.equal(scanEmbeddingBody(Buffer.from(text)), undefined, text);
      assert.equal(scanEmbeddingBody(Buffer.from(text), { float32: true }), undefined, `${text} (float32)`);
    }
  });

  it("vectors parsed the ordinary way keep -0's sign in their text, as in their float32", () => {
    const vectors = numberVectors([[-0, 0, -1.5]]);
    assert.equal(vectors.jsonElements(0).toString(), "-0,0,-1.5");
    assert.deepEqual(vectors.float32(0), float32Bytes([-0, 0, -1.5]));
    assert.equal(numberVectors([[0.25, -2]]).jsonElements(0).toString(), "0.25,-2");
  });
});
