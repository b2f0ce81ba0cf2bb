/**
 * Image generation and edits. Both answer `b64_json` unless the client asks for `url` (the Vercel AI SDK
 * reads nothing else and sends no response_format on edits). For `url`, xgate asks the provider for
 * base64, stores the image and answers an http URL that it serves itself.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { imageEdit, imageGeneration } from "../../index.js";
import { BadRequestError } from "../../errors.js";
import type { ImageEditParams, ImageGenerationParams, ImageResponse } from "../../types.js";
import type { ProxyContext } from "../context.js";
import { openSpooled, readEditForm } from "../files/uploads.js";
import { dispatchRequest } from "./dispatch-request.js";
import { hostedImageUrl } from "./hosted-images.js";
import { asObject, clientRequest, sdkParams } from "./params.js";

type ResponseFormat = "url" | "b64_json";

function wantedFormat(value: unknown): ResponseFormat {
  if (value === undefined || value === null || value === "b64_json") return "b64_json";
  if (value === "url") return "url";
  throw new BadRequestError(`response_format must be 'url' or 'b64_json', not ${JSON.stringify(value)}.`, {
    param: "response_format",
  });
}

/** Replaces each image's base64 with a hosted URL. */
async function toHostedUrls(response: ImageResponse, ctx: ProxyContext, request: FastifyRequest): Promise<ImageResponse> {
  const data = await Promise.all(
    response.data.map(async (image) => {
      if (image.b64_json === undefined) return image;
      const name = await ctx.images.put(Buffer.from(image.b64_json, "base64"));
      const { b64_json: _dropped, ...rest } = image;
      return { ...rest, url: hostedImageUrl(ctx, request, name) };
    }),
  );
  return { ...response, data };
}

export function imageRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  for (const url of ["/v1/images/generations", "/images/generations"]) {
    app.post(url, async (request, reply) => {
      const req = clientRequest(asObject(request.body, "POST /v1/images/generations"), ctx);
      const format = wantedFormat(req.params.response_format);
      req.params.response_format = "b64_json";
      const response = await dispatchRequest(ctx, request, reply, req.model, (target, signal) =>
        imageGeneration(sdkParams(req, target, signal, ctx) as ImageGenerationParams),
      );
      return format === "url" ? toHostedUrls(response, ctx, request) : response;
    });
  }

  for (const url of ["/v1/images/edits", "/images/edits"]) {
    app.post(url, async (request, reply) => {
      const form = await readEditForm(request, ctx.uploadLimits);
      try {
        const fields: Record<string, unknown> = { ...form.fields };
        if (fields.n !== undefined) fields.n = Number(fields.n);
        const req = clientRequest(fields, ctx);
        const format = wantedFormat(req.params.response_format);
        req.params.response_format = "b64_json";
        if (form.images.length === 0) {
          throw new BadRequestError("No image: send the image file(s) as 'image' (or 'image[]') in the form.", {
            param: "image",
          });
        }
        ctx.dispatcher.assertCanEdit(req.model, form.mask !== undefined);
        const response = await dispatchRequest(ctx, request, reply, req.model, (target, signal) => {
          const params = sdkParams(req, target, signal, ctx);
          params.image = form.images.map(openSpooled);
          if (form.mask) params.mask = openSpooled(form.mask);
          return imageEdit(params as ImageEditParams);
        });
        return format === "url" ? await toHostedUrls(response, ctx, request) : response;
      } finally {
        await form.cleanup();
      }
    });
  }
}
