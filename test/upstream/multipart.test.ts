import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileSource } from "../../src/upstream/files.js";
import { encodeMultipart } from "../../src/upstream/multipart.js";
import { jpegBytes, parseMultipart, pngBytes, webpBytes } from "./helpers.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xgate-multipart-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("encodeMultipart", () => {
  it("writes fields and files that a multipart parser reads back", async () => {
    const png = await pngBytes();
    const body = encodeMultipart([
      { name: "model", value: "sd3.5-large" },
      { name: "prompt", value: 'a "quoted"\r\nprompt ✓' },
      { name: "images", file: fileSource({ data: png, filename: 'my "cat".png', contentType: "image/png" }, "image") },
    ]);
    const parts = await parseMultipart(body.contentType, body.chunks);
    assert.deepEqual(
      parts.map((p) => p.name),
      ["model", "prompt", "images"],
    );
    assert.equal(parts[0]?.value, "sd3.5-large");
    assert.equal(parts[1]?.value, 'a "quoted"\r\nprompt ✓');
    assert.equal(parts[2]?.filename, "my %22cat%22.png");
    assert.equal(parts[2]?.contentType, "image/png");
    assert.deepEqual(parts[2]?.data, png);
  });

  it("sniffs PNG, JPEG and WebP when no type is given, else sends application/octet-stream", async () => {
    const files = [await pngBytes(), await jpegBytes(), await webpBytes(), Buffer.from("just some bytes")];
    const body = encodeMultipart(files.map((data) => ({ name: "images", file: fileSource(data, "image"), defaultName: "image" })));
    const parts = await parseMultipart(body.contentType, body.chunks);
    assert.deepEqual(
      parts.map((p) => [p.filename, p.contentType]),
      [
        ["image.png", "image/png"],
        ["image.jpg", "image/jpeg"],
        ["image.webp", "image/webp"],
        ["image", "application/octet-stream"],
      ],
    );
  });

  it("sniffs a stream that arrives one byte at a time, and keeps every byte", async () => {
    const png = await pngBytes();
    const oneByteChunks = Readable.from((function* () {
      for (const byte of png) yield Buffer.from([byte]);
    })());
    const body = encodeMultipart([{ name: "mask", file: fileSource(oneByteChunks, "mask") }]);
    const parts = await parseMultipart(body.contentType, body.chunks);
    assert.equal(parts[0]?.filename, "mask.png");
    assert.equal(parts[0]?.contentType, "image/png");
    assert.deepEqual(parts[0]?.data, png);
  });

  it("re-reads the files each time the body is iterated, as a retry needs", async () => {
    const jpeg = await jpegBytes();
    const path = join(dir, "photo.jpg");
    await writeFile(path, jpeg);
    const body = encodeMultipart([
      { name: "images", file: fileSource(createReadStream(path), "image") },
      { name: "images", file: fileSource(new Blob([jpeg]), "image") },
    ]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const parts = await parseMultipart(body.contentType, body.chunks);
      assert.equal(parts[0]?.filename, "photo.jpg");
      assert.deepEqual(parts[0]?.data, jpeg);
      assert.deepEqual(parts[1]?.data, jpeg);
    }
  });

  it("pulls a large stream chunk by chunk instead of reading it whole", async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 50 * 1024 * 1024;
    let produced = 0;
    const source = new Readable({
      highWaterMark: chunk.length,
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const body = encodeMultipart([{ name: "images", file: fileSource({ data: source, filename: "big.bin" }, "image") }]);
    const iterator = body.chunks[Symbol.asyncIterator]();
    let sent = 0;
    let maxAhead = 0;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      sent += next.value.length;
      maxAhead = Math.max(maxAhead, produced - sent);
    }
    assert.ok(sent > total, "the whole file went out");
    // The encoder never ran more than a few chunks ahead of what was taken from it.
    assert.ok(maxAhead < 1024 * 1024, `read ${maxAhead} bytes ahead`);
  });
});
