import { BadGatewayError, BadRequestError } from "../errors.js";
import type { EmbeddingResult } from "../providers/index.js";
import type { VectorList } from "../providers/vectors.js";
import type { Embedding, EmbeddingInput, EmbeddingParams, EmbeddingResponse } from "../types.js";
import { extrasOf, prepareCall } from "./call.js";
import { linkedController, mapConcurrent } from "./concurrency.js";
import { embeddingChunks, embeddingItems } from "./embedding-input.js";
import { optionalInteger } from "./validate.js";

/** Inputs per upstream request when `max_batch_size` is not given. */
export const DEFAULT_MAX_BATCH_SIZE = 256;
/** Upstream requests in flight at once for one call, when `max_concurrency` is not given. */
export const DEFAULT_MAX_CONCURRENCY = 4;

const OWN = ["model", "input", "encoding_format", "dimensions", "user", "max_batch_size", "max_concurrency"];

function encodingFormat(value: unknown): "float" | "base64" {
  if (value === undefined || value === null || value === "float") return "float";
  if (value === "base64") return "base64";
  throw new BadRequestError(`encoding_format must be "float" or "base64", not ${JSON.stringify(value)}.`, {
    param: "encoding_format",
  });
}

function optionalString(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new BadRequestError(`${param} must be a string.`, { param });
  return value;
}

/** The upstream answers of one embedding call, in input order, ready to be written either way. */
export interface Embeddings {
  /** The OpenAI-shaped response as objects: what `embedding()` returns. */
  response(model: string): EmbeddingResponse;
  /** The same response as JSON bytes, written from the vectors' own text or bytes (see providers/vectors.ts). */
  json(model: string): Buffer;
}

function embeddingsOf(results: readonly EmbeddingResult[], format: "float" | "base64"): Embeddings {
  const usage = { prompt_tokens: 0, total_tokens: 0 };
  for (const result of results) {
    usage.prompt_tokens += result.usage.prompt_tokens;
    usage.total_tokens += result.usage.total_tokens;
  }
  const base64 = (vectors: VectorList, i: number): string => vectors.float32(i).toString("base64");
  return {
    response(model) {
      const data: Embedding[] = [];
      for (const { vectors } of results) {
        for (let i = 0; i < vectors.length; i++) {
          data.push({ object: "embedding", index: data.length, embedding: format === "base64" ? base64(vectors, i) : vectors.numbers(i) });
        }
      }
      return { object: "list", data, model, usage: { ...usage } };
    },
    json(model) {
      // Byte for byte what JSON.stringify(response(model)) gives, up to how each float is spelled.
      const parts: Buffer[] = [Buffer.from('{"object":"list","data":[')];
      let index = 0;
      for (const { vectors } of results) {
        for (let i = 0; i < vectors.length; i++, index++) {
          const head = `${index === 0 ? "" : ","}{"object":"embedding","index":${index},"embedding":`;
          if (format === "base64") parts.push(Buffer.from(`${head}"${base64(vectors, i)}"}`));
          else parts.push(Buffer.from(`${head}[`), vectors.jsonElements(i), CLOSE_VECTOR);
        }
      }
      parts.push(Buffer.from(`],"model":${JSON.stringify(model)},"usage":${JSON.stringify(usage)}}`));
      return Buffer.concat(parts);
    },
  };
}

const CLOSE_VECTOR = Buffer.from("]}");

/**
 * The embedding call itself, shared by `embedding()` and the proxy (which writes `json()` as its response
 * instead of having objects of floats serialised again).
 */
export async function createEmbeddings(params: EmbeddingParams): Promise<Embeddings> {
  const items = embeddingItems(params.input);
  const format = encodingFormat(params.encoding_format);
  const dimensions = optionalInteger(params.dimensions, "dimensions", 1);
  const user = optionalString(params.user, "user");
  const batchSize = optionalInteger(params.max_batch_size, "max_batch_size", 1) ?? DEFAULT_MAX_BATCH_SIZE;
  const concurrency = optionalInteger(params.max_concurrency, "max_concurrency", 1) ?? DEFAULT_MAX_CONCURRENCY;

  const chunks = embeddingChunks(params.input, items, batchSize);
  // One failed chunk cancels the others: the call fails anyway, and their upstream work would be wasted. A
  // single chunk has no others, so it takes the caller's signal as it is: each AbortController costs ~5 µs in
  // Node 20 and pushes V8 into frequent full GCs, a large share of the proxy's CPU per small request.
  const { controller, dispose } = chunks.length > 1 ? linkedController(params.signal) : { controller: undefined, dispose: undefined };
  try {
    const call = prepareCall(params, controller?.signal);
    const extras = extrasOf(params, OWN);
    const embedChunk = async (chunk: { input: EmbeddingInput; count: number }): Promise<EmbeddingResult> => {
      const result = await call.provider.embedding(
        { uid: call.uid, dropParams: call.dropParams, extras, input: chunk.input, dimensions, user, float32: format === "base64" },
        call.client,
      );
      if (result.vectors.length !== chunk.count) {
        throw new BadGatewayError(
          `${call.client.target.label} returned ${result.vectors.length} embeddings for ${chunk.count} inputs.`,
          { provider: call.provider.name, code: "bad_response", origin: "upstream" },
        );
      }
      return result;
    };
    const results = await mapConcurrent(chunks, concurrency, embedChunk).catch((err: unknown) => {
      controller?.abort(err);
      throw err;
    });
    return embeddingsOf(results, format);
  } finally {
    dispose?.();
  }
}

/**
 * Creates embeddings, OpenAI-shaped. Large inputs are split into upstream requests of `max_batch_size` inputs
 * (default 256), `max_concurrency` (default 4) at a time; the answer keeps the input order and sums the usage.
 * `encoding_format: "base64"` is encoded here (Xinference always answers floats).
 *
 * @example
 * import { embedding } from "xgate";
 * const res = await embedding({ model: "xinference/bge-base-en", input: ["hello", "world"] });
 * res.data[0].embedding; // number[] of 768 floats
 */
export async function embedding(params: EmbeddingParams): Promise<EmbeddingResponse> {
  return (await createEmbeddings(params)).response(params.model);
}
