/** Image generation: a prompt to images. Extras such as negative_prompt or num_inference_steps go to the model. */
import type { ImageGenerationRequest } from "../providers/index.js";
import { createUpstreamClient } from "../upstream/client.js";
import { type Images, imagesOf } from "./images.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { imageCount, imageSize, requiredString, responseFormat } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["prompt", "n", "size", "response_format", "quality", "style", "user"]);

/** An image generation, checked: the provider's request before the target fills in uid and drop_params. */
export type ImageGenerationCall = Omit<ImageGenerationRequest, "uid" | "dropParams">;

export function parseImageGeneration(raw: RawParams): ImageGenerationCall {
  return {
    prompt: requiredString(raw.prompt, "prompt", '"a lighthouse at dawn"'),
    n: imageCount(raw.n),
    size: imageSize(raw.size),
    response_format: responseFormat(raw.response_format),
    quality: raw.quality,
    style: raw.style,
    user: raw.user,
    extras: extrasOf(raw, OWN),
  };
}

export async function runImageGeneration(request: ImageGenerationCall, target: OperationTarget): Promise<Images> {
  const result = await target.provider.imageGeneration(
    { ...request, uid: target.uid, dropParams: target.dropParams, extras: mergedExtras(target, request.extras) },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  return imagesOf(result, request.response_format);
}
