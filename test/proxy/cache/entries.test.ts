// Cache entries: what an answer was written from, kept and read back; nothing else is ever taken for one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { entryOf, writtenFrom } from "../../../src/proxy/cache/entries.js";

const float32 = (values: number[]): Buffer => {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes;
};

describe("cache entries", () => {
  it("give back float text as it came, and float32 bytes from either kind", () => {
    const text = Buffer.from("0.10000000149011612,-2.5,1e-7,-0.0");
    const fromText = entryOf(text, "float");
    assert.deepEqual(writtenFrom(fromText, "float"), text);
    assert.deepEqual(writtenFrom(fromText, "base64"), float32([0.10000000149011612, -2.5, 1e-7, -0]));
    const bytes = float32([0.5, -0.25]);
    const fromBytes = entryOf(bytes, "base64");
    assert.deepEqual(writtenFrom(fromBytes, "base64"), bytes);
    assert.equal(writtenFrom(fromBytes, "float"), undefined, "float text is never made up from float32 bytes");
  });

  it("take nothing else for an entry", () => {
    const foreign = { float: ["", "garbage", "t0.5,1", "f1234", "x0.5]"], base64: ["", "garbage", "t0.5,1", "t0.5,,1]", "tabc]", "f123", "x0.5]"] };
    for (const format of ["float", "base64"] as const) {
      for (const value of foreign[format]) assert.equal(writtenFrom(Buffer.from(value), format), undefined, `${JSON.stringify(value)} as ${format}`);
    }
  });
});
