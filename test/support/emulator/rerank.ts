// POST /v1/rerank: deterministic relevance (word overlap with the query, plus a small hash-based jitter so
// ties still order), sorted descending, Cohere-style response with `meta` as Xinference returns it.
import { randomUUID } from "node:crypto";
import { checkModelAccess } from "./auth.js";
import { specStr } from "./catalog.js";
import { jsonReply } from "./context.js";
import type { Reply, RouteContext } from "./context.js";
import { engineError } from "./errors.js";
import { pythonJsonLoads } from "./python.js";
import { hashString } from "./random.js";
import { bool, field, int, jsonBodyOf, listOf, optional, str, validateBody } from "./validate.js";

const RULES = {
  model: { check: str, required: true },
  query: { check: str, required: true },
  documents: { check: listOf(str), required: true },
  top_n: { check: optional(int) },
  return_documents: { check: optional(bool) },
  return_len: { check: optional(bool) },
  max_chunks_per_doc: { check: optional(int) },
  kwargs: { check: optional(str) },
};

export async function rerank(ctx: RouteContext): Promise<Reply> {
  const body = validateBody("RerankRequest", jsonBodyOf(ctx.json), RULES);
  const uid = body.model as string;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);

  const kwargsText = field<string | null>(body, "kwargs", null);
  let kwargs: Record<string, unknown> = {};
  if (kwargsText !== null) {
    const parsed = pythonJsonLoads(kwargsText);
    if (!parsed.ok) throw engineError(parsed.message);
    if (typeof parsed.value === "object" && parsed.value !== null) kwargs = parsed.value as Record<string, unknown>;
  }
  ctx.record.kwargs = kwargs;
  const requestId = typeof kwargs.request_id === "string" ? kwargs.request_id : undefined;

  return ctx.engine.run(model, requestId, () => {
    if (model.spec.model_type !== "rerank") throw engineError(`Model ${specStr(model.spec)} is not for reranking.`);
    const query = body.query as string;
    const documents = body.documents as string[];
    const topN = field<number | null>(body, "top_n", null);
    const returnDocuments = field(body, "return_documents", false);
    const queryWords = words(query);
    const scored = documents.map((text, index) => ({ index, text, score: relevance(query, queryWords, text) }));
    scored.sort((a, b) => b.score - a.score || a.index - b.index);
    const kept = topN === null ? scored : scored.slice(0, Math.max(0, topN));
    const inputTokens = documents.reduce((sum, doc) => sum + tokenCount(query) + tokenCount(doc), 0);
    return jsonReply({
      id: randomUUID(),
      results: kept.map((r) => ({
        index: r.index,
        relevance_score: r.score,
        document: returnDocuments ? { text: r.text } : null,
      })),
      meta: {
        api_version: null,
        billed_units: null,
        tokens: field(body, "return_len", false) ? { input_tokens: inputTokens, output_tokens: inputTokens } : null,
        warnings: null,
      },
    });
  });
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

function tokenCount(text: string): number {
  return Math.ceil(text.length / 4) + 2;
}

/** In (0, 1): mostly the share of query words the document contains, so obvious matches rank first. */
function relevance(query: string, queryWords: Set<string>, document: string): number {
  const docWords = words(document);
  let shared = 0;
  for (const word of queryWords) if (docWords.has(word)) shared++;
  const overlap = queryWords.size === 0 ? 0 : shared / queryWords.size;
  const jitter = hashString(`${query}\u0000${document}`) / 4294967296;
  return Math.fround(0.001 + 0.9 * overlap + 0.098 * jitter);
}
