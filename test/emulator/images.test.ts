import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator, RecordedMultipart } from "../support/emulator/index.js";
import { imageInfo, pngImage, postForm, postJson } from "./helpers.js";
import type { ImageListBody } from "./helpers.js";

const SD = "stabilityai/stable-diffusion-3.5-large";

describe("POST /v1/images/generations", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  test("url (the default) is an absolute worker path, b64_json null, both keys present", async () => {
    const res = await postJson(emulator, "/images/generations", { model: SD, prompt: "a lighthouse" });
    assert.equal(res.status, 200);
    const body = (await res.json()) as ImageListBody;
    assert.ok(Number.isInteger(body.created));
    assert.equal(body.data.length, 1);
    assert.deepEqual(Object.keys(body.data[0] ?? {}), ["url", "b64_json"]);
    assert.match(body.data[0]?.url ?? "", /^\/root\/\.xinference\/image\/[0-9a-f]{32}\.jpg$/);
    assert.equal(body.data[0]?.b64_json, null);
  });

  test("b64_json is a real JPEG of the requested size, default 1024*1024", async () => {
    for (const [size, width, height] of [
      [undefined, 1024, 1024],
      ["512*256", 512, 256],
      ["320x200", 320, 200],
    ] as const) {
      const res = await postJson(emulator, "/images/generations", {
        model: SD,
        prompt: "a lighthouse",
        response_format: "b64_json",
        ...(size === undefined ? {} : { size }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as ImageListBody;
      assert.equal(body.data[0]?.url, null);
      const info = await imageInfo(Buffer.from(body.data[0]?.b64_json ?? "", "base64"));
      assert.deepEqual(info, { format: "jpeg", width, height });
    }
  });

  test("n images", async () => {
    const res = await postJson(emulator, "/images/generations", { model: "sd-turbo", prompt: "x", n: 3, size: "64*64" });
    const body = (await res.json()) as ImageListBody;
    assert.equal(body.data.length, 3);
    assert.equal(new Set(body.data.map((d) => d.url)).size, 3);
  });

  test("kwargs is a JSON string; the parsed kwargs are recorded", async () => {
    emulator.clearRequests();
    const kwargs = { negative_prompt: "blurry", num_inference_steps: 30, seed: 7 };
    const res = await postJson(emulator, "/images/generations", { model: SD, prompt: "x", size: "64*64", kwargs: JSON.stringify(kwargs) });
    assert.equal(res.status, 200);
    assert.equal(emulator.requests.length, 1);
    assert.deepEqual(emulator.requests[0]?.kwargs, kwargs);
    assert.equal(emulator.requests[0]?.status, 200);
  });

  test("engine errors are 500 JSON details", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model: SD, prompt: "x", response_format: "png", size: "64*64" }, /^Unsupported response format: png$/],
      [{ model: SD, prompt: "x", kwargs: "{not json" }, /^Expecting .*line 1 column 2 \(char 1\)$/],
      [{ model: SD, prompt: "x", size: "big" }, /^invalid literal for int\(\) with base 10: ''$/],
      [{ model: SD, prompt: "x", size: "1024" }, /^not enough values to unpack \(expected 2, got 1\)$/],
      [{ model: SD, prompt: "x", size: "100000*100000" }, /^CUDA out of memory/],
      [{ model: "stable-diffusion-inpainting", prompt: "x" }, /does not support text2image/],
      [{ model: "bge-base-en", prompt: "x" }, /is not for creating image\.$/],
    ];
    for (const [body, detail] of cases) {
      const res = await postJson(emulator, "/images/generations", body);
      assert.equal(res.status, 500, JSON.stringify(body));
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.match(((await res.json()) as { detail: string }).detail, detail);
    }
  });

  test("a missing prompt is a text/plain validation 500", async () => {
    const res = await postJson(emulator, "/images/generations", { model: SD });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.match(await res.text(), /^Internal Server Error: 1 validation error for TextToImageRequest\nprompt\n {2}Field required/);
  });
});

describe("POST /v1/images/variations and /v1/images/inpainting", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  test("variations keep the input's size by default and record kwargs and files", async () => {
    emulator.clearRequests();
    const form = new FormData();
    form.append("model", SD);
    form.append("image", await pngImage(96, 64), "cat.png");
    form.append("prompt", "a cat");
    form.append("response_format", "b64_json");
    form.append("kwargs", JSON.stringify({ seed: 3 }));
    const res = await postForm(emulator, "/images/variations", form);
    assert.equal(res.status, 200);
    const body = (await res.json()) as ImageListBody;
    assert.deepEqual(await imageInfo(Buffer.from(body.data[0]?.b64_json ?? "", "base64")), { format: "jpeg", width: 96, height: 64 });
    const recorded = emulator.requests[0];
    assert.deepEqual(recorded?.kwargs, { seed: 3 });
    const multipart = recorded?.body as RecordedMultipart;
    assert.equal(multipart.fields.prompt, "a cat");
    assert.equal(multipart.files[0]?.field, "image");
    assert.equal(multipart.files[0]?.filename, "cat.png");
    assert.equal(multipart.files[0]?.contentType, "image/png");
    assert.ok((multipart.files[0]?.size ?? 0) > 0);
  });

  test("variations without model and image are a FastAPI 422 list", async () => {
    const form = new FormData();
    form.append("prompt", "x");
    const res = await postForm(emulator, "/images/variations", form);
    assert.equal(res.status, 422);
    assert.deepEqual(await res.json(), {
      detail: [
        { type: "missing", loc: ["body", "model"], msg: "Field required", input: null },
        { type: "missing", loc: ["body", "image"], msg: "Field required", input: null },
      ],
    });
  });

  test("inpainting takes image and mask_image and needs the inpainting ability", async () => {
    const form = async (model: string): Promise<FormData> => {
      const f = new FormData();
      f.append("model", model);
      f.append("image", await pngImage(80, 48), "in.png");
      f.append("mask_image", await pngImage(80, 48), "mask.png");
      f.append("size", "40*24");
      f.append("response_format", "b64_json");
      return f;
    };
    const ok = await postForm(emulator, "/images/inpainting", await form("stable-diffusion-inpainting"));
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as ImageListBody;
    assert.deepEqual(await imageInfo(Buffer.from(body.data[0]?.b64_json ?? "", "base64")), { format: "jpeg", width: 40, height: 24 });
    const refused = await postForm(emulator, "/images/inpainting", await form("sd-turbo"));
    assert.equal(refused.status, 500);
    assert.match(((await refused.json()) as { detail: string }).detail, /does not support inpainting/);
  });
});
