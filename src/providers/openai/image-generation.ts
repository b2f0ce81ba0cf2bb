/**
 * Image generation in the OpenAI wire format. Every parameter goes as it is (quality, style, user, and extras
 * such as vLLM-Omni's `negative_prompt`, `num_inference_steps` or `seed`); the answer is always asked as
 * base64, and a client's `url` is served by xgate, as for any provider.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { decodeImageList } from "../image-body.js";
import type { ImageGenerationRequest, ImageResult } from "../types.js";

export async function imageGeneration(request: ImageGenerationRequest, client: UpstreamClient): Promise<ImageResult> {
  const body: Record<string, unknown> = { ...request.extras, model: request.uid, prompt: request.prompt, response_format: "b64_json" };
  if (request.n !== undefined) body.n = request.n;
  if (request.size !== undefined) body.size = `${request.size.width}x${request.size.height}`;
  for (const [name, value] of Object.entries({ quality: request.quality, style: request.style, user: request.user })) {
    if (value !== undefined && value !== null) body[name] = value;
  }
  return client.sendDecoded({ method: "POST", path: "/images/generations", json: body }, (bytes) => decodeImageList(bytes, client.target));
}
