import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadGatewayError } from "../../src/errors.js";
import { scanBase64Items } from "../../src/providers/base64-items.js";
import { decodeImageList } from "../../src/providers/image-body.js";
import type { ImageResult } from "../../src/providers/index.js";

const JPEG_B64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).toString("base64");
const PNG_B64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]).toString("base64");

const decodeImageBody = (raw: Buffer): ImageResult => decodeImageList(raw, { provider: "xinference", label: "Xinference" });

function body(value: unknown, spacing?: number): Buffer {
  return Buffer.from(JSON.stringify(value, null, spacing));
}

describe("image answers read without parsing their base64", () => {
  it("finds each b64_json and keeps it as the body's bytes, whatever the spacing", () => {
    for (const spacing of [undefined, 2]) {
      const raw = body({ created: 7, data: [{ url: null, b64_json: JPEG_B64 }, { b64_json: PNG_B64, url: null }] }, spacing);
      const scanned = scanBase64Items(raw, "b64_json");
      assert.ok(scanned, "the usual body is scanned");
      assert.deepEqual(
        scanned.strings.map((b) => b.toString("latin1")),
        [JPEG_B64, PNG_B64],
      );
      assert.equal(scanned.strings[0]?.buffer, raw.buffer, "a view of the body, not a copy");
      const decoded = decodeImageBody(raw);
      assert.equal(decoded.created, 7);
      assert.deepEqual(decoded.images.map((b) => b.toString("latin1")), [JPEG_B64, PNG_B64]);
    }
  });

  it("falls back to parsing for what it does not read itself, with the same results", () => {
    const escaped = Buffer.from(`{"created":1,"data":[{"b64_json":"${JPEG_B64.slice(0, 4)}\\/${JPEG_B64.slice(5)}"}]}`);
    const nullFirst = body({ created: 1, data: [{ b64_json: null }, { b64_json: JPEG_B64 }] });
    for (const raw of [escaped, nullFirst]) assert.equal(scanBase64Items(raw, "b64_json"), undefined);
    assert.deepEqual(decodeImageBody(escaped).images.map((b) => b.toString("latin1")), [JSON.parse(escaped.toString()).data[0].b64_json]);
    // The key quoted inside another string is escaped there, so it is never taken for an item's.
    const inString = body({ created: 1, note: 'a "b64_json":"abcd" inside a string', data: [{ b64_json: JPEG_B64 }] });
    assert.deepEqual(scanBase64Items(inString, "b64_json")?.strings.map((b) => b.toString("latin1")), [JPEG_B64]);
  });

  it("refuses an answer whose image is missing or not base64, as a bad gateway", () => {
    for (const data of [[{ url: "/home/x/.xinference/image/a.jpg", b64_json: null }], [{ b64_json: "not base64!" }], [{}]]) {
      assert.throws(() => decodeImageBody(body({ created: 1, data })), (err: unknown) => err instanceof BadGatewayError && err.origin === "upstream");
    }
    assert.throws(() => decodeImageBody(Buffer.from('{"created":1}')), BadGatewayError);
  });
});
