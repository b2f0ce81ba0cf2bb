import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { isBase64 } from "../../src/providers/base64-items.js";

/** What isBase64 must decide, said the slow and obvious way. */
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const reference = (bytes: Buffer): boolean => bytes.length > 0 && STANDARD_BASE64.test(bytes.toString("latin1"));

describe("isBase64", () => {
  it("accepts base64 of every length and padding, at any offset in a larger buffer", () => {
    for (let size = 1; size <= 80; size++) {
      const text = Buffer.from(randomBytes(size).toString("base64"));
      // The body's strings are views at arbitrary offsets: the word reads must not assume alignment.
      for (const offset of [0, 1, 3]) {
        const view = Buffer.concat([Buffer.alloc(offset, 0x22), text]).subarray(offset);
        assert.equal(isBase64(view), true, `${size} bytes encoded, offset ${offset}`);
      }
    }
  });

  it("refuses one foreign byte wherever it is, as the reference does", () => {
    const valid = Buffer.from(randomBytes(61).toString("base64")); // 84 characters, ending in "="
    for (let at = 0; at < valid.length; at++) {
      for (const foreign of [0x00, 0x20, 0x22, 0x2d, 0x3d, 0x5f, 0x7f, 0x80, 0xff]) {
        const changed = Buffer.from(valid);
        changed[at] = foreign;
        assert.equal(isBase64(changed), reference(changed), `byte ${foreign} at ${at}`);
      }
    }
  });

  it("agrees with the reference on padding in the wrong place and on lengths that are not groups of four", () => {
    for (const text of ["", "QQ", "QUI", "QQ==", "QUI=", "QUJD", "Q===", "====", "QQ=A", "QUJDQQ==", "QUJD=QQ=", "QUJDQ", "QUJDQQ="]) {
      const bytes = Buffer.from(text);
      assert.equal(isBase64(bytes), reference(bytes), JSON.stringify(text));
    }
  });
});
