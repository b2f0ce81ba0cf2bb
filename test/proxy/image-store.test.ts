import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ImageStore } from "../../src/proxy/files/image-store.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const JPEG = Buffer.from("ffd8ffe000104a464946", "hex");

describe("ImageStore", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xgate-store-test-"));
  after(() => rm(dir, { recursive: true, force: true }));
  let now = 1_000_000;
  const store = new ImageStore({ dir, ttlSeconds: 60, now: () => now });

  test("stores bytes under an unguessable name with the right content type", async () => {
    const png = await store.put(PNG);
    const jpg = await store.put(JPEG);
    assert.match(png, /^[A-Za-z0-9_-]{32}-[0-9a-z]+\.png$/);
    assert.match(jpg, /\.jpg$/);
    const stored = await store.get(png);
    assert.equal(stored?.contentType, "image/png");
    assert.deepEqual(await readFile(stored!.path), PNG);
    assert.equal((await store.get(jpg))?.contentType, "image/jpeg");
  });

  test("refuses names that are not its own, including path tricks", async () => {
    assert.equal(await store.get("../../etc/passwd"), undefined);
    assert.equal(await store.get(`${"a".repeat(32)}-zz.png`), undefined);
  });

  test("expired images are gone, and a sweep deletes them", async () => {
    const name = await store.put(PNG);
    now += 61_000;
    assert.equal(await store.get(name), undefined);
    await store.put(PNG);
    now += 61_000;
    assert.ok((await store.sweep()) >= 1);
    assert.deepEqual(await readdir(dir), []);
  });
});
