import type { ImageGenerationParams, ImageResponse } from "../types.js";
import { extrasOf, prepareCall } from "./call.js";
import { imageCount, imageSize, requiredString, responseFormat } from "./validate.js";

const OWN = ["model", "prompt", "n", "size", "response_format", "quality", "style", "user"];

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
  const prompt = requiredString(params.prompt, "prompt", '"a lighthouse at dawn"');
  const n = imageCount(params.n);
  const size = imageSize(params.size);
  const format = responseFormat(params.response_format);
  const call = prepareCall(params);
  return call.provider.imageGeneration(
    {
      uid: call.uid,
      dropParams: call.dropParams,
      extras: extrasOf(params, OWN),
      prompt,
      n,
      size,
      response_format: format,
      quality: params.quality,
      style: params.style,
      user: params.user,
    },
    call.client,
  );
}
