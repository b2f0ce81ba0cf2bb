import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import sharp from "sharp";
import { BadRequestError, imageGeneration, UnsupportedParamsError } from "../../src/index.js";
import { pngBytes } from "../upstream/helpers.js";
import { jsonBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator();
const SD = "xinference/stabilityai/stable-diffusion-3.5-large";
const call = (params: Record<string, unknown>): ReturnType<typeof imageGeneration> =>
  imageGeneration({ model: SD, prompt: "a lighthouse", api_base: emu().baseUrl, ...params });
const sent = (): Record<string, unknown> => jsonBody(requestsTo(emu(), "/v1/images/generations").at(-1));

beforeEach(() => {
  emu().clearRequests();
  emu().setFault("images/generations", null);
});

describe("imageGeneration", () => {
  it("answers b64_json by default, the image decodable at the size asked", async () => {
    const res = await call({ size: "64x32" });
    assert.equal(typeof res.created, "number");
    assert.equal(res.data.length, 1);
    assert.deepEqual(Object.keys(res.data[0] ?? {}), ["b64_json"]);
    const meta = await sharp(Buffer.from(res.data[0]?.b64_json ?? "", "base64")).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 32]);
    assert.deepEqual(sent(), { model: "stabilityai/stable-diffusion-3.5-large", prompt: "a lighthouse", response_format: "b64_json", size: "64*32" });
  });

  it("writes size as Xinference does, and accepts its own form too", async () => {
    await call({ size: "1024x768" });
    assert.equal(sent().size, "1024*768");
    await call({ size: "48*48" });
    assert.equal(sent().size, "48*48");
  });

  it("refuses a malformed size with a 400 showing the expected form", async () => {
    for (const size of ["big", "1024", "1024x", "0x512", "1024x1024x3", 1024]) {
      await assert.rejects(call({ size }), (err: unknown) => {
        assert.ok(err instanceof BadRequestError);
        assert.equal(err.param, "size");
        assert.match(err.message, /WIDTHxHEIGHT.*"1024x1024"/);
        return true;
      });
    }
    assert.equal(emu().requests.length, 0);
  });

  it("takes n from 1 to 10 and refuses anything else naming n", async () => {
    const res = await call({ n: 3, size: "16x16" });
    assert.equal(res.data.length, 3);
    assert.equal(sent().n, 3);
    for (const n of [0, 11, 1.5, "2"]) {
      await assert.rejects(call({ n }), (err: unknown) => err instanceof BadRequestError && err.param === "n" && /^n must/.test(err.message));
    }
  });

  it("answers url as a data: URL of the image (Xinference's own url is a path on its worker)", async () => {
    const res = await call({ response_format: "url", size: "16x16" });
    const url = res.data[0]?.url ?? "";
    assert.match(url, /^data:image\/jpeg;base64,/);
    assert.equal(res.data[0]?.b64_json, undefined);
    const meta = await sharp(Buffer.from(url.split(",")[1] ?? "", "base64")).metadata();
    assert.equal(meta.format, "jpeg");
    assert.equal(sent().response_format, "b64_json", "asks Xinference for base64");
  });

  it("labels a PNG answer as image/png in the data: URL", async () => {
    const png = (await pngBytes(8, 8)).toString("base64");
    emu().setFault("images/generations", { kind: "status", status: 200, body: { created: 1, data: [{ url: null, b64_json: png }] }, times: 1 });
    const res = await call({ response_format: "url" });
    assert.equal(res.data[0]?.url, `data:image/png;base64,${png}`);
  });

  it("refuses an unknown response_format", async () => {
    await assert.rejects(call({ response_format: "jpeg" }), (err: unknown) => err instanceof BadRequestError && err.param === "response_format");
  });

  it("sends extras as Xinference's kwargs JSON string", async () => {
    await call({ size: "16x16", negative_prompt: "blurry", num_inference_steps: 20, guidance_scale: 4.5, seed: 7, scheduler: "DPM" });
    const body = sent();
    assert.equal(typeof body.kwargs, "string");
    assert.deepEqual(JSON.parse(body.kwargs as string), {
      negative_prompt: "blurry",
      num_inference_steps: 20,
      guidance_scale: 4.5,
      seed: 7,
      scheduler: "DPM",
    });
    assert.deepEqual(requestsTo(emu(), "/v1/images/generations").at(-1)?.kwargs, JSON.parse(body.kwargs as string));
  });

  it("merges a kwargs the caller gave itself, as an object or a JSON string", async () => {
    await call({ size: "16x16", kwargs: { seed: 1 }, negative_prompt: "dark" });
    assert.deepEqual(JSON.parse(sent().kwargs as string), { seed: 1, negative_prompt: "dark" });
    await call({ size: "16x16", kwargs: '{"seed": 2}' });
    assert.deepEqual(JSON.parse(sent().kwargs as string), { seed: 2 });
    await assert.rejects(call({ kwargs: "[1]" }), (err: unknown) => err instanceof BadRequestError && err.param === "kwargs");
  });

  it("refuses quality, style and user naming the parameter and drop_params", async () => {
    for (const param of ["quality", "style", "user"]) {
      await assert.rejects(call({ [param]: "hd" }), (err: unknown) => {
        assert.ok(err instanceof UnsupportedParamsError);
        assert.equal(err.status, 400);
        assert.equal(err.param, param);
        assert.match(err.message, new RegExp(`'${param}'`));
        assert.match(err.message, /drop_params/);
        return true;
      });
    }
    assert.equal(emu().requests.length, 0);
  });

  it("drops quality, style and user with drop_params: true", async () => {
    await call({ size: "16x16", quality: "hd", style: "vivid", user: "u1", drop_params: true });
    const body = sent();
    assert.deepEqual(Object.keys(body).sort(), ["model", "prompt", "response_format", "size"]);
  });

  it("never forwards call options", async () => {
    await call({
      size: "16x16",
      api_key: undefined,
      timeout: 60,
      num_retries: 1,
      max_retries: 1,
      drop_params: false,
      extra_headers: { "x-a": "b" },
      signal: new AbortController().signal,
    });
    assert.equal(sent().kwargs, undefined);
    assert.deepEqual(Object.keys(sent()).sort(), ["model", "prompt", "response_format", "size"]);
  });

  it("requires a prompt, before any upstream call", async () => {
    for (const prompt of [undefined, "", "  ", 5]) {
      await assert.rejects(call({ prompt }), (err: unknown) => err instanceof BadRequestError && err.param === "prompt");
    }
    assert.equal(emu().requests.length, 0);
  });

  it("turns a model that cannot generate into a 400 that says which can", async () => {
    await assert.rejects(call({ model: "xinference/stable-diffusion-inpainting", size: "16x16" }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.match(err.message, /does not support text2image/);
      assert.match(err.message, /sd3\.5-large/);
      return true;
    });
    assert.equal(requestsTo(emu(), "/v1/images/generations").length, 1, "a 400 is not retried");
  });
});
