/**
 * An OpenAI-shaped embedding answer (`{"data": [{"index", "embedding"}, …], "usage"}`) read into vectors, as
 * every provider that speaks it answers: float lists, scanned without being parsed when the body has the usual
 * shape (embedding-body.ts), or base64 strings of little-endian float32, as an OpenAI server answers
 * `encoding_format: "base64"`.
 */
import { parseJsonBody } from "../upstream/http.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { type ScannedEmbeddingBody, scanEmbeddingBody } from "./embedding-body.js";
import { isBase64 } from "./image-body.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import type { EmbeddingResult } from "./types.js";
import { float32Vectors, numberVectors } from "./vectors.js";

/** The body as the attempt decoded it: scanned when it has the usual shape, else parsed. */
export interface EmbeddingBody {
  scanned?: ScannedEmbeddingBody;
  json?: unknown;
}

/** Who answered, as messages name it. */
type Answerer = Pick<UpstreamTarget, "provider" | "label">;

/** The attempt's decoder: `float32` converts float text as it is checked, for an answer to be written as base64. */
export function decodeEmbeddingBody(body: Buffer, float32: boolean): EmbeddingBody {
  const scanned = scanEmbeddingBody(body, { float32 });
  return scanned === undefined ? { json: parseJsonBody(body) } : { scanned };
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((x) => typeof x === "number");
}

/** A base64 embedding as its float32 bytes, or undefined when it is not whole float32s in standard base64. */
function float32Bytes(text: string): Buffer | undefined {
  const ascii = Buffer.from(text, "latin1");
  if (!isBase64(ascii)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.length % 4 === 0 ? bytes : undefined;
}

/**
 * The vectors, in input order, and the usage. Checks a parsed body, or a scanned body's skeleton (where each
 * float list is a placeholder `[k]`); a 2xx body of another shape is a bad gateway naming what is wrong.
 */
export function embeddingResult(body: EmbeddingBody, from: Answerer): EmbeddingResult {
  const json = body.scanned?.skeleton ?? body.json;
  const bad = (what: string): Error => unexpectedResponse(from.provider, from.label, what);
  if (!isRecord(json) || !Array.isArray(json.data)) throw bad("no `data` list");
  const lists: number[][] = [];
  const encoded: Buffer[] = [];
  json.data.forEach((item: unknown, position) => {
    const embedding = isRecord(item) ? item.embedding : undefined;
    const index = isRecord(item) && typeof item.index === "number" ? item.index : position;
    const bytes = typeof embedding === "string" ? float32Bytes(embedding) : undefined;
    if (isVector(embedding)) lists[index] = embedding;
    else if (bytes !== undefined) encoded[index] = bytes;
    else throw bad(`data[${position}] holds no list of floats or base64 float32s`);
  });
  if (lists.length > 0 && encoded.length > 0) throw bad("data mixes float lists and base64 embeddings");
  const count = json.data.length;
  for (let i = 0; i < count; i++) {
    if (lists[i] === undefined && encoded[i] === undefined) throw bad(`no embedding with index ${i}`);
  }
  const vectors =
    encoded.length > 0
      ? float32Vectors(encoded)
      : body.scanned === undefined
        ? numberVectors(lists)
        : body.scanned.vectors(lists.map((placeholder) => placeholder[0] as number));
  const usage = isRecord(json.usage) ? json.usage : {};
  const promptTokens = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0;
  const totalTokens = typeof usage.total_tokens === "number" ? usage.total_tokens : promptTokens;
  return { vectors, usage: { prompt_tokens: promptTokens, total_tokens: totalTokens } };
}
