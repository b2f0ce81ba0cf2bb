/**
 * Image generation: OpenAI's request to Xinference's `POST /v1/images/generations`. Extras such as
 * negative_prompt, num_inference_steps, guidance_scale or seed travel in Xinference's `kwargs` JSON string.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { decodeImageList } from "../image-body.js";
import type { ImageGenerationRequest, ImageResult } from "../types.js";
import { rejectUnsupported } from "../unsupported.js";
import { PROVIDER } from "./constants.js";
import { xinferenceSize } from "./images.js";
import { kwargsString } from "./kwargs.js";

export async function imageGeneration(request: ImageGenerationRequest, client: UpstreamClient): Promise<ImageResult> {
  // As in LiteLLM: Xinference takes none of these (its `user` field is accepted and ignored).
  rejectUnsupported(
    PROVIDER,
    "image generation",
    { quality: request.quality, style: request.style, user: request.user },
    request.dropParams,
  );
  const body: Record<string, unknown> = {
    model: request.uid,
    prompt: request.prompt,
    // Always base64: Xinference's own `url` is a file path on its worker that nothing serves.
    response_format: "b64_json",
  };
  if (request.n !== undefined) body.n = request.n;
  if (request.size !== undefined) body.size = xinferenceSize(request.size);
  const kwargs = kwargsString(request.extras);
  if (kwargs !== undefined) body.kwargs = kwargs;
  return client.sendDecoded({ method: "POST", path: "/images/generations", json: body }, (bytes) =>
    decodeImageList(bytes, client.target),
  );
}
