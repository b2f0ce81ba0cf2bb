import { embeddings } from "../operations/index.js";
import type { EmbeddingParams, EmbeddingResponse } from "../types.js";
import { callOperation } from "./call.js";

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
  return (await callOperation(embeddings, params)).response(params.model);
}
