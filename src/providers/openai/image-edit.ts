/**
 * Image edits as OpenAI's API defines them: multipart, one image as `image` or several as `image[]` (as the
 * openai client sends them), an optional `mask`, the other parameters as fields — extras included, as text
 * (JSON for what is not a string). Without a size the server keeps the input's own.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { encodeMultipart, type MultipartPart } from "../../upstream/multipart.js";
import { decodeImageList } from "../image-body.js";
import type { ImageEditRequest, ImageResult } from "../types.js";

function fieldValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export async function imageEdit(request: ImageEditRequest, client: UpstreamClient): Promise<ImageResult> {
  const fields: Record<string, unknown> = {
    ...request.extras,
    model: request.uid,
    prompt: request.prompt,
    n: request.n,
    size: request.size === "original" ? undefined : `${request.size.width}x${request.size.height}`,
    response_format: "b64_json",
    quality: request.quality,
    user: request.user,
  };
  const parts: MultipartPart[] = Object.entries(fields)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => ({ name, value: fieldValue(value) }));
  const imageField = request.images.length === 1 ? "image" : "image[]";
  parts.push(...request.images.map((file) => ({ name: imageField, file, defaultName: "image" })));
  if (request.mask !== undefined) parts.push({ name: "mask", file: request.mask });
  const files = request.mask === undefined ? request.images : [...request.images, request.mask];
  const decode = (bytes: Buffer): ImageResult => decodeImageList(bytes, client.target);
  return client.sendDecoded({ method: "POST", path: "/images/edits", multipart: encodeMultipart(parts) }, decode, files);
}
