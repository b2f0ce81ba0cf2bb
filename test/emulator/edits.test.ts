import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator, RecordedMultipart } from "../support/emulator/index.js";
import { imageInfo, pngImage, postForm } from "./helpers.js";
import type { ImageListBody } from "./helpers.js";

const SD = "stabilityai/stable-diffusion-3.5-large";

async function editForm(fields: Record<string, string>, files: [string, Blob, string][]): Promise<FormData> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [name, blob, filename] of files) form.append(name, blob, filename);
  return form;
}

async function firstImage(res: Response): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const body = (await res.json()) as ImageListBody;
  return imageInfo(Buffer.from(body.data[0]?.b64_json ?? "", "base64"));
}

interface SseEvent {
  event: string;
  data: unknown;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split("\r\n\r\n")
    .filter((block) => block.length > 0)
    .map((block) => {
      const lines = block.split("\r\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "";
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6) ?? "null";
      return { event, data: JSON.parse(data) as unknown };
    });
}

describe("POST /v1/images/edits", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  test("without model or size: the first able image model, output at the input's size", async () => {
    emulator.clearRequests();
    const form = await editForm({ prompt: "make it blue", response_format: "b64_json" }, [["images", await pngImage(120, 90), "in.png"]]);
    const res = await postForm(emulator, "/images/edits", form);
    assert.equal(res.status, 200);
    assert.deepEqual(await firstImage(res), { format: "jpeg", width: 120, height: 90 });
    const recorded = emulator.requests[0]?.body as RecordedMultipart;
    assert.deepEqual(recorded.files.map((f) => [f.field, f.filename]), [["images", "in.png"]]);
  });

  test("image files are found under images, images[], image[] or image; images wins", async () => {
    for (const field of ["images[]", "image[]", "image"]) {
      const form = await editForm({ prompt: "x", model: SD, response_format: "b64_json" }, [[field, await pngImage(40, 30), "a.png"]]);
      const res = await postForm(emulator, "/images/edits", form);
      assert.equal(res.status, 200, field);
      assert.deepEqual(await firstImage(res), { format: "jpeg", width: 40, height: 30 });
    }
    const both = await editForm({ prompt: "x", model: SD, response_format: "b64_json" }, [
      ["image", await pngImage(40, 30), "fallback.png"],
      ["images", await pngImage(64, 48), "primary.png"],
      ["images", await pngImage(16, 16), "reference.png"],
    ]);
    const res = await postForm(emulator, "/images/edits", both);
    assert.deepEqual(await firstImage(res), { format: "jpeg", width: 64, height: 48 });
  });

  test("size is honoured, with x or *", async () => {
    for (const size of ["64x48", "64*48"]) {
      const form = await editForm({ prompt: "x", model: SD, size, response_format: "b64_json" }, [["images", await pngImage(40, 30), "a.png"]]);
      assert.deepEqual(await firstImage(await postForm(emulator, "/images/edits", form)), { format: "jpeg", width: 64, height: 48 });
    }
  });

  test("a mask makes it inpainting: the model's abilities decide", async () => {
    const withMask = async (model: string): Promise<Response> =>
      postForm(
        emulator,
        "/images/edits",
        await editForm({ prompt: "x", model }, [
          ["images", await pngImage(40, 30), "a.png"],
          ["mask", await pngImage(40, 30), "m.png"],
        ]),
      );
    assert.equal((await withMask("stable-diffusion-inpainting")).status, 200);
    assert.equal((await withMask(SD)).status, 200);
    const noImage2Image = await postForm(emulator, "/images/edits", await editForm({ prompt: "x", model: "stable-diffusion-inpainting" }, [["images", await pngImage(40, 30), "a.png"]]));
    assert.equal(noImage2Image.status, 500);
    assert.match(((await noImage2Image.json()) as { detail: string }).detail, /does not support image2image/);
    const textOnly = await withMask("sd-turbo");
    assert.equal(textOnly.status, 500);
    assert.match(((await textOnly.json()) as { detail: string }).detail, /does not support inpainting/);
  });

  test("the route's 400s and FastAPI's 422", async () => {
    const noImage = await postForm(emulator, "/images/edits", await editForm({ prompt: "x" }, []));
    assert.equal(noImage.status, 400);
    assert.deepEqual(await noImage.json(), { detail: "At least one image file is required" });

    const badFormat = await postForm(emulator, "/images/edits", await editForm({ prompt: "x", response_format: "png" }, [["image", await pngImage(8, 8), "a.png"]]));
    assert.equal(badFormat.status, 400);
    assert.deepEqual(await badFormat.json(), { detail: "response_format must be 'url' or 'b64_json'" });

    const noPrompt = await postForm(emulator, "/images/edits", await editForm({}, [["image", await pngImage(8, 8), "a.png"]]));
    assert.equal(noPrompt.status, 422);
    assert.deepEqual(await noPrompt.json(), { detail: [{ type: "missing", loc: ["body", "prompt"], msg: "Field required", input: null }] });

    const badN = await postForm(emulator, "/images/edits", await editForm({ prompt: "x", n: "two" }, [["image", await pngImage(8, 8), "a.png"]]));
    assert.equal(badN.status, 422);
    assert.deepEqual(((await badN.json()) as { detail: { loc: string[]; type: string }[] }).detail.map((d) => [d.loc, d.type]), [[["body", "n"], "int_parsing"]]);

    const undecodable = await postForm(emulator, "/images/edits", await editForm({ prompt: "x" }, [["image", new Blob(["not an image"]), "a.png"]]));
    assert.equal(undecodable.status, 500);
    assert.match(((await undecodable.json()) as { detail: string }).detail, /^cannot identify image file/);
  });

  test("without any image2image/inpainting model: 400 No available image models found", async () => {
    const bare = await startEmulator({ models: [{ model_name: "sd-turbo", model_type: "image" }] });
    try {
      const res = await postForm(bare, "/images/edits", await editForm({ prompt: "x" }, [["image", await pngImage(8, 8), "a.png"]]));
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { detail: "No available image models found" });
    } finally {
      await bare.close();
    }
  });

  test("stream=true sends SSE start, processing, complete", async () => {
    const form = await editForm({ prompt: "x", model: SD, stream: "true", response_format: "b64_json" }, [["images", await pngImage(40, 30), "a.png"]]);
    const res = await postForm(emulator, "/images/edits", form);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const events = parseSse(await res.text());
    assert.deepEqual(events.map((e) => e.event), ["start", "processing", "processing", "complete"]);
    assert.deepEqual(events[1]?.data, { ...(events[1]?.data as object), type: "images_loaded", primary_image_size: [40, 30], reference_images_count: 0 });
    const result = events[3]?.data as ImageListBody;
    assert.deepEqual(await imageInfo(Buffer.from(result.data[0]?.b64_json ?? "", "base64")), { format: "jpeg", width: 40, height: 30 });
  });

  test("stream=true reports engine failures as an error event", async () => {
    const form = await editForm({ prompt: "x", model: "sd-turbo", stream: "true" }, [["images", await pngImage(40, 30), "a.png"]]);
    const res = await postForm(emulator, "/images/edits", form);
    assert.equal(res.status, 200);
    const events = parseSse(await res.text());
    assert.deepEqual(events.map((e) => e.event), ["start", "processing", "processing", "error"]);
    assert.match((events[3]?.data as { error: string }).error, /does not support image2image/);
  });
});
