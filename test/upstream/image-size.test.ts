// An image's size from its header, which prices an edit at `original` (the input's size) by the pixels made.
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { imageSize } from "../../src/upstream/sniff.js";

async function image(format: "png" | "jpeg" | "webp", options: { lossless?: boolean; exif?: boolean } = {}): Promise<Buffer> {
  let made = sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 10, g: 20, b: 30 } } });
  if (options.exif === true) made = made.withMetadata({ exif: { IFD0: { ImageDescription: "x".repeat(20_000) } } });
  if (format === "png") return made.png().toBuffer();
  if (format === "jpeg") return made.jpeg().toBuffer();
  return made.webp(options.lossless === true ? { lossless: true } : {}).toBuffer();
}

test("reads the width and height of PNG, JPEG (past a large EXIF block) and WebP (lossy and lossless)", async () => {
  for (const bytes of [await image("png"), await image("jpeg"), await image("jpeg", { exif: true }), await image("webp"), await image("webp", { lossless: true })]) {
    assert.deepEqual(imageSize(bytes), { width: 320, height: 200 });
  }
});

test("answers undefined for what it cannot read: another format, a cut header", async () => {
  assert.equal(imageSize(Buffer.from("GIF89a....")), undefined);
  assert.equal(imageSize((await image("png")).subarray(0, 20)), undefined);
  assert.equal(imageSize((await image("jpeg")).subarray(0, 30)), undefined);
});
