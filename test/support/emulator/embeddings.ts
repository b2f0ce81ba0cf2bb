// POST /v1/embeddings: deterministic unit vectors of the model's own length, whatever `dimensions` or
// `encoding_format` say (the real quirks), written as compact JSON without re-serializing cached vectors.
import { checkModelAccess } from "./auth.js";
import { specStr } from "./catalog.js";
import type { EmbeddingModelSpec } from "./catalog.js";
import type { Reply, RouteContext } from "./context.js";
import { engineError } from "./errors.js";
import { LruCache } from "./lru.js";
import { hashString, mulberry32 } from "./random.js";
import { int, jsonBodyOf, listOf, oneOf, optional, str, validateBody } from "./validate.js";

const RULES = {
  model: { check: str, required: true },
  input: { check: oneOf(str, listOf(str), listOf(int), listOf(listOf(int))), required: true },
  user: { check: optional(str) },
  truncate_prompt_tokens: { check: optional(int) },
};

/** Keys of the body the route consumes; every other key except encoding_format reaches the engine as a kwarg. */
const DECLARED = new Set(["model", "input", "user", "truncate_prompt_tokens", "encoding_format"]);

/** Special tokens ([CLS], [SEP]) a BERT-style tokenizer adds to every input. */
const SPECIAL_TOKENS = 2;
const CHARS_PER_TOKEN = 4;

// Serialized vectors by (dims, input). 1,024 floats take ~21 kB of JSON, so the budget holds a few thousand.
const vectorCache = new LruCache<Buffer>(128 * 1024 * 1024, (json) => json.length);

type EmbeddingInput = { kind: "text"; text: string } | { kind: "tokens"; ids: number[] };

export async function createEmbedding(ctx: RouteContext): Promise<Reply> {
  const body = validateBody("CreateEmbeddingRequest", jsonBodyOf(ctx.json), RULES);
  const uid = body.model as string;
  const kwargs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!DECLARED.has(key)) kwargs[key] = value;
  ctx.record.kwargs = kwargs;

  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const requestId = typeof kwargs.request_id === "string" ? kwargs.request_id : undefined;
  return ctx.engine.run(model, requestId, () => {
    if (model.spec.model_type !== "embedding") {
      throw engineError(`Model ${specStr(model.spec)} is not for creating embedding.`);
    }
    const inputs = toInputs(body.input);
    const truncateTo = body.truncate_prompt_tokens;
    const limit = typeof truncateTo === "number" ? Math.min(truncateTo, model.spec.max_tokens) : model.spec.max_tokens;
    return {
      status: 200,
      contentType: "application/json",
      body: embeddingResponse(uid, ctx.registry.nextReplicaUid(model), model.spec, inputs, limit),
    };
  });
}

function toInputs(input: unknown): EmbeddingInput[] {
  if (typeof input === "string") return [{ kind: "text", text: input }];
  const list = input as unknown[];
  if (list.length > 0 && typeof list[0] === "number") return [{ kind: "tokens", ids: list as number[] }];
  return list.map((item) =>
    typeof item === "string" ? { kind: "text", text: item } : { kind: "tokens", ids: item as number[] },
  );
}

function embeddingResponse(
  uid: string,
  replicaUid: string,
  spec: EmbeddingModelSpec,
  inputs: EmbeddingInput[],
  tokenLimit: number,
): Buffer {
  // Assembled from byte chunks: the cached vectors are copied once, never re-serialized or re-encoded.
  const parts: Buffer[] = [
    Buffer.from(`{"object":"list","model":${JSON.stringify(uid)},"model_replica":${JSON.stringify(replicaUid)},"data":[`),
  ];
  let promptTokens = 0;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as EmbeddingInput;
    // Over-long input is truncated silently: only its first `tokenLimit` tokens shape the vector.
    let key: string;
    if (input.kind === "text") {
      const tokens = Math.min(tokenLimit, Math.ceil(input.text.length / CHARS_PER_TOKEN) + SPECIAL_TOKENS);
      promptTokens += tokens;
      key = `t${input.text.slice(0, Math.max(0, tokenLimit - SPECIAL_TOKENS) * CHARS_PER_TOKEN)}`;
    } else {
      const tokens = Math.min(tokenLimit, input.ids.length);
      promptTokens += tokens;
      key = `i${input.ids.slice(0, tokens).join(",")}`;
    }
    parts.push(Buffer.from(`${i === 0 ? "" : ","}{"index":${i},"object":"embedding","embedding":`));
    parts.push(vectorJson(key, spec.dimensions));
    parts.push(CLOSE_BRACE);
  }
  parts.push(Buffer.from(`],"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`));
  return Buffer.concat(parts);
}

const CLOSE_BRACE = Buffer.from("}");

interface BaseVector {
  positive: string[];
  negative: string[];
}

const baseVectors = new Map<number, BaseVector>();

/**
 * One random unit vector per length, its components printed once as Python prints float32 values (17 digits).
 * Printing millions of floats per batch would dominate the emulator's cost, so each input's vector is a seeded
 * permutation of these components with seeded signs: still unit length, still distinct per input.
 */
function baseVector(dims: number): BaseVector {
  let base = baseVectors.get(dims);
  if (base !== undefined) return base;
  const random = mulberry32(dims);
  const values = new Float64Array(dims);
  let sumSquares = 0;
  for (let d = 0; d < dims; d++) {
    // A sum of uniforms is roughly normal, as the components of a random direction are.
    const x = random() + random() + random() - 1.5;
    values[d] = x;
    sumSquares += x * x;
  }
  const scale = 1 / Math.sqrt(sumSquares);
  const positive = Array.from(values, (x) => String(Math.fround(Math.abs(x) * scale)));
  base = { positive, negative: positive.map((text) => `-${text}`) };
  baseVectors.set(dims, base);
  return base;
}

/** The JSON bytes of the unit vector for an input. */
function vectorJson(key: string, dims: number): Buffer {
  const cacheKey = `${dims}:${key}`;
  const cached = vectorCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const { positive, negative } = baseVector(dims);
  const random = mulberry32(hashString(key));
  const order = new Uint32Array(dims);
  for (let d = 0; d < dims; d++) order[d] = d;
  const components = new Array<string>(dims);
  for (let d = dims - 1; d >= 0; d--) {
    const pick = Math.floor(random() * (d + 1));
    const index = order[pick] as number;
    order[pick] = order[d] as number;
    components[d] = ((random() < 0.5 ? negative : positive)[index]) as string;
  }
  const json = Buffer.from(`[${components.join(",")}]`, "latin1");
  vectorCache.set(cacheKey, json);
  return json;
}
