/**
 * Image edits: multipart to Xinference's `POST /v1/images/edits` (since v1.11), images under the field it
 * declares (`images`, repeated; the first is edited, the rest are references) and an optional `mask`, which
 * makes it inpainting. The route reads no `kwargs`, so extras cannot be passed on.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { encodeMultipart } from "../../upstream/multipart.js";
import type { MultipartPart } from "../../upstream/multipart.js";
import { decodeImageList } from "../image-body.js";
import type { ImageEditRequest, ImageResult } from "../types.js";
import { rejectUnsupported } from "../unsupported.js";
import { PROVIDER } from "./constants.js";
import { xinferenceSize } from "./images.js";

export async function imageEdit(request: ImageEditRequest, client: UpstreamClient): Promise<ImageResult> {
  rejectUnsupported(
    PROVIDER,
    "image edits",
    { quality: request.quality, user: request.user, ...request.extras },
    request.dropParams,
  );
  const parts: MultipartPart[] = [
    { name: "model", value: request.uid },
    { name: "prompt", value: request.prompt },
    { name: "n", value: String(request.n ?? 1) },
    { name: "size", value: request.size === "original" ? "original" : xinferenceSize(request.size) },
    { name: "response_format", value: "b64_json" },
    ...request.images.map((file) => ({ name: "images", file, defaultName: "image" })),
  ];
  if (request.mask !== undefined) parts.push({ name: "mask", file: request.mask });
  const files = request.mask === undefined ? request.images : [...request.images, request.mask];
  const decode = (bytes: Buffer): ImageResult => decodeImageList(bytes, client.target);
  return client.sendDecoded({ method: "POST", path: "/images/edits", multipart: encodeMultipart(parts) }, decode, files);
}
