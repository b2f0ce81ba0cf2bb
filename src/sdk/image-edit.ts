import { imageEdit as operation } from "../operations/index.js";
import type { ImageEditParams, ImageResponse } from "../types.js";
import { callOperation } from "./call.js";

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
  return (await callOperation(operation, params)).response();
}
