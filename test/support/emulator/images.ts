// POST /v1/images/generations (JSON), /v1/images/variations and /v1/images/inpainting (multipart), and the
// "diffusion engine" they share with edits: size parsing, ability checks, and the ImageList response.
import { randomUUID } from "node:crypto";
import { checkModelAccess } from "./auth.js";
import { specStr } from "./catalog.js";
import type { ImageAbility } from "./catalog.js";
import type { Reply, RouteContext } from "./context.js";
import { engineError } from "./errors.js";
import { encodeImage, imageSize } from "./image-encoding.js";
import { FormReader } from "./multipart.js";
import type { UploadedFile } from "./multipart.js";
import { pythonJsonLoads } from "./python.js";
import { hashString } from "./random.js";
import type { RunningModel } from "./registry.js";
import { field, int, jsonBodyOf, listOf, oneOf, optional, str, validateBody } from "./validate.js";

/** Where a worker writes images; `url` answers are paths there, which nothing serves over HTTP. */
const IMAGE_DIR = "/root/.xinference/image";
/** Past this the "GPU" gives up, which also keeps a typo like 100000*100000 from exhausting the emulator. */
const MAX_SIDE = 4096;
const MAX_N = 32;

const GENERATION_RULES = {
  model: { check: str, required: true },
  prompt: { check: oneOf(str, listOf(str)), required: true },
  n: { check: optional(int) },
  response_format: { check: optional(str) },
  size: { check: optional(str) },
  kwargs: { check: optional(str) },
  user: { check: optional(str) },
};

export interface ImageJob {
  n: number;
  width: number;
  height: number;
  /** Picks the picture: the `seed` kwarg when given, else a hash of the prompt. */
  seed: number;
  responseFormat: string;
}

export async function createImages(ctx: RouteContext): Promise<Reply> {
  const body = validateBody("TextToImageRequest", jsonBodyOf(ctx.json), GENERATION_RULES);
  const uid = body.model as string;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const kwargs = parseKwargs(field<string | null>(body, "kwargs", null));
  ctx.record.kwargs = kwargs;
  return ctx.engine.run(model, requestIdOf(kwargs), async () => {
    requireImageAbility(model, "text2image");
    const { width, height } = parseSize(field(body, "size", "1024*1024"));
    return imageListReply({
      n: field(body, "n", 1),
      width,
      height,
      seed: seedOf(kwargs, JSON.stringify(body.prompt)),
      responseFormat: field(body, "response_format", "url"),
    });
  });
}

export async function createVariations(ctx: RouteContext): Promise<Reply> {
  return imageToImageRoute(ctx, "image2image");
}

/** The older inpainting route: like variations, plus a required `mask_image` file. */
export async function createInpainting(ctx: RouteContext): Promise<Reply> {
  return imageToImageRoute(ctx, "inpainting", "mask_image");
}

async function imageToImageRoute(ctx: RouteContext, ability: "image2image" | "inpainting", maskField?: string): Promise<Reply> {
  const form = new FormReader(ctx.form);
  const uid = form.str("model", true);
  const images = form.files("image", true);
  if (maskField) form.files(maskField, true);
  const prompt = form.str("prompt");
  const n = form.int("n", 1);
  const responseFormat = form.str("response_format") ?? "url";
  const size = form.str("size");
  const kwargsText = form.str("kwargs");
  form.done();
  return runImageToImage(ctx, uid as string, kwargsText, ability, images[0] as UploadedFile, {
    n,
    size,
    responseFormat,
    prompt,
  });
}

async function runImageToImage(
  ctx: RouteContext,
  uid: string,
  kwargsText: string | undefined,
  ability: ImageAbility,
  primary: UploadedFile,
  params: { n: number; size: string | undefined; responseFormat: string; prompt: string | undefined },
): Promise<Reply> {
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const kwargs = parseKwargs(kwargsText ?? null);
  ctx.record.kwargs = kwargs;
  return ctx.engine.run(model, requestIdOf(kwargs), async () => {
    const original = await imageSize(primary.data);
    requireImageAbility(model, ability);
    // Without a size the output keeps the input image's size.
    const { width, height } = params.size === undefined ? original : parseSize(params.size);
    return imageListReply({
      n: params.n,
      width,
      height,
      seed: seedOf(kwargs, params.prompt ?? primary.filename),
      responseFormat: params.responseFormat,
    });
  });
}

/** `json.loads(kwargs)` inside the route's try block: bad JSON is an engine-style 500 with Python's message. */
export function parseKwargs(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  const parsed = pythonJsonLoads(text);
  if (!parsed.ok) throw engineError(parsed.message);
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw engineError(`argument after ** must be a mapping, not ${Array.isArray(value) ? "list" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

export function requestIdOf(kwargs: Record<string, unknown>): string | undefined {
  return typeof kwargs.request_id === "string" ? kwargs.request_id : undefined;
}

function seedOf(kwargs: Record<string, unknown>, fallback: string): number {
  return typeof kwargs.seed === "number" && Number.isInteger(kwargs.seed) ? kwargs.seed >>> 0 : hashString(fallback);
}

/** Wrong model type or a missing ability fails inside the model actor, so it surfaces as a 500 detail. */
export function requireImageAbility(model: RunningModel, ability: ImageAbility): void {
  if (model.spec.model_type !== "image") throw engineError(`Model ${specStr(model.spec)} is not for creating image.`);
  if (!model.spec.model_ability.includes(ability)) {
    throw engineError(`The model ${model.spec.model_name} does not support ${ability}, its abilities are: ${model.spec.model_ability.join(", ")}`);
  }
}

/** Engines split the size on any non-digit ("1024*1024", "1024x1024"), with Python's errors when that fails. */
export function parseSize(size: string): { width: number; height: number } {
  const parts = size.split(/[^\d]+/);
  if (parts.length < 2) throw engineError(`not enough values to unpack (expected 2, got ${parts.length})`);
  if (parts.length > 2) throw engineError("too many values to unpack (expected 2)");
  const [w, h] = parts as [string, string];
  if (w === "" || h === "") throw engineError("invalid literal for int() with base 10: ''");
  const width = Number(w);
  const height = Number(h);
  if (width < 8 || height < 8) {
    throw engineError(`\`height\` and \`width\` have to be divisible by 8 but are ${height} and ${width}.`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) throw outOfMemory(width * height);
  return { width, height };
}

function outOfMemory(pixels: number): Error {
  const gib = ((pixels * 4 * 64) / 2 ** 30).toFixed(2);
  return engineError(`CUDA out of memory. Tried to allocate ${gib} GiB (GPU 0; 23.65 GiB total capacity)`);
}

/** The ImageList JSON: `{"created", "data": [{"url", "b64_json"}]}`, both keys always present. */
export async function imageListJson(job: ImageJob): Promise<string> {
  if (job.responseFormat !== "url" && job.responseFormat !== "b64_json") {
    throw engineError(`Unsupported response format: ${job.responseFormat}`);
  }
  if (job.n < 1) throw engineError("`num_images_per_prompt` must be a positive integer");
  if (job.n > MAX_N) throw outOfMemory(job.width * job.height * job.n);
  const data: string[] = [];
  for (let i = 0; i < job.n; i++) {
    const image = await encodeImage(job.width, job.height, job.seed + i);
    data.push(
      job.responseFormat === "url"
        ? `{"url":${JSON.stringify(`${IMAGE_DIR}/${randomUUID().replace(/-/g, "")}.jpg`)},"b64_json":null}`
        : `{"url":null,"b64_json":"${image.base64}"}`,
    );
  }
  return `{"created":${Math.floor(Date.now() / 1000)},"data":[${data.join(",")}]}`;
}

async function imageListReply(job: ImageJob): Promise<Reply> {
  return { status: 200, contentType: "application/json", body: await imageListJson(job) };
}
