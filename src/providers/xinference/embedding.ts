/** Embeddings: OpenAI's request to Xinference's `POST /v1/embeddings` and its answer back to float vectors. */
import { BadRequestError } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { parseJsonBody } from "../../upstream/http.js";
import { type ScannedEmbeddingBody, scanEmbeddingBody } from "../embedding-body.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { EmbeddingRequest, EmbeddingResult } from "../types.js";
import { numberVectors, type VectorList } from "../vectors.js";
import { embeddingModelsWithDimensions } from "./catalog.js";
import { LABEL, PROVIDER } from "./constants.js";

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((x) => typeof x === "number");
}

interface ParsedBody {
  vectors: number[][];
  usage: EmbeddingResult["usage"];
}

/** The checks on a parsed body, or on a scanned body's skeleton (where each vector is a placeholder `[k]`). */
function parse(json: unknown): ParsedBody {
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
    decodeBody(bytes, request.float32 === true),
  );
  const parsed = parse(answer.scanned?.skeleton ?? answer.json);
  const vectors =
    answer.scanned === undefined
      ? numberVectors(parsed.vectors)
      : answer.scanned.vectors(parsed.vectors.map((placeholder) => placeholder[0] as number));
  checkDimensions(request, vectors);
  return { vectors, usage: parsed.usage };
}

/** The body scanned without parsing its floats when it has the usual shape, else parsed (see embedding-body.ts). */
function decodeBody(body: Buffer, float32: boolean): { scanned?: ScannedEmbeddingBody; json?: unknown } {
  const scanned = scanEmbeddingBody(body, { float32 });
  return scanned === undefined ? { json: parseJsonBody(body) } : { scanned };
}
