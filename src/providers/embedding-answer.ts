/**
 * An OpenAI-shaped embedding answer (`{"data": [{"index", "embedding"}, …], "usage"}`) read into vectors, as
 * every provider that speaks it answers: float lists, scanned without being parsed when the body has the usual
 * shape (embedding-body.ts), or base64 strings of little-endian float32, as an OpenAI server answers
 * `encoding_format: "base64"`.
 */
import { parseJsonBody } from "../upstream/http.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { decodedLength, isBase64, type ScannedBase64Items, scanBase64Items } from "./base64-items.js";
import { type ScannedEmbeddingBody, scanEmbeddingBody } from "./embedding-body.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import type { EmbeddingResult } from "./types.js";
import { base64Vectors, numberVectors } from "./vectors.js";

/** The body as the attempt decoded it: float lists or base64 strings scanned when it has the usual shape, else parsed. */
export interface EmbeddingBody {
  scanned?: ScannedEmbeddingBody;
  base64?: ScannedBase64Items;
  json?: unknown;
}

/** Who answered, as messages name it. */
type Answerer = Pick<UpstreamTarget, "provider" | "label">;

/**
 * The attempt's decoder. `float32`: the answer is to be written as base64, so base64 strings are looked for
 * first (what an OpenAI server was asked for), and float text is converted as it is checked.
 */
export function decodeEmbeddingBody(body: Buffer, float32: boolean): EmbeddingBody {
  const base64 = float32 ? scanBase64Items(body, "embedding") : undefined;
  if (base64 !== undefined) return { base64 };
  const scanned = scanEmbeddingBody(body, { float32 });
  return scanned === undefined ? { json: parseJsonBody(body) } : { scanned };
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((x) => typeof x === "number");
}

/** Item `embedding`'s base64 text: a placeholder for a string the scan checked, else the parsed string, checked here. */
function base64Text(embedding: string, scanned: ScannedBase64Items | undefined): Buffer | undefined {
  const text = scanned === undefined ? Buffer.from(embedding, "latin1") : scanned.strings[Number(embedding)];
  return text !== undefined && (scanned !== undefined || isBase64(text)) && decodedLength(text) % 4 === 0 ? text : undefined;
}

/**
 * The vectors, in input order, and the usage. Checks a parsed body, or a scanned body's skeleton (where each
 * float list is a placeholder `[k]`); a 2xx body of another shape is a bad gateway naming what is wrong.
 */
export function embeddingResult(body: EmbeddingBody, from: Answerer): EmbeddingResult {
  const json = body.scanned?.skeleton ?? body.base64?.skeleton ?? body.json;
  const bad = (what: string): Error => unexpectedResponse(from.provider, from.label, what);
  if (!isRecord(json) || !Array.isArray(json.data)) throw bad("no `data` list");
  const lists: number[][] = [];
  const encoded: Buffer[] = [];
  json.data.forEach((item: unknown, position) => {
    const embedding = isRecord(item) ? item.embedding : undefined;
    const index = isRecord(item) && typeof item.index === "number" ? item.index : position;
    const text = typeof embedding === "string" ? base64Text(embedding, body.base64) : undefined;
    if (isVector(embedding)) lists[index] = embedding;
    else if (text !== undefined) encoded[index] = text;
    else throw bad(`data[${position}] holds no list of floats or base64 float32s`);
  });
  if (lists.length > 0 && encoded.length > 0) throw bad("data mixes float lists and base64 embeddings");
  const count = json.data.length;
  for (let i = 0; i < count; i++) {
    if (lists[i] === undefined && encoded[i] === undefined) throw bad(`no embedding with index ${i}`);
  }
  const vectors =
    encoded.length > 0
      ? base64Vectors(encoded)
      : body.scanned === undefined
        ? numberVectors(lists)
        : body.scanned.vectors(lists.map((placeholder) => placeholder[0] as number));
  const usage = isRecord(json.usage) ? json.usage : {};
  const promptTokens = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0;
  const totalTokens = typeof usage.total_tokens === "number" ? usage.total_tokens : promptTokens;
  return { vectors, usage: { prompt_tokens: promptTokens, total_tokens: totalTokens } };
}
