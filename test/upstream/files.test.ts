import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { BadRequestError } from "../../src/errors.js";
import { fileSource } from "../../src/upstream/files.js";
import type { FileSource } from "../../src/upstream/files.js";

let dir: string;
let path: string;
const bytes = Buffer.from("0123456789abcdef");

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xgate-files-"));
  path = join(dir, "holiday.png");
  await writeFile(path, bytes);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(source: FileSource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.open()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("fileSource", () => {
  it("takes Buffers and Uint8Arrays, re-readable, with no name or type of their own", async () => {
    for (const input of [bytes, new Uint8Array(bytes)]) {
      const source = fileSource(input, "image");
      assert.equal(source.filename, undefined);
      assert.equal(source.contentType, undefined);
      assert.deepEqual(await read(source), bytes);
      assert.deepEqual(await read(source), bytes);
      assert.equal(source.replayable, true);
    }
  });

  it("takes Blobs and Files, keeping a File's name and a meaningful type", async () => {
    const file = fileSource(new File([bytes], "cat.webp", { type: "image/webp" }), "image");
    assert.equal(file.filename, "cat.webp");
    assert.equal(file.contentType, "image/webp");
    assert.deepEqual(await read(file), bytes);
    assert.deepEqual(await read(file), bytes);
    const blob = fileSource(new Blob([bytes], { type: "application/octet-stream" }), "image");
    assert.equal(blob.filename, undefined);
    assert.equal(blob.contentType, undefined, "a generic type is left to sniffing");
  });

  it("keeps an fs.ReadStream's file name and reopens the file for each further read", async () => {
    const stream = createReadStream(path);
    const source = fileSource(stream, "image");
    assert.equal(source.filename, "holiday.png");
    assert.deepEqual(await read(source), bytes);
    assert.equal(source.replayable, true);
    assert.deepEqual(await read(source), bytes);
    assert.deepEqual(await read(source), bytes);
  });

  it("reopens an fs.ReadStream with the same byte range", async () => {
    const source = fileSource(createReadStream(path, { start: 2, end: 5 }), "image");
    assert.deepEqual(await read(source), Buffer.from("2345"));
    assert.deepEqual(await read(source), Buffer.from("2345"));
  });

  it("reads a generic stream once only, and says so", async () => {
    const source = fileSource(Readable.from([bytes]), "image");
    assert.equal(source.replayable, true, "not read yet");
    assert.deepEqual(await read(source), bytes);
    assert.equal(source.replayable, false);
  });

  it("takes { data, filename, contentType }, the given name and type winning", async () => {
    const source = fileSource({ data: createReadStream(path), filename: "renamed.jpg", contentType: "image/jpeg" }, "image");
    assert.equal(source.filename, "renamed.jpg");
    assert.equal(source.contentType, "image/jpeg");
    assert.deepEqual(await read(source), bytes);
    assert.deepEqual(await read(source), bytes, "still reopened from its path");
    const named = fileSource({ data: createReadStream(path) }, "image");
    assert.equal(named.filename, "holiday.png");
    named.dispose();
  });

  it("closes a stream it was handed but did not read when disposed", () => {
    const stream = createReadStream(path);
    fileSource(stream, "mask").dispose();
    assert.equal(stream.destroyed, true);
  });

  it("rejects anything else with a 400 that lists the accepted forms", () => {
    for (const bad of ["cat.png", 42, null, { filename: "x.png" }, { data: "not bytes" }]) {
      assert.throws(() => fileSource(bad, "image[1]"), (err: unknown) => {
        assert.ok(err instanceof BadRequestError);
        assert.equal(err.param, "image[1]");
        assert.match(err.message, /^image\[1\]/);
        return true;
      });
    }
  });
});
