/**
 * What Xinference's chat and completion calls share: the request body, and reading the answers. Streams are
 * sse-starlette's (CRLF, `: ping` comments, which the SSE reader handles); once one has begun, everything is
 * HTTP 200 and in-band, an engine error or the model's request limit included: `data: {"error":
 * "<str(exception)>"}`, where an HTTPException reads `"<status>: <detail>"`. Those become the same errors as
 * Xinference's error answers.
 */
import { APIConnectionError, type APIError, fromUpstream } from "../../errors.js";
import type { CompletionUsage } from "../../openai/usage.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import { type EventReader, openChunkStream } from "../sse-chunks.js";
import type { ChatRequest, LlmAnswer, TextCompletionRequest } from "../types.js";
import { rejectUnsupported } from "../unsupported.js";
import { LABEL, PROVIDER } from "./constants.js";
import { xinferenceError } from "./errors.js";

/** An in-band `{"error": ...}`, mapped like the error answer Xinference would have sent before the stream began. */
export function inBandError(error: unknown, client: UpstreamClient, path: string): APIError {
  let text: string;
  if (typeof error === "string") text = error;
  else if (isRecord(error) && typeof error.message === "string") text = error.message;
  else text = JSON.stringify(error);
  const status = /^([1-5]\d\d): ([\s\S]*)$/.exec(text);
  const target = client.target;
  return fromUpstream(
    xinferenceError({
      status: status === null ? 500 : Number(status[1]),
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ detail: status === null ? text : status[2] }),
      method: "POST",
      url: target.apiBase + path,
      retryAfterMs: undefined,
      target,
    }),
  );
}

/** One event's JSON object; an in-band error throws. */
export function eventObject(data: string, client: UpstreamClient, path: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw unexpectedResponse(PROVIDER, LABEL, `a stream event that is not JSON (${data.slice(0, 80)})`);
  }
  if (!isRecord(json)) throw unexpectedResponse(PROVIDER, LABEL, "a stream event that is not a JSON object");
  if (json.error !== undefined && json.error !== null) throw inBandError(json.error, client, path);
  return json;
}

export function usageOf(value: unknown): CompletionUsage | undefined {
  if (!isRecord(value) || typeof value.prompt_tokens !== "number" || typeof value.completion_tokens !== "number") return undefined;
  const total = typeof value.total_tokens === "number" ? value.total_tokens : value.prompt_tokens + value.completion_tokens;
  return { ...value, prompt_tokens: value.prompt_tokens, completion_tokens: value.completion_tokens, total_tokens: total };
}

/** A stream that ended, without error, before every choice had finished: the connection was cut short somewhere. */
export function incompleteStream(client: UpstreamClient): APIConnectionError {
  return new APIConnectionError(`The stream from ${LABEL} at ${client.target.apiBase} ended before its answer was complete.`, {
    provider: PROVIDER,
    origin: "upstream",
  });
}

/**
 * Xinference's request body for an LLM call: the provider extras (the deployment's, then the request's), the
 * OpenAI parameters over them, the uid, and — on a stream — the usage asked for always: Xinference sends its
 * usage chunk only then, and the gateway needs it whether or not the client does. `logit_bias` (a 501 at
 * Xinference) and `n` above 1 (it answers one choice whatever `n` says) are unsupported.
 */
export function llmBody(request: ChatRequest | TextCompletionRequest, operation: string): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request.extras, ...request.params, model: request.uid, stream: request.stream };
  if (request.stream) body.stream_options = { include_usage: true };
  else delete body.stream_options;
  const unsupported = { logit_bias: body.logit_bias, n: typeof body.n === "number" && body.n > 1 ? body.n : undefined };
  rejectUnsupported(PROVIDER, operation, unsupported, request.dropParams);
  if (unsupported.logit_bias !== undefined) delete body.logit_bias;
  if (unsupported.n !== undefined) delete body.n;
  return body;
}

/** What a stream chunk of one kind looks like once Xinference's own ways are taken out of it. */
type ChunkShaper<Chunk> = (json: Record<string, unknown>, choices: unknown[]) => Chunk;

interface StreamedChunk {
  choices: unknown[];
  usage?: CompletionUsage | null;
}

/**
 * Reads a stream's events into OpenAI chunks: the usage taken off every chunk (Xinference puts it on the
 * finishing one, and on every text completion chunk) and kept; the usage chunk passed on only when the client
 * asked; the answer whole once every choice has finished, `[DONE]` or not.
 */
function chunkReader<Chunk extends StreamedChunk>(
  client: UpstreamClient,
  path: string,
  includeUsage: boolean,
  shape: ChunkShaper<Chunk>,
): EventReader<Chunk> {
  let usage: CompletionUsage | undefined;
  const unfinished = new Set<number>();
  let finished = false;
  return {
    usage: () => usage,
    event(data) {
      const { usage: reported, ...json } = eventObject(data, client, path);
      usage = usageOf(reported) ?? usage;
      if (!Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "a stream chunk without `choices`");
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
      if (!sawDone && (!finished || unfinished.size > 0)) throw incompleteStream(client);
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
): Promise<LlmAnswer<Whole, Chunk>> {
  if (!request.stream) return { stream: false, answer: whole(await client.send({ method: "POST", path, json: body })) };
  const reader = chunkReader(client, path, request.includeUsage, shape);
  const chunks = await client.stream({ method: "POST", path, json: body }, (answer) => openChunkStream(answer.body, reader));
  return { stream: true, chunks };
}
