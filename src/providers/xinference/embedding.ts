/** Embeddings: OpenAI's request to Xinference's `POST /v1/embeddings` and its answer back to float vectors. */
import { BadRequestError } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { decodeEmbeddingBody, embeddingResult } from "../embedding-answer.js";
import type { EmbeddingRequest, EmbeddingResult } from "../types.js";
import type { VectorList } from "../vectors.js";
import { embeddingModelsWithDimensions } from "./catalog.js";
import { PROVIDER } from "./constants.js";

/** Xinference hands `dimensions` to the engine, which may ignore it: vectors of another length must not pass. */
function checkDimensions(request: EmbeddingRequest, vectors: VectorList): void {
  const wanted = request.dimensions;
  if (wanted === undefined) return;
  let other: number | undefined;
  for (let i = 0; i < vectors.length && other === undefined; i++) if (vectors.size(i) !== wanted) other = vectors.size(i);
  if (other === undefined) return;
  const alternatives = embeddingModelsWithDimensions(wanted);
  throw new BadRequestError(
    `xinference/${request.uid} returns ${other}-dimensional embeddings, not the ${wanted} asked for with ` +
      "`dimensions`. In Xinference the vector size is a launch-time setting of the model, not a request parameter: " +
      `leave out \`dimensions\`, or launch a model that returns ${wanted} dimensions` +
      (alternatives.length > 0 ? ` (builtin: ${alternatives.join(", ")}).` : "."),
    { provider: PROVIDER, param: "dimensions", code: "dimensions_mismatch" },
  );
}

export async function embedding(request: EmbeddingRequest, client: UpstreamClient): Promise<EmbeddingResult> {
  // Extras first: Xinference hands unknown keys to the engine as kwargs, but they must not replace our fields.
  const body: Record<string, unknown> = { ...request.extras, model: request.uid, input: request.input };
  if (request.dimensions !== undefined) body.dimensions = request.dimensions;
  if (request.user !== undefined) body.user = request.user;
  const answer = await client.sendDecoded({ method: "POST", path: "/embeddings", json: body }, (bytes) =>
    decodeEmbeddingBody(bytes, request.float32 === true),
  );
  const result = embeddingResult(answer, client.target);
  checkDimensions(request, result.vectors);
  return result;
}
