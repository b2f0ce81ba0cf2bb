/**
 * Image edits: one image or several (the first is edited, the others are references) and an optional mask
 * for inpainting, as files that are streamed, never held whole in memory.
 */
import { BadRequestError } from "../errors.js";
import type { ImageEditRequest } from "../providers/index.js";
import { createUpstreamClient } from "../upstream/client.js";
import { type Images, imagesOf } from "./images.js";
import { fileSource, type FileSource } from "../upstream/files.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { imageCount, imageSize, requiredString, responseFormat } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["image", "mask", "prompt", "n", "size", "response_format", "quality", "user"]);

/** An image edit, checked: the provider's request before the target fills in uid and drop_params. */
export type ImageEditCall = Omit<ImageEditRequest, "uid" | "dropParams">;

function imageSources(image: unknown): FileSource[] {
  if (image === undefined || image === null || (Array.isArray(image) && image.length === 0)) {
    throw new BadRequestError(
      "image is required: the image to edit (a Buffer, Blob/File, readable stream or { data, filename }), or an array of them.",
      { param: "image" },
    );
  }
  if (!Array.isArray(image)) return [fileSource(image, "image")];
  const sources: FileSource[] = [];
  try {
    image.forEach((item: unknown, i) => sources.push(fileSource(item, `image[${i}]`)));
  } catch (err) {
    for (const source of sources) source.dispose();
    throw err;
  }
  return sources;
}

function maskSource(mask: unknown): FileSource | undefined {
  if (mask === undefined || mask === null) return undefined;
  if (Array.isArray(mask)) throw new BadRequestError("mask takes one image, not an array.", { param: "mask" });
  return fileSource(mask, "mask");
}

/** Releases the request's files (streams the caller handed over and that were not fully read). */
export function disposeImageEdit(request: Pick<ImageEditCall, "images" | "mask">): void {
  for (const source of request.images) source.dispose();
  request.mask?.dispose();
}

/** The caller's streams are closed when the call ends, also when it is refused here. */
export function parseImageEdit(raw: RawParams): ImageEditCall {
  const images = imageSources(raw.image);
  let mask: FileSource | undefined;
  try {
    mask = maskSource(raw.mask);
    const size = raw.size === "original" ? "original" : (imageSize(raw.size) ?? "original");
    return {
      images,
      mask,
      prompt: requiredString(raw.prompt, "prompt", '"make it snow"'),
      n: imageCount(raw.n),
      size,
      response_format: responseFormat(raw.response_format),
      quality: raw.quality,
      user: raw.user,
      extras: extrasOf(raw, OWN),
    };
  } catch (err) {
    disposeImageEdit({ images, mask });
    throw err;
  }
}

export async function runImageEdit(request: ImageEditCall, target: OperationTarget): Promise<Images> {
  const result = await target.provider.imageEdit(
    { ...request, uid: target.uid, dropParams: target.dropParams, extras: mergedExtras(target, request.extras) },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  return imagesOf(result, request.response_format);
}
