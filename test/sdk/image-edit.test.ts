import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import busboy from "busboy";
import sharp from "sharp";
import { BadRequestError, imageEdit, ServiceUnavailableError, UnsupportedParamsError } from "../../src/index.js";
import { jpegBytes, pngBytes, tinyServer } from "../upstream/helpers.js";
import { multipartBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator();
const SD = "xinference/stabilityai/stable-diffusion-3.5-large";
const call = (params: Record<string, unknown>): ReturnType<typeof imageEdit> =>
  imageEdit({ model: SD, prompt: "add a hat", api_base: emu().baseUrl, ...params } as Parameters<typeof imageEdit>[0]);
const lastEdit = (): ReturnType<typeof multipartBody> => multipartBody(requestsTo(emu(), "/v1/images/edits").at(-1));

let dir: string;
let png: Buffer;
let jpeg: Buffer;
let pngPath: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xgate-edit-"));
  png = await pngBytes(32, 24);
  jpeg = await jpegBytes(32, 24);
  pngPath = join(dir, "cat.png");
  await writeFile(pngPath, png);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emu().clearRequests();
  emu().setFault("images/edits", null);
});

describe("imageEdit", () => {
  it("sends Xinference's form: images, model prompt n size response_format, and answers b64_json", async () => {
    const res = await call({ image: png });
    const body = lastEdit();
    assert.deepEqual(body.fields, {
      model: "stabilityai/stable-diffusion-3.5-large",
      prompt: "add a hat",
      n: "1",
      size: "original",
      response_format: "b64_json",
    });
    assert.deepEqual(body.files, [{ field: "images", filename: "image.png", contentType: "image/png", size: png.length }]);
    assert.deepEqual(Object.keys(res.data[0] ?? {}), ["b64_json"]);
    const meta = await sharp(Buffer.from(res.data[0]?.b64_json ?? "", "base64")).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 24], "size original keeps the input's size");
  });

  it("takes every input form: Buffer, Uint8Array, Blob, File, fs.ReadStream, a stream, { data, filename, contentType }", async () => {
    const inputs: [unknown, string, string][] = [
      [png, "image.png", "image/png"],
      [new Uint8Array(jpeg), "image.jpg", "image/jpeg"],
      [new Blob([png]), "image.png", "image/png"],
      [new File([jpeg], "dog.jpeg", { type: "image/jpeg" }), "dog.jpeg", "image/jpeg"],
      [createReadStream(pngPath), "cat.png", "image/png"],
      [Readable.from([jpeg]), "image.jpg", "image/jpeg"],
      [{ data: createReadStream(pngPath), filename: "upload-1.png", contentType: "image/png" }, "upload-1.png", "image/png"],
      [{ data: jpeg, filename: "raw.bin" }, "raw.bin", "image/jpeg"],
    ];
    for (const [image, filename, contentType] of inputs) {
      await call({ image });
      const [file] = lastEdit().files;
      assert.deepEqual(file, { field: "images", filename, contentType, size: file?.size }, filename);
      assert.ok((file?.size ?? 0) > 0);
    }
  });

  it("sends several images as repeated 'images' fields, in order, and the mask under 'mask'", async () => {
    const res = await call({
      image: [png, new File([jpeg], "ref.jpg"), createReadStream(pngPath)],
      mask: { data: png, filename: "mask.png" },
      n: 2,
      size: "64x48",
      response_format: "url",
    });
    const body = lastEdit();
    assert.deepEqual(
      body.files.map((f) => [f.field, f.filename]),
      [
        ["images", "image.png"],
        ["images", "ref.jpg"],
        ["images", "cat.png"],
        ["mask", "mask.png"],
      ],
    );
    assert.equal(body.fields.n, "2");
    assert.equal(body.fields.size, "64*48");
    assert.equal(body.fields.response_format, "b64_json", "asks Xinference for base64");
    assert.equal(res.data.length, 2);
    for (const item of res.data) assert.match(item.url ?? "", /^data:image\/jpeg;base64,\/9j\//);
  });

  it("requires a prompt and an image, before any upstream call", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ image: png, prompt: undefined }, "prompt"],
      [{ image: png, prompt: "" }, "prompt"],
      [{ image: undefined }, "image"],
      [{ image: [] }, "image"],
      [{ image: "cat.png" }, "image"],
      [{ image: [png, 42] }, "image[1]"],
      [{ image: png, mask: [png] }, "mask"],
      [{ image: png, size: "huge" }, "size"],
      [{ image: png, n: 11 }, "n"],
      [{ image: png, response_format: "png" }, "response_format"],
    ];
    for (const [params, param] of cases) {
      await assert.rejects(call(params), (err: unknown) => err instanceof BadRequestError && err.param === param, param);
    }
    assert.equal(emu().requests.length, 0);
  });

  it("closes the streams it was handed, also when the request was refused", async () => {
    const used = createReadStream(pngPath);
    await call({ image: used });
    const refused = createReadStream(pngPath);
    await assert.rejects(call({ image: refused, prompt: "" }), BadRequestError);
    assert.equal(used.destroyed, true);
    assert.equal(refused.destroyed, true);
  });

  it("refuses quality and user, and any extra (the edit route takes no kwargs), unless drop_params", async () => {
    for (const [param, value] of [["quality", "hd"], ["user", "u1"], ["negative_prompt", "blurry"], ["seed", 3]] as const) {
      await assert.rejects(call({ image: png, [param]: value }), (err: unknown) => {
        assert.ok(err instanceof UnsupportedParamsError, String(err));
        assert.equal(err.param, param);
        assert.match(err.message, /drop_params/);
        return true;
      });
    }
    assert.equal(emu().requests.length, 0);
    await call({ image: png, quality: "hd", user: "u1", negative_prompt: "blurry", drop_params: true });
    assert.deepEqual(Object.keys(lastEdit().fields).sort(), ["model", "n", "prompt", "response_format", "size"]);
  });

  it("re-reads files on a retry: an fs.ReadStream is reopened from its path", async () => {
    emu().setFault("images/edits", { kind: "status", status: 503, headers: { "retry-after-ms": "0" }, times: 1 });
    const res = await call({
      image: [{ data: createReadStream(pngPath), filename: "a.png", contentType: "image/png" }, new Blob([jpeg])],
      mask: png,
    });
    assert.equal(res.data.length, 1);
    const [first, second] = requestsTo(emu(), "/v1/images/edits");
    assert.equal(first?.status, 503);
    assert.equal(second?.status, 200);
    assert.deepEqual(
      multipartBody(second).files.map((f) => f.size),
      [png.length, jpeg.length, png.length],
      "the retry sent every file whole",
    );
  });

  it("does not retry once a one-shot stream was sent: it cannot be sent again", async () => {
    emu().setFault("images/edits", { kind: "status", status: 503, body: { detail: "busy" }, headers: { "retry-after-ms": "0" }, times: 1 });
    await assert.rejects(call({ image: Readable.from([png]) }), ServiceUnavailableError);
    assert.equal(requestsTo(emu(), "/v1/images/edits").length, 1);
  });

  it("turns an edit on a model without image2image into a 400 that says which models can", async () => {
    await assert.rejects(call({ model: "xinference/sd-turbo", image: png }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.status, 400);
      assert.match(err.message, /sd-turbo does not support image2image/);
      assert.match(err.message, /sd3\.5-large/);
      return true;
    });
  });
});

describe("imageEdit with a large file", () => {
  it("streams a 50 MB upload to the server", async () => {
    let received = 0;
    let fileName: string | undefined;
    const server = await tinyServer((req, res) => {
      const bb = busboy({ headers: req.headers });
      bb.on("file", (_name, stream, info) => {
        fileName = info.filename;
        stream.on("data", (chunk: Buffer) => (received += chunk.length));
      });
      bb.on("close", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ created: 1, data: [{ url: null, b64_json: png.toString("base64") }] }));
      });
      req.pipe(bb);
    });
    try {
      const total = 50 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024, 1);
      let produced = 0;
      const source = new Readable({
        read() {
          if (produced >= total) this.push(null);
          else {
            produced += chunk.length;
            this.push(chunk);
          }
        },
      });
      const res = await imageEdit({
        model: SD,
        prompt: "p",
        image: { data: source, filename: "huge.png" },
        api_base: server.baseUrl,
      });
      assert.equal(received, total);
      assert.equal(fileName, "huge.png");
      assert.equal(res.data.length, 1);
    } finally {
      await server.close();
    }
  });
});
