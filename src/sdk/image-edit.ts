import { BadRequestError } from "../errors.js";
import type { ImageEditParams, ImageResponse } from "../types.js";
import { fileSource } from "../upstream/files.js";
import type { FileSource } from "../upstream/files.js";
import { extrasOf, prepareCall } from "./call.js";
import { imageCount, imageSize, requiredString, responseFormat } from "./validate.js";

const OWN = ["model", "image", "mask", "prompt", "n", "size", "response_format", "quality", "user"];

function imageSources(image: unknown, sources: FileSource[]): FileSource[] {
  if (image === undefined || image === null || (Array.isArray(image) && image.length === 0)) {
    throw new BadRequestError(
      "image is required: the image to edit (a Buffer, Blob/File, readable stream or { data, filename }), or an array of them.",
      { param: "image" },
    );
  }
  const images: FileSource[] = [];
  if (Array.isArray(image)) {
    image.forEach((item: unknown, i) => {
      const source = fileSource(item, `image[${i}]`);
      sources.push(source);
      images.push(source);
    });
  } else {
    const source = fileSource(image, "image");
    sources.push(source);
    images.push(source);
  }
  return images;
}

function maskSource(mask: unknown, sources: FileSource[]): FileSource | undefined {
  if (mask === undefined || mask === null) return undefined;
  if (Array.isArray(mask)) throw new BadRequestError("mask takes one image, not an array.", { param: "mask" });
  const source = fileSource(mask, "mask");
  sources.push(source);
  return source;
}

/**
 * Edits an image from a prompt: one image or several (the first is edited, the others are references), and an
 * optional `mask` for inpainting. Each image may be a Buffer, a Blob/File, a readable stream (an
 * `fs.ReadStream` keeps its file name and can be re-read for a retry) or `{ data, filename?, contentType? }`.
 * Files are streamed, never held whole in memory. Streams passed in are consumed: xgate closes them when the
 * call ends. `size` defaults to the input's own size.
 *
 * @example
 * import { createReadStream } from "node:fs";
 * import { imageEdit } from "xgate";
 * const res = await imageEdit({
 *   model: "xinference/stabilityai/stable-diffusion-3.5-large",
 *   image: createReadStream("cat.png"),
 *   prompt: "the cat wearing a red hat",
 * });
 */
export async function imageEdit(params: ImageEditParams): Promise<ImageResponse> {
  const sources: FileSource[] = [];
  try {
    const images = imageSources(params.image, sources);
    const mask = maskSource(params.mask, sources);
    const prompt = requiredString(params.prompt, "prompt", '"make it snow"');
    const n = imageCount(params.n);
    const size = params.size === "original" ? "original" : (imageSize(params.size) ?? "original");
    const format = responseFormat(params.response_format);
    const call = prepareCall(params);
    return await call.provider.imageEdit(
      {
        uid: call.uid,
        dropParams: call.dropParams,
        extras: extrasOf(params, OWN),
        images,
        mask,
        prompt,
        n,
        size,
        response_format: format,
        quality: params.quality,
        user: params.user,
      },
      call.client,
    );
  } finally {
    for (const source of sources) source.dispose();
  }
}
