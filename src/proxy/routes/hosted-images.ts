import type { FastifyInstance, FastifyRequest } from "fastify";
import { createReadStream } from "node:fs";
import { NotFoundError } from "../../errors.js";
import type { ImageStore } from "../files/image-store.js";

const HOSTED_PATH = "/v1/files/images/";

export function hostedImageUrl(publicBaseUrl: string | undefined, request: FastifyRequest, name: string): string {
  const base = publicBaseUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, "")}${HOSTED_PATH}${name}`;
}

/** Hosted images need no key: the unguessable name is the capability, so browsers and <img> tags can fetch them. */
export function hostedImageRoutes(app: FastifyInstance, images: ImageStore): void {
  app.get<{ Params: { name: string } }>(`${HOSTED_PATH}:name`, { config: { public: true } }, async (request, reply) => {
    const image = await images.get(request.params.name);
    if (!image) {
      throw new NotFoundError("No such image, or it has expired (general_settings.image_url_ttl_seconds).", {
        code: "image_not_found",
      });
    }
    const maxAge = Math.max(0, Math.floor((image.expiresAt - Date.now()) / 1000));
    reply.header("content-type", image.contentType);
    reply.header("content-length", image.size);
    reply.header("cache-control", `private, max-age=${maxAge}`);
    return reply.send(createReadStream(image.path));
  });
}
