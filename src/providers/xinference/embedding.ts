/** Embeddings: OpenAI's request to Xinference's `POST /v1/embeddings` and its answer back to float vectors. */
import { BadRequestError } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { EmbeddingRequest, EmbeddingResult } from "../types.js";
import { embeddingModelsWithDimensions } from "./catalog.js";
import { LABEL, PROVIDER } from "./constants.js";

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((x) => typeof x === "number");
}

function parse(json: unknown): EmbeddingResult {
  if (!isRecord(json) || !Array.isArray(json.data)) throw unexpectedResponse(PROVIDER, LABEL, "no `data` list");
  const vectors: number[][] = [];
  json.data.forEach((item: unknown, position) => {
    if (!isRecord(item) || !isVector(item.embedding)) {
      throw unexpectedResponse(PROVIDER, LABEL, `data[${position}] holds no list of floats`);
    }
    const index = typeof item.index === "number" ? item.index : position;
    vectors[index] = item.embedding;
  });
  for (let i = 0; i < json.data.length; i++) {
    if (vectors[i] === undefined) throw unexpectedResponse(PROVIDER, LABEL, `no embedding with index ${i}`);
  }
  const usage = isRecord(json.usage) ? json.usage : {};
  const promptTokens = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0;
  const totalTokens = typeof usage.total_tokens === "number" ? usage.total_tokens : promptTokens;
  return { vectors, usage: { prompt_tokens: promptTokens, total_tokens: totalTokens } };
}

/** Xinference hands `dimensions` to the engine, which may ignore it: vectors of another length must not pass. */
function checkDimensions(request: EmbeddingRequest, vectors: number[][]): void {
  const wanted = request.dimensions;
  const other = wanted === undefined ? undefined : vectors.find((v) => v.length !== wanted);
  if (wanted === undefined || other === undefined) return;
  const alternatives = embeddingModelsWithDimensions(wanted);
  throw new BadRequestError(
    `xinference/${request.uid} returns ${other.length}-dimensional embeddings, not the ${wanted} asked for with ` +
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
  const result = parse(await client.send({ method: "POST", path: "/embeddings", json: body }));
  checkDimensions(request, result.vectors);
  return result;
}
