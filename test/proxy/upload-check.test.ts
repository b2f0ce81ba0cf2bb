/**
 * An edit's uploads are checked while they are spooled: a file that is no PNG, JPEG or WebP image is the
 * client's 400 before anything goes upstream, so one bad upload cannot count against the image deployment.
 */
import assert from "node:assert/strict";
import { Agent, type ClientRequest, request } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, test } from "node:test";
import { spoolingProxy } from "../support/spooling-proxy.js";
import { AUDIO_RULE, InvalidAudioError } from "../../src/proxy/files/audio-check.js";
import { ACCEPTED_IMAGES, IMAGE_RULE, InvalidImageError } from "../../src/proxy/files/image-check.js";
import { describeHead as describeAnyHead, typeCheck, type TypeRule } from "../../src/proxy/files/upload-check.js";
import { fetchHealth } from "../support/proxy-process.js";

const MASTER_KEY = "sk-upload-check";
/** A whole 8×8 PNG, which Xinference's image library can open. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAIAQMAAAD+wSzIAAAABlBMVEX///+/v7+jQ3Y5AAAADklEQVQI12P4AIX8EAgALgAD/aNpbtIAAAAASUVORK5CYII=",
  "base64",
);
const JPEG_HEAD = Buffer.from("ffd8ffe000104a46494600010100000100010000", "hex");
const WEBP_HEAD = Buffer.from("RIFF\x24\x00\x00\x00WEBPVP8 ", "latin1");
const NOT_AN_IMAGE = Buffer.from("0001020304050607a1b2c3d4e5f60718", "hex");

const describeHead = (head: Buffer): string => describeAnyHead(head, ACCEPTED_IMAGES);

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Runs bytes (in the given chunks) through a check; the type it reported, or the error it failed with. */
async function checkWith(rule: TypeRule, field: string, chunks: Buffer[]): Promise<{ type?: string; error?: unknown; passed: number }> {
  let type: string | undefined;
  let passed = 0;
  try {
    await pipeline(Readable.from(chunks), typeCheck({ field, filename: "x.bin" }, rule, (t) => (type = t)), async (source) => {
      for await (const chunk of source as AsyncIterable<Buffer>) passed += chunk.length;
    });
    return { type, passed };
  } catch (error) {
    return { error, passed };
  }
}

const check = (...chunks: Buffer[]): ReturnType<typeof checkWith> => checkWith(IMAGE_RULE, "image", chunks);

describe("the image check", () => {
  test("passes PNG, JPEG and WebP through whole and reports the type", async () => {
    assert.deepEqual(await check(PNG), { type: "image/png", passed: PNG.length });
    assert.deepEqual(await check(JPEG_HEAD), { type: "image/jpeg", passed: JPEG_HEAD.length });
    assert.deepEqual(await check(WEBP_HEAD, Buffer.alloc(100)), { type: "image/webp", passed: WEBP_HEAD.length + 100 });
  });

  test("reads a signature split over chunks", async () => {
    const chunks = [...PNG].map((byte) => Buffer.from([byte]));
    assert.equal((await check(...chunks)).type, "image/png");
  });

  test("refuses what is no image, naming the field, the file and the accepted types", async () => {
    const { error } = await check(Buffer.from("hello, this is a text file\n"));
    assert.ok(error instanceof InvalidImageError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_image");
    assert.equal(error.param, "image");
    assert.equal(
      error.message,
      "The file 'x.bin' (field 'image') is not a PNG, JPEG or WebP image: its first bytes look like text " +
        '("hello, this is a text fi…"). Send a PNG, JPEG or WebP file as \'image\'.',
    );
  });

  test("refuses an empty file and one too short to be an image", async () => {
    const empty = await check();
    assert.ok(empty.error instanceof InvalidImageError);
    assert.match(empty.error.message, /\(field 'image'\) is empty\./);
    const short = await check(Buffer.from([0x89, 0x50]));
    assert.ok(short.error instanceof InvalidImageError);
  });
});

describe("the audio check", () => {
  const heads: [string, Buffer][] = [
    ["audio/wav", Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt ", "latin1")],
    ["audio/mpeg", Buffer.from("ID3\x04\x00\x00\x00\x00\x00\x00", "latin1")],
    ["audio/mpeg", Buffer.from("fff3 84c0 0000 0000 0000 0000".replace(/ /g, ""), "hex")],
    ["audio/aac", Buffer.from("fff1 5080 2dff fc00 0000 0000".replace(/ /g, ""), "hex")],
    ["audio/flac", Buffer.from("fLaC\x00\x00\x00\x22\x12\x00\x12\x00", "latin1")],
    ["audio/ogg", Buffer.from("OggS\x00\x02\x00\x00\x00\x00\x00\x00", "latin1")],
    ["audio/webm", Buffer.from("1a45dfa3a34286810142f7810142f2", "hex")],
    ["audio/mp4", Buffer.from("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "latin1")],
    ["audio/aiff", Buffer.from("FORM\x00\x00\x10\x00AIFFCOMM", "latin1")],
  ];

  test("passes the containers ffmpeg reads, and reports their type", async () => {
    for (const [type, head] of heads) {
      const result = await checkWith(AUDIO_RULE, "file", [head, Buffer.alloc(64)]);
      assert.deepEqual(result, { type, passed: head.length + 64 }, type);
    }
  });

  test("refuses what is no audio, saying what it looks like", async () => {
    const refused = async (bytes: Buffer): Promise<string> => {
      const { error } = await checkWith(AUDIO_RULE, "file", [bytes]);
      assert.ok(error instanceof InvalidAudioError, String(error));
      assert.equal(error.code, "invalid_audio");
      assert.equal(error.param, "file");
      return error.message;
    };
    assert.match(await refused(PNG), /^The file 'x\.bin' \(field 'file'\) is not WAV, MP3, AAC, FLAC, Ogg, WebM, M4A or AIFF audio: its first bytes look like image\/png; convert it to WAV/);
    assert.match(await refused(Buffer.from("\x00\x00\x00\x1cftypheic\x00\x00\x00\x00", "latin1")), /HEIC or AVIF image/);
    assert.match(await refused(Buffer.from("UklGRiQAAABXQVZFZm10IBAAAAABAAEA")), /base64 text of a WebP image or WAV audio/);
    assert.match(await refused(Buffer.from("hello, this is a transcript\n")), /look like text/);
    assert.match(await refused(Buffer.alloc(0)), /\(field 'file'\) is empty\. Send a WAV/);
  });
});

describe("describeHead", () => {
  test("names the usual mistakes", () => {
    assert.match(describeHead(Buffer.from("GIF89a\x01\x00", "latin1")), /^look like a GIF image; convert it to PNG, JPEG or WebP$/);
    assert.match(describeHead(Buffer.from("%PDF-1.7\n", "latin1")), /a PDF document/);
    assert.match(describeHead(Buffer.from("\x00\x00\x00\x1cftypheic", "latin1")), /HEIC or AVIF/);
    assert.match(describeHead(Buffer.from(PNG.toString("base64").slice(0, 32))), /^are base64 text of an image \("iVBORw0KGgoAAAAN"…\); send the decoded bytes/);
    assert.match(describeHead(Buffer.from("data:image/png;base64,iVBORw0KGgo")), /^are a data: URL/);
    assert.equal(describeHead(NOT_AN_IMAGE), "are 00 01 02 03 04 05 06 07, which is none of them");
  });

  test("shows UTF-8 text, even when the head ends inside a character", () => {
    assert.equal(describeHead(Buffer.from("prompt: ünïcödé")), 'look like text ("prompt: ünïcödé")');
    assert.equal(describeHead(Buffer.from("abcü").subarray(0, 4)), 'look like text ("abc")');
    assert.equal(describeHead(Buffer.from("ü").subarray(0, 1)), "are c3, which is none of them");
  });
});

describe("proxy: uploads that are no image", () => {
  // One failure cools a deployment down: an upload counted against it would show at once.
  const { emulator, proxy } = spoolingProxy(MASTER_KEY, "router_settings:\\n  allowed_fails: 1\\n");

  function editForm(files: { field: string; data: Buffer; type: string; filename: string }[]): FormData {
    const form = new FormData();
    form.set("model", "sd");
    form.set("prompt", "a lighthouse");
    for (const file of files) form.append(file.field, new Blob([file.data], { type: file.type }), file.filename);
    return form;
  }

  async function edit(form: FormData): Promise<{ status: number; body: ErrorShape }> {
    const res = await fetch(`${proxy().url}/v1/images/edits`, { method: "POST", headers: { authorization: `Bearer ${MASTER_KEY}` }, body: form });
    return { status: res.status, body: (await res.json()) as ErrorShape };
  }

  function assertRefused(answer: { status: number; body: ErrorShape }, param: string, message: RegExp): void {
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, "invalid_image");
    assert.equal(answer.body.error.type, "invalid_request_error");
    assert.equal(answer.body.error.param, param);
    assert.match(answer.body.error.message, /PNG, JPEG or WebP/);
    assert.match(answer.body.error.message, message);
    assert.ok(!emulator().requests.some((r) => r.path === "/v1/images/edits"), "the upload reached Xinference");
  }

  test("a text file sent as the image", async () => {
    const answer = await edit(editForm([{ field: "image", data: Buffer.from("not a picture\n"), type: "text/plain", filename: "notes.txt" }]));
    assertRefused(answer, "image", /The file 'notes\.txt' \(field 'image'\) is not a PNG, JPEG or WebP image: its first bytes look like text \("not a picture\\n"\)/);
  });

  test("random bytes labelled image/png", async () => {
    const answer = await edit(editForm([{ field: "image", data: NOT_AN_IMAGE, type: "image/png", filename: "a.png" }]));
    assertRefused(answer, "image", /its first bytes are 00 01 02 03 04 05 06 07/);
  });

  test("a second image, or the mask, that is no image", async () => {
    const good = { field: "image[]", data: PNG, type: "image/png", filename: "a.png" };
    const second = await edit(editForm([good, { ...good, data: Buffer.from("GIF89a...."), filename: "b.gif" }]));
    assertRefused(second, "image[]", /'b\.gif' \(field 'image\[\]'\) .* look like a GIF image/);
    const mask = await edit(editForm([good, { field: "mask", data: Buffer.from("{}"), type: "image/png", filename: "mask.png" }]));
    assertRefused(mask, "mask", /'mask\.png' \(field 'mask'\)/);
  });

  test("an image is sent upstream as the type its bytes show", async () => {
    const answer = await edit(editForm([{ field: "image", data: PNG, type: "application/octet-stream", filename: "upload" }]));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const sent = emulator().requests.find((r) => r.path === "/v1/images/edits")?.body as { files: { contentType: string }[] };
    assert.equal(sent.files[0]?.contentType, "image/png");
  });

  test("a refused upload is answered at once, and its connection serves the next request", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const boundary = "xgate-upload-check";
      const textFile = Buffer.alloc(1.5 * 1024 * 1024, "not an image. ");
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nsd\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.txt"\r\nContent-Type: image/png\r\n\r\n`),
        textFile,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const post = (): { req: ClientRequest; answer: Promise<number> } => {
        const req = request(`${proxy().url}/v1/images/edits`, {
          method: "POST",
          agent,
          headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
        });
        const answer = new Promise<number>((resolve, reject) => {
          req.on("response", (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
        });
        req.end(body);
        return { req, answer };
      };
      assert.equal(await post().answer, 400);
      const second = post();
      assert.equal(await second.answer, 400);
      assert.equal(second.req.reusedSocket, true);
    } finally {
      agent.destroy();
    }
  });

  test("an image Xinference cannot open after all is the client's 400, tried once, not the deployment's failure", async () => {
    const damaged = Buffer.concat([PNG.subarray(0, 16), Buffer.alloc(64, 0xee)]);
    const answer = await edit(editForm([{ field: "image", data: damaged, type: "image/png", filename: "damaged.png" }]));
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, "invalid_image");
    assert.match(answer.body.error.message, /Xinference could not open an uploaded image/);
    assert.equal(emulator().requests.filter((r) => r.path === "/v1/images/edits").length, 1);
    const health = await fetchHealth(proxy(), MASTER_KEY);
    assert.equal(health.unhealthy_count, 0, JSON.stringify(health.unhealthy_endpoints));
  });

  test("after those the deployment is healthy and edits work", async () => {
    const answer = await edit(editForm([{ field: "image", data: PNG, type: "image/png", filename: "a.png" }]));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const health = await fetchHealth(proxy(), MASTER_KEY);
    assert.equal(health.unhealthy_count, 0, JSON.stringify(health.unhealthy_endpoints));
  });
});
