/**
 * Chat and text completion answers, whole or streamed, read the same way whatever the provider: a stream's
 * events become OpenAI chunks, the usage taken off every chunk (some servers put it on the finishing one, or
 * on every chunk) and kept, the usage chunk passed on only when the client asked, and the answer whole once
 * every choice has finished, `[DONE]` or not. What differs by provider is its dialect: how an event is read
 * (and an in-band error recognised), and how a stream cut short is reported.
 */
import type { CompletionUsage } from "../openai/usage.js";
import type { UpstreamClient } from "../upstream/client.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import { type EventReader, openChunkStream } from "./sse-chunks.js";
import type { LlmAnswer } from "./types.js";

/** A provider's streams, as the reader needs to know them. */
export interface StreamDialect {
  provider: string;
  label: string;
  /** One event's JSON object; an in-band error throws. */
  event(data: string): Record<string, unknown>;
  /** The error for a stream that ended without error before every choice had finished. */
  incomplete(): Error;
}

/** What a stream chunk of one kind looks like once the provider's own ways are taken out of it. */
export type ChunkShaper<Chunk> = (json: Record<string, unknown>, choices: unknown[]) => Chunk;

export interface StreamedChunk {
  choices: unknown[];
  usage?: CompletionUsage | null;
}

export function usageOf(value: unknown): CompletionUsage | undefined {
  if (!isRecord(value) || typeof value.prompt_tokens !== "number" || typeof value.completion_tokens !== "number") return undefined;
  const total = typeof value.total_tokens === "number" ? value.total_tokens : value.prompt_tokens + value.completion_tokens;
  return { ...value, prompt_tokens: value.prompt_tokens, completion_tokens: value.completion_tokens, total_tokens: total };
}

function chunkReader<Chunk extends StreamedChunk>(dialect: StreamDialect, includeUsage: boolean, shape: ChunkShaper<Chunk>): EventReader<Chunk> {
  let usage: CompletionUsage | undefined;
  const unfinished = new Set<number>();
  let finished = false;
  return {
    usage: () => usage,
    event(data) {
      const { usage: reported, ...json } = dialect.event(data);
      usage = usageOf(reported) ?? usage;
      if (!Array.isArray(json.choices)) throw unexpectedResponse(dialect.provider, dialect.label, "a stream chunk without `choices`");
      const chunk = shape(json, json.choices);
      if (json.choices.length === 0) return includeUsage && usage !== undefined ? { ...chunk, usage } : undefined;
      for (const choice of json.choices) {
        const index = isRecord(choice) && typeof choice.index === "number" ? choice.index : 0;
        if (!isRecord(choice) || choice.finish_reason === null || choice.finish_reason === undefined) unfinished.add(index);
        else {
          unfinished.delete(index);
          finished = true;
        }
      }
      // With include_usage, OpenAI marks every other chunk `usage: null`; without, there is no such field.
      if (includeUsage) chunk.usage = null;
      return chunk;
    },
    end(sawDone) {
      if (!sawDone && (!finished || unfinished.size > 0)) throw dialect.incomplete();
    },
  };
}

/** Sends an LLM request, and reads its answer whole or as a stream. */
export async function llmAnswer<Whole, Chunk extends StreamedChunk>(
  client: UpstreamClient,
  path: string,
  body: Record<string, unknown>,
  request: { stream: boolean; includeUsage: boolean },
  whole: (json: unknown) => Whole,
  shape: ChunkShaper<Chunk>,
  dialect: StreamDialect,
): Promise<LlmAnswer<Whole, Chunk>> {
  if (!request.stream) return { stream: false, answer: whole(await client.send({ method: "POST", path, json: body })) };
  const reader = chunkReader(dialect, request.includeUsage, shape);
  const chunks = await client.stream({ method: "POST", path, json: body }, (answer) => openChunkStream(answer.body, reader));
  return { stream: true, chunks };
}
