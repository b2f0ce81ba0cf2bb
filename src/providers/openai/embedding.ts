/**
 * Embeddings in the OpenAI wire format: the request as OpenAI defines it (extras go in the body, as vLLM's
 * own parameters such as `truncate_prompt_tokens` do), and base64 asked for when the answer is to be base64,
 * since an OpenAI server encodes it itself: its float32 bytes then pass through without a conversion.
 */
import { BadRequestError } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { decodeEmbeddingBody, embeddingResult } from "../embedding-answer.js";
import type { EmbeddingRequest, EmbeddingResult } from "../types.js";

export async function embedding(request: EmbeddingRequest, client: UpstreamClient): Promise<EmbeddingResult> {
  // Extras first: they must not replace the request's own fields.
  const body: Record<string, unknown> = { ...request.extras, model: request.uid, input: request.input };
  if (request.float32 === true) body.encoding_format = "base64";
  if (request.dimensions !== undefined) body.dimensions = request.dimensions;
  if (request.user !== undefined) body.user = request.user;
  const answer = await client.sendDecoded({ method: "POST", path: "/embeddings", json: body }, (bytes) =>
    decodeEmbeddingBody(bytes, request.float32 === true),
  );
  const result = embeddingResult(answer, client.target);
  const wanted = request.dimensions;
  let other: number | undefined;
  for (let i = 0; wanted !== undefined && other === undefined && i < result.vectors.length; i++) {
    if (result.vectors.size(i) !== wanted) other = result.vectors.size(i);
  }
  if (other !== undefined) {
    // A server that ignores `dimensions` must not hand out vectors of a length the caller did not ask for.
    throw new BadRequestError(
      `${client.target.provider}/${request.uid} returned ${other}-dimensional embeddings, not the ${wanted} asked for with ` +
        "`dimensions`: the model or its server does not shorten its vectors. Leave out `dimensions`, or use a model that supports it.",
      { provider: client.target.provider, param: "dimensions", code: "dimensions_mismatch" },
    );
  }
  return result;
}
