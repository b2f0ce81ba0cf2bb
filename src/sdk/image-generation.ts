import { imageGeneration as operation } from "../operations/index.js";
import type { ImageGenerationParams, ImageResponse } from "../types.js";
import { callOperation } from "./call.js";

/**
 * Generates images from a prompt. `response_format` defaults to `b64_json`; `url` answers `data:` URLs
 * (Xinference's own URLs are file paths on its worker). Extras such as `negative_prompt`,
 * `num_inference_steps`, `guidance_scale` or `seed` go to the model.
 *
 * @example
 * import { imageGeneration } from "xgate";
 * const res = await imageGeneration({
 *   model: "xinference/stabilityai/stable-diffusion-3.5-large",
 *   prompt: "a lighthouse at dawn",
 *   size: "1024x1024",
 *   negative_prompt: "blurry",
 * });
 * const png = Buffer.from(res.data[0].b64_json!, "base64");
 */
export async function imageGeneration(params: ImageGenerationParams): Promise<ImageResponse> {
  return (await callOperation(operation, params)).response();
}
