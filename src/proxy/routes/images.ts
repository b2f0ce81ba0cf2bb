/**
 * Image generation and edits. Both answer `b64_json` unless the client asks for `url` (the Vercel AI SDK
 * reads nothing else and sends no response_format on edits). For `url`, xgate asks the provider for
 * base64, stores the image and answers an http URL that it serves itself.
 */
import type { FastifyRequest } from "fastify";
import { BadRequestError } from "../../errors.js";
import { imageEdit, type ImageEditCall, imageGeneration, type ImageGenerationCall } from "../../operations/index.js";
import type { ImageResponse } from "../../types.js";
import type { ImageStore } from "../files/image-store.js";
import { openSpooled, readEditForm, type UploadLimits } from "../files/uploads.js";
import { asObject, type Dispatcher, type OperationRoute } from "../pipeline/index.js";
import { hostedImageUrl, type HostedImageUrls } from "./hosted-images.js";

export interface ImageRouteDeps {
  images: ImageStore;
  urls: HostedImageUrls;
  uploads: UploadLimits;
  dispatcher: Dispatcher;
}

/** Replaces each image's base64 with a hosted URL. */
async function toHostedUrls(response: ImageResponse, deps: ImageRouteDeps, request: FastifyRequest): Promise<ImageResponse> {
  const data = await Promise.all(
    response.data.map(async (image) => {
      if (image.b64_json === undefined) return image;
      const name = await deps.images.put(Buffer.from(image.b64_json, "base64"));
      const { b64_json: _dropped, ...rest } = image;
      return { ...rest, url: hostedImageUrl(deps.urls, request, name) };
    }),
  );
  return { ...response, data };
}

/** What the client asked for decides the answer; upstream, base64 is always asked for. */
function answer(deps: ImageRouteDeps) {
  return (result: ImageResponse, parsed: { request: { response_format: string } }, request: FastifyRequest): ImageResponse | Promise<ImageResponse> =>
    parsed.request.response_format === "url" ? toHostedUrls(result, deps, request) : result;
}

function asBase64<R extends { response_format: string }>(request: R): R {
  return { ...request, response_format: "b64_json" };
}

export function imageGenerationRoute(deps: ImageRouteDeps): OperationRoute<ImageGenerationCall, ImageResponse> {
  return {
    urls: ["/v1/images/generations", "/images/generations"],
    operation: imageGeneration,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/images/generations") }),
    upstreamRequest: asBase64,
    respond: answer(deps),
  };
}

export function imageEditRoute(deps: ImageRouteDeps): OperationRoute<ImageEditCall, ImageResponse> {
  return {
    urls: ["/v1/images/edits", "/images/edits"],
    operation: imageEdit,
    async read(request) {
      const form = await readEditForm(request, deps.uploads);
      const fields: Record<string, unknown> = { ...form.fields };
      if (fields.n !== undefined) fields.n = Number(fields.n);
      if (form.images.length === 0) {
        await form.cleanup();
        throw new BadRequestError("No image: send the image file(s) as 'image' (or 'image[]') in the form.", { param: "image" });
      }
      const files: Record<string, unknown> = { image: form.images.map(openSpooled) };
      if (form.mask !== undefined) files.mask = openSpooled(form.mask);
      return { fields, files, release: form.cleanup };
    },
    admit: (parsed) => deps.dispatcher.assertCanEdit(parsed.model, (parsed.request as ImageEditCall).mask !== undefined),
    upstreamRequest: asBase64,
    respond: answer(deps),
  };
}
