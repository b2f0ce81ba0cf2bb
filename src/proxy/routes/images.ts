/**
 * Image generation and edits. Both answer `b64_json` unless the client asks for `url` (the Vercel AI SDK
 * reads nothing else and sends no response_format on edits). For `url`, xgate asks the provider for
 * base64, stores the image and answers an http URL that it serves itself.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { BadRequestError } from "../../errors.js";
import { imageEdit, type ImageEditCall, imageGeneration, type ImageGenerationCall, type Images } from "../../operations/index.js";
import type { ImageResponse } from "../../types.js";
import { IMAGE_RULE } from "../files/image-check.js";
import type { ImageStore } from "../files/image-store.js";
import { type FormSpec, openSpooled, readForm, type UploadLimits } from "../files/uploads.js";
import { asObject, type Dispatcher, type OperationRoute, type RequestAccount } from "../pipeline/index.js";

/** An image's size, for its cost; none for an edit's `original` (priced as LiteLLM's default size). */
function pixels(size: { width: number; height: number } | "original" | undefined): { width?: number; height?: number } {
  return size === undefined || size === "original" ? {} : { width: size.width, height: size.height };
}

/** The images a request asks for, reserved against budgets before they are made. */
function imagesAsked(request: { n?: number | undefined; size?: { width: number; height: number } | "original" | undefined }) {
  return { images: { count: request.n ?? 1, ...pixels(request.size) } };
}
import { hostedImageUrl, type HostedImageUrls } from "./hosted-images.js";

export interface ImageRouteDeps {
  images: ImageStore;
  urls: HostedImageUrls;
  uploads: UploadLimits;
  dispatcher: Dispatcher;
}

/** Each image stored and served here, under an http URL. */
async function hostedUrls(images: Images, deps: ImageRouteDeps, request: FastifyRequest): Promise<ImageResponse> {
  const data = await Promise.all(
    Array.from({ length: images.count }, async (_unused, i) => {
      const name = await deps.images.put(images.decoded(i));
      return { url: hostedImageUrl(deps.urls, request, name) };
    }),
  );
  return { created: images.created, data };
}

/** What the client asked for decides the answer; upstream, base64 is always asked for. */
function answer(deps: ImageRouteDeps) {
  return async (
    images: Images,
    parsed: { request: { response_format: string; size?: { width: number; height: number } | "original" | undefined } },
    request: FastifyRequest,
    reply: FastifyReply,
    account: RequestAccount,
  ): Promise<unknown> => {
    const hosted = parsed.request.response_format === "url" ? await hostedUrls(images, deps, request) : undefined;
    // An edit at `original` is the input's size, which the generated image has: read from its header.
    const size = parsed.request.size === "original" ? images.size(0) : parsed.request.size;
    account.finish({ promptTokens: 0, completionTokens: 0, images: { count: images.count, ...pixels(size) } });
    // The provider's base64 bytes, copied into the answer: never decoded, re-encoded or re-serialised.
    return hosted ?? reply.type("application/json; charset=utf-8").send(images.json());
  };
}

function asBase64<R extends { response_format: string }>(request: R): R {
  return { ...request, response_format: "b64_json" };
}

export function imageGenerationRoute(deps: ImageRouteDeps): OperationRoute<ImageGenerationCall, Images> {
  return {
    urls: ["/v1/images/generations", "/images/generations"],
    operation: imageGeneration,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/images/generations") }),
    upstreamRequest: asBase64,
    estimate: imagesAsked,
    respond: answer(deps),
  };
}

/** An edit's form: the images under `image` (or `image[]`; Xinference's own `images` too) and one `mask`. */
const EDIT_FORM: FormSpec = {
  kind: { call: "an image edit", fields: "image, mask, prompt, model, n, size, response_format and user" },
  notMultipart: "Image edits take multipart/form-data with the image file(s) under 'image' (or 'image[]') and fields 'prompt', 'model'.",
  fileFields: new Map([
    ["image", "image"],
    ["image[]", "image"],
    ["images", "image"],
    ["images[]", "image"],
    ["mask", "mask"],
    ["mask[]", "mask"],
  ]),
  single: new Map([["mask", "Send at most one mask."]]),
  unexpectedFile: (name) => `Unexpected file field '${name}': send images as 'image' (or 'image[]') and the mask as 'mask'.`,
  rule: IMAGE_RULE,
  defaultFilename: "image",
};

export function imageEditRoute(deps: ImageRouteDeps): OperationRoute<ImageEditCall, Images> {
  return {
    urls: ["/v1/images/edits", "/images/edits"],
    operation: imageEdit,
    async read(request) {
      const form = await readForm(request, deps.uploads, EDIT_FORM);
      const fields: Record<string, unknown> = { ...form.fields };
      if (fields.n !== undefined) fields.n = Number(fields.n);
      const images = form.files.image ?? [];
      const mask = form.files.mask?.[0];
      if (images.length === 0) {
        await form.cleanup();
        throw new BadRequestError("No image: send the image file(s) as 'image' (or 'image[]') in the form.", { param: "image" });
      }
      const files: Record<string, unknown> = { image: images.map(openSpooled) };
      if (mask !== undefined) files.mask = openSpooled(mask);
      return { fields, files, release: form.cleanup };
    },
    admit: (parsed) => deps.dispatcher.assertCanEdit(parsed.model, (parsed.request as ImageEditCall).mask !== undefined),
    upstreamRequest: asBase64,
    estimate: imagesAsked,
    respond: answer(deps),
  };
}
