/**
 * Embeddings: one call may be split into several upstream requests (`max_batch_size` inputs each,
 * `max_concurrency` at a time); the answer keeps the input order and sums the usage. `encoding_format:
 * "base64"` is encoded here when the provider answered floats (Xinference always does).
 */
import { BadGatewayError, BadRequestError } from "../errors.js";
import type { EmbeddingResult } from "../providers/index.js";
import type { VectorList } from "../providers/vectors.js";
import type { Embedding, EmbeddingInput, EmbeddingResponse } from "../types.js";
import { createUpstreamClient } from "../upstream/client.js";
import { linkedController, mapConcurrent } from "./concurrency.js";
import { embeddingChunks, embeddingItems } from "./embedding-input.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { optionalInteger, optionalString } from "./validate.js";

/** Inputs per upstream request when `max_batch_size` is not given. */
export const DEFAULT_MAX_BATCH_SIZE = 256;
/** Upstream requests in flight at once for one call, when `max_concurrency` is not given. */
export const DEFAULT_MAX_CONCURRENCY = 4;

const OWN: ReadonlySet<string> = new Set(["input", "encoding_format", "dimensions", "user", "max_batch_size", "max_concurrency"]);

export type EncodingFormat = "float" | "base64";

/** An embedding call, checked. */
export interface EmbeddingsRequest {
  input: EmbeddingInput;
  /** The inputs one by one. */
  items: string[] | number[][];
  format: EncodingFormat;
  dimensions: number | undefined;
  user: string | undefined;
  extras: Record<string, unknown>;
  batchSize: number;
  concurrency: number;
}

function encodingFormat(value: unknown): EncodingFormat {
  if (value === undefined || value === null || value === "float") return "float";
  if (value === "base64") return "base64";
  throw new BadRequestError(`encoding_format must be "float" or "base64", not ${JSON.stringify(value)}.`, {
    param: "encoding_format",
  });
}

export function parseEmbeddings(raw: RawParams): EmbeddingsRequest {
  return {
    input: raw.input as EmbeddingInput,
    items: embeddingItems(raw.input),
    format: encodingFormat(raw.encoding_format),
    dimensions: optionalInteger(raw.dimensions, "dimensions", 1),
    user: optionalString(raw.user, "user"),
    extras: extrasOf(raw, OWN),
    batchSize: optionalInteger(raw.max_batch_size, "max_batch_size", 1) ?? DEFAULT_MAX_BATCH_SIZE,
    concurrency: optionalInteger(raw.max_concurrency, "max_concurrency", 1) ?? DEFAULT_MAX_CONCURRENCY,
  };
}

/** The upstream answers of one embedding call, in input order, ready to be written either way. */
export interface Embeddings {
  /** The OpenAI-shaped response as objects: what `embedding()` returns. */
  response(model: string): EmbeddingResponse;
  /** The same response as JSON bytes, written from the vectors' own text or bytes (see providers/vectors.ts). */
  json(model: string): Buffer;
  /** Tokens the inputs used, as the upstream counted them. */
  readonly totalTokens: number;
}

const CLOSE_VECTOR = Buffer.from("]}");
const CLOSE_STRING = Buffer.from('"}');
export const ANSWER_HEAD = Buffer.from('{"object":"list","data":[');

/** Vector `i`'s float32s as base64: the text as it arrived when it came so, else encoded here. */
function base64Bytes(vectors: VectorList, i: number): Buffer {
  return vectors.base64?.(i) ?? Buffer.from(vectors.float32(i).toString("base64"), "latin1");
}

function base64(vectors: VectorList, i: number): string {
  return vectors.base64?.(i).toString("latin1") ?? vectors.float32(i).toString("base64");
}

/**
 * What item `i`'s answer is written from: its float32 bytes for base64, else its float text (the numbers
 * between the brackets, copied as they came).
 */
export function representation(vectors: VectorList, i: number, format: EncodingFormat): Buffer {
  return format === "base64" ? vectors.float32(i) : vectors.jsonElements(i);
}

/**
 * Item `index` of the answer as JSON bytes, from its representation (above). Byte for byte what
 * JSON.stringify of the item gives, up to how each float is spelled.
 */
export function itemBytes(index: number, format: EncodingFormat, written: Buffer): Buffer[] {
  const head = `${index === 0 ? "" : ","}{"object":"embedding","index":${index},"embedding":`;
  if (format === "base64") return [Buffer.from(`${head}"`), Buffer.from(written.toString("base64"), "latin1"), CLOSE_STRING];
  return [Buffer.from(`${head}[`), written, CLOSE_VECTOR];
}

/**
 * Item `index` of the answer as JSON bytes, from vector `i` of a result: as itemBytes writes it, but base64
 * that arrived as base64 is copied as it came, never decoded and encoded again.
 */
export function itemParts(vectors: VectorList, i: number, index: number, format: EncodingFormat): Buffer[] {
  if (format !== "base64") return itemBytes(index, format, vectors.jsonElements(i));
  const head = `${index === 0 ? "" : ","}{"object":"embedding","index":${index},"embedding":"`;
  return [Buffer.from(head), base64Bytes(vectors, i), CLOSE_STRING];
}

/** The end of the answer, after its items: the model the client asked for, and the usage summed over chunks. */
export function answerTail(model: string, usage: { prompt_tokens: number; total_tokens: number }): Buffer {
  return Buffer.from(`],"model":${JSON.stringify(model)},"usage":${JSON.stringify(usage)}}`);
}

export function sumUsage(results: readonly EmbeddingResult[]): { prompt_tokens: number; total_tokens: number } {
  const usage = { prompt_tokens: 0, total_tokens: 0 };
  for (const result of results) {
    usage.prompt_tokens += result.usage.prompt_tokens;
    usage.total_tokens += result.usage.total_tokens;
  }
  return usage;
}

export function embeddingsOf(results: readonly EmbeddingResult[], format: EncodingFormat): Embeddings {
  const usage = sumUsage(results);
  return {
    totalTokens: usage.total_tokens,
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
      const parts: Buffer[] = [ANSWER_HEAD];
      let index = 0;
      for (const { vectors } of results) {
        for (let i = 0; i < vectors.length; i++, index++) parts.push(...itemParts(vectors, i, index, format));
      }
      parts.push(answerTail(model, usage));
      return Buffer.concat(parts);
    },
  };
}

/** One upstream request of a call: its inputs, and how many they are. */
export type EmbeddingChunk = { input: EmbeddingInput; count: number };

/** The upstream requests of a call: its inputs as they are when they fit in one, else slices of `max_batch_size`. */
export function chunksOf(request: EmbeddingsRequest): EmbeddingChunk[] {
  return embeddingChunks(request.input, request.items, request.batchSize);
}

/** How to make one upstream request of a call on the target, under `signal` (which cancels its siblings too). */
export function chunkCaller(
  request: EmbeddingsRequest,
  target: OperationTarget,
  signal: AbortSignal | undefined,
): (chunk: EmbeddingChunk) => Promise<EmbeddingResult> {
  const upstream = signal === target.upstream.signal ? target.upstream : { ...target.upstream, signal };
  const client = createUpstreamClient(upstream, target.provider.toError);
  const extras = mergedExtras(target, request.extras);
  const float32 = request.format === "base64";
  const embedChunk = async (chunk: EmbeddingChunk): Promise<EmbeddingResult> => {
    const result = await target.provider.embedding(
      { uid: target.uid, dropParams: target.dropParams, extras, input: chunk.input, dimensions: request.dimensions, user: request.user, float32 },
      client,
    );
    if (result.vectors.length !== chunk.count) {
      throw new BadGatewayError(`${upstream.label} returned ${result.vectors.length} embeddings for ${chunk.count} inputs.`, {
        provider: target.provider.name,
        code: "bad_response",
        origin: "upstream",
      });
    }
    return result;
  };
  return embedChunk;
}

export async function runEmbeddings(request: EmbeddingsRequest, target: OperationTarget): Promise<Embeddings> {
  const chunks = chunksOf(request);
  // One failed chunk cancels the others: the call fails anyway, and their upstream work would be wasted. A
  // single chunk has no others, so it takes the caller's signal as it is: each AbortController costs ~5 µs in
  // Node 20 and pushes V8 into frequent full GCs, a large share of the proxy's CPU per small request.
  const linked = chunks.length === 1 ? undefined : linkedController(target.upstream.signal);
  try {
    const embedChunk = chunkCaller(request, target, linked?.controller.signal ?? target.upstream.signal);
    const results = await mapConcurrent(chunks, request.concurrency, embedChunk).catch((err: unknown) => {
      linked?.controller.abort(err);
      throw err;
    });
    return embeddingsOf(results, request.format);
  } finally {
    linked?.dispose();
  }
}
