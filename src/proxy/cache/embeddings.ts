/**
 * The cache stage of `/v1/embeddings`. Each input has its own entry (keys.ts): the entries found answer their
 * inputs, the rest go upstream in one dispatched request (chunked as any request is), and the answer is the
 * two merged in input order — written as the upstream's chunks complete, each miss kept as it is written.
 * Usage counts the misses alone. `x-xgate-cache-hits: k/n` says how many inputs hit, and for one input
 * `x-litellm-cache-key` names its entry. A request whose every input hits dispatches nothing.
 *
 * A request sent to the client's own server (`allow_client_side_credentials`) is left alone: its vectors
 * are not the configured models'.
 */
import { Readable } from "node:stream";
import {
  answerTail,
  ANSWER_HEAD,
  DEFAULT_MAX_BATCH_SIZE,
  type EmbeddingAnswer,
  type EmbeddingsRequest,
  type EncodingFormat,
  itemBytes,
  representation,
  type StreamedEmbeddings,
} from "../../operations/index.js";
import type { EmbeddingResult } from "../../providers/index.js";
import type { ModelResolver } from "../model-resolver.js";
import type { CacheStage, Dispatched, ParsedRequest } from "../pipeline/index.js";
import type { Deployment } from "../router/index.js";
import { type AllowedCacheControls, cacheControls } from "./controls.js";
import { entryOf, writtenFrom } from "./entries.js";
import { cacheKeys, groupIdentity } from "./keys.js";
import type { CacheSettings } from "./settings.js";
import type { CacheEntry, CacheStore } from "./store.js";

/** Cached items written at once, at most: a large all-hit answer goes out in pieces, as an upstream's would. */
const ITEMS_PER_WRITE = DEFAULT_MAX_BATCH_SIZE;

export interface EmbeddingCacheDeps {
  store: CacheStore;
  settings: CacheSettings;
  resolver: ModelResolver;
  deployments: readonly Deployment[];
  allowedControls: AllowedCacheControls;
}

/**
 * Writes an answer's items in input order: the cached ones from what they were written from, the upstream's
 * chunk by chunk, and keeps each upstream item with its key as it goes.
 */
class Merger {
  private next = 0;
  private missed = 0;
  readonly usage = { prompt_tokens: 0, total_tokens: 0 };

  constructor(
    /** Per input, what its cached answer is written from; undefined for the misses. */
    private readonly hits: readonly (Buffer | undefined)[],
    private readonly missAt: readonly number[],
    private readonly format: EncodingFormat,
    private readonly keep: ((entries: CacheEntry[]) => void) | undefined,
    /** The misses' keys, in order: where they are kept. */
    private readonly missKeys: readonly string[],
  ) {}

  private hitsUpTo(end: number, parts: Buffer[]): void {
    for (; this.next < end; this.next++) parts.push(...itemBytes(this.next, this.format, this.hits[this.next] as Buffer));
  }

  /** One upstream chunk with the hits before each of its items, in one write. */
  chunk(result: EmbeddingResult): Buffer {
    const parts: Buffer[] = [];
    const entries: CacheEntry[] = [];
    for (let i = 0; i < result.vectors.length; i++, this.missed++, this.next++) {
      this.hitsUpTo(this.missAt[this.missed] as number, parts);
      const written = representation(result.vectors, i, this.format);
      parts.push(...itemBytes(this.next, this.format, written));
      if (this.keep !== undefined) entries.push({ key: this.missKeys[this.missed] as string, value: entryOf(written, this.format) });
    }
    this.usage.prompt_tokens += result.usage.prompt_tokens;
    this.usage.total_tokens += result.usage.total_tokens;
    this.keep?.(entries);
    return Buffer.concat(parts);
  }

  /** The hits after the last miss, a write per ITEMS_PER_WRITE. */
  rest(): Buffer[] {
    const writes: Buffer[] = [];
    while (this.next < this.hits.length) {
      const parts: Buffer[] = [];
      this.hitsUpTo(Math.min(this.hits.length, this.next + ITEMS_PER_WRITE), parts);
      writes.push(Buffer.concat(parts));
    }
    return writes;
  }
}

/** The answer of cached items and, when some missed, of the upstream's answer for them. */
function mergedAnswer(merger: Merger, misses: StreamedEmbeddings | undefined): EmbeddingAnswer {
  const results = misses === undefined ? [] : misses.results();
  if (Array.isArray(results)) {
    // Complete at once: no upstream chunk is still coming.
    const writes = [...(results as readonly EmbeddingResult[]).map((result) => merger.chunk(result)), ...merger.rest()];
    return {
      body: (model) => {
        const pieces = [ANSWER_HEAD, ...writes, answerTail(model, merger.usage)];
        return writes.length <= 1 ? Buffer.concat(pieces) : Readable.from(pieces, { objectMode: false });
      },
      done: undefined,
      tokens: merger.usage.total_tokens,
    };
  }
  async function* write(model: string): AsyncGenerator<Buffer> {
    yield ANSWER_HEAD;
    for await (const result of results as AsyncIterable<EmbeddingResult>) yield merger.chunk(result);
    yield* merger.rest();
    yield answerTail(model, merger.usage);
  }
  return {
    body: (model) => Readable.from(write(model), { objectMode: false }),
    done: (misses as StreamedEmbeddings).done,
    tokens: undefined,
  };
}

/** The request for the misses alone: the client's own when nothing hit, so that it goes upstream unchanged. */
function missesOf(parsed: ParsedRequest<EmbeddingsRequest>, missAt: readonly number[]): ParsedRequest<EmbeddingsRequest> {
  if (missAt.length === parsed.request.items.length) return parsed;
  const items = missAt.map((i) => parsed.request.items[i]) as string[] | number[][];
  return { ...parsed, request: { ...parsed.request, input: items, items } };
}

export function embeddingCacheStage(deps: EmbeddingCacheDeps): CacheStage<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer> {
  const byGroup = new Map<string, Deployment[]>();
  for (const d of deps.deployments) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d]);
  const identityOf = (group: string, wildcardMatch: string | undefined): string => groupIdentity(byGroup.get(group) ?? [], wildcardMatch);

  return async (parsed, request, reply) => {
    if (parsed.client !== undefined) return undefined;
    const controls = cacheControls(request, deps.allowedControls);
    const { group, wildcardMatch } = deps.resolver.resolve(parsed.model);
    const namespace = controls.namespace ?? deps.settings.namespace;
    const { format } = parsed.request;
    const keys = cacheKeys(identityOf(group, wildcardMatch), parsed.request, namespace);
    const entries = controls.read ? await deps.store.getMany(keys) : [];
    const hits = keys.map((_key, i) => {
      const entry = entries[i];
      return entry === undefined ? undefined : writtenFrom(entry, format);
    });
    const missAt: number[] = [];
    hits.forEach((hit, i) => hit === undefined && missAt.push(i));

    const trace = (request.trace ??= {});
    trace.cacheHits = `${keys.length - missAt.length}/${keys.length}`;
    reply.header("x-xgate-cache-hits", trace.cacheHits);
    if (keys.length === 1) reply.header("x-litellm-cache-key", keys[0]);
    const ttlSeconds = controls.ttlSeconds ?? deps.settings.ttlSeconds;
    const keep = controls.store ? (kept: CacheEntry[]) => deps.store.setMany(kept, ttlSeconds === undefined ? undefined : ttlSeconds * 1000) : undefined;

    if (missAt.length === 0) {
      trace.group = group;
      reply.header("x-xgate-model-group", group);
      return { answer: mergedAnswer(new Merger(hits, missAt, format, undefined, []), undefined) };
    }
    const misses = missesOf(parsed, missAt);
    return {
      misses,
      merge: (dispatched: Dispatched<StreamedEmbeddings>) => {
        // A fallback group's vectors are its own models': they are kept under its keys, not the group asked for.
        const missKeys =
          keep === undefined
            ? []
            : dispatched.group === group
              ? missAt.map((i) => keys[i] as string)
              : cacheKeys(identityOf(dispatched.group, wildcardMatch), misses.request, namespace);
        return mergedAnswer(new Merger(hits, missAt, format, keep, missKeys), dispatched.result);
      },
    };
  };
}
