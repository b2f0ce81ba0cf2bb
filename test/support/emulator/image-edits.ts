// POST /v1/images/edits (multipart, since Xinference v1.11): image-to-image, or inpainting when a `mask` is
// sent; `model` optional; optional SSE progress stream. Checks run in the real route's order.
import { checkModelAccess } from "./auth.js";
import type { Reply, RouteContext } from "./context.js";
import { HttpError, detailError } from "./errors.js";
import { imageSize } from "./image-encoding.js";
import { imageListJson, parseSize, requireImageAbility } from "./images.js";
import { FormReader } from "./multipart.js";
import type { UploadedFile } from "./multipart.js";
import { pythonIsoNow, pythonJsonDumps } from "./python.js";
import { hashString } from "./random.js";
import type { ModelRegistry, RunningModel } from "./registry.js";

/** The declared field first, then the form keys the route falls back to, in the documented order. */
const IMAGE_FIELDS = ["images", "images[]", "image[]", "image"];

export async function createImageEdits(ctx: RouteContext): Promise<Reply> {
  const form = new FormReader(ctx.form);
  const prompt = form.str("prompt", true) as string;
  const requestedModel = form.str("model");
  const n = form.int("n", 1);
  const size = form.str("size") ?? "original";
  const responseFormat = form.str("response_format") ?? "url";
  const stream = form.bool("stream", false);
  form.done();

  let images: UploadedFile[] = [];
  for (const name of IMAGE_FIELDS) {
    images = form.files(name);
    if (images.length > 0) break;
  }
  const mask = form.files("mask").at(-1);
  if (images.length === 0) throw detailError(400, "At least one image file is required");
  if (responseFormat !== "url" && responseFormat !== "b64_json") {
    throw detailError(400, "response_format must be 'url' or 'b64_json'");
  }
  const uid = requestedModel ?? defaultEditModel(ctx.registry);
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);

  const sizes = await Promise.all(images.map((image) => imageSize(image.data)));
  const primarySize = sizes[0] as { width: number; height: number };
  const edit: Edit = { model, prompt, n, size, responseFormat, primarySize, images, mask };
  if (stream) {
    return {
      status: 200,
      contentType: "text/event-stream; charset=utf-8",
      headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
      chunks: editEvents(ctx, edit),
    };
  }
  const body = await ctx.engine.run(model, undefined, () => runEdit(edit));
  return { status: 200, contentType: "application/json", body };
}

interface Edit {
  model: RunningModel;
  prompt: string;
  n: number;
  size: string;
  responseFormat: string;
  primarySize: { width: number; height: number };
  images: UploadedFile[];
  mask: UploadedFile | undefined;
}

/** Without `model`, the first running image model able to do image2image or inpainting. */
function defaultEditModel(registry: ModelRegistry): string {
  const model = registry.list().find((m) => {
    const spec = m.spec;
    return spec.model_type === "image" && spec.model_ability.some((a) => a === "image2image" || a === "inpainting");
  });
  if (model === undefined) throw detailError(400, "No available image models found");
  return model.uid;
}

async function runEdit(edit: Edit): Promise<string> {
  if (edit.mask !== undefined) await imageSize(edit.mask.data);
  requireImageAbility(edit.model, edit.mask === undefined ? "image2image" : "inpainting");
  // "original" lets the model keep the input's size; "x" is rewritten to "*" before the engine splits it.
  const { width, height } = edit.size === "original" ? edit.primarySize : parseSize(edit.size.replace(/x/g, "*"));
  return imageListJson({
    n: edit.n,
    width,
    height,
    seed: hashString(edit.prompt),
    responseFormat: edit.responseFormat,
  });
}

/** sse_starlette framing: "event: X\r\ndata: Y\r\n\r\n", data as Python's json.dumps writes it. */
function sseEvent(event: string, data: string): string {
  return `event: ${event}\r\ndata: ${data}\r\n\r\n`;
}

async function* editEvents(ctx: RouteContext, edit: Edit): AsyncGenerator<string> {
  try {
    yield sseEvent(
      "start",
      pythonJsonDumps({
        type: "image_edit_started",
        timestamp: pythonIsoNow(),
        prompt: edit.prompt,
        image_count: edit.images.length,
      }),
    );
    yield sseEvent(
      "processing",
      pythonJsonDumps({
        type: "images_loaded",
        timestamp: pythonIsoNow(),
        primary_image_size: [edit.primarySize.width, edit.primarySize.height],
        reference_images_count: edit.images.length - 1,
      }),
    );
    if (edit.mask !== undefined) {
      const maskSize = await imageSize(edit.mask.data);
      yield sseEvent(
        "processing",
        pythonJsonDumps({ type: "mask_loaded", timestamp: pythonIsoNow(), mask_size: [maskSize.width, maskSize.height] }),
      );
    } else {
      yield sseEvent("processing", pythonJsonDumps({ type: "starting_generation", timestamp: pythonIsoNow() }));
    }
    const result = await ctx.engine.run(edit.model, undefined, () => runEdit(edit));
    yield sseEvent("complete", pythonJsonDumps(JSON.parse(result)));
  } catch (error) {
    const message = error instanceof HttpError && typeof error.detail === "string" ? error.detail : String(error);
    yield sseEvent("error", pythonJsonDumps({ type: "image_edit_error", timestamp: pythonIsoNow(), error: message }));
  }
}
