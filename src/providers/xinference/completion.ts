/**
 * Text completions: OpenAI's request to Xinference's `POST /v1/completions`. Xinference takes one prompt
 * string; `n` > 1 and `logit_bias` are unsupported, as on chat. Its streams end without `[DONE]` and carry the
 * usage so far on every chunk: the chunks passed on carry none, and the usage chunk only when asked for.
 */
import { BadRequestError } from "../../errors.js";
import type { Completion, CompletionChoice } from "../../openai/completions.js";
import type { CompletionUsage } from "../../openai/usage.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import { type EventReader, openChunkStream } from "../sse-chunks.js";
import type { LlmAnswer, TextCompletionRequest } from "../types.js";
import { rejectUnsupported } from "../unsupported.js";
import { LABEL, PROVIDER } from "./constants.js";
import { eventObject, incompleteStream, llmBody, unsupportedOf, usageOf } from "./llm-stream.js";

const PATH = "/completions";

function completionBody(request: TextCompletionRequest): Record<string, unknown> {
  if (typeof request.prompt !== "string") {
    throw new BadRequestError("Xinference takes one prompt string for text completions, not a list or token ids: send one call per prompt.", {
      provider: PROVIDER,
      param: "prompt",
    });
  }
  const body = llmBody(request.uid, request.extras, request.params, request.stream);
  body.prompt = request.prompt;
  const unsupported = unsupportedOf(body);
  rejectUnsupported(PROVIDER, "text completions", unsupported, request.dropParams);
  for (const key of Object.keys(unsupported)) if (unsupported[key] !== undefined) delete body[key];
  return body;
}

function wholeAnswer(json: unknown): Completion {
  if (!isRecord(json) || !Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "no `choices` list");
  return { ...(json as unknown as Completion), object: "text_completion" };
}

function chunkReader(request: TextCompletionRequest, client: UpstreamClient): EventReader<Completion> {
  let usage: CompletionUsage | undefined;
  const unfinished = new Set<number>();
  let finished = false;
  return {
    usage: () => usage,
    event(data) {
      const json = eventObject(data, client, PATH);
      usage = usageOf(json.usage) ?? usage;
      if (!Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "a stream chunk without `choices`");
      const { usage: _usage, ...rest } = json;
      const chunk = { ...rest, object: "text_completion" } as unknown as Completion;
      if (json.choices.length === 0) return request.includeUsage && usage !== undefined ? { ...chunk, usage } : undefined;
      for (const choice of json.choices as CompletionChoice[]) {
        const index = typeof choice?.index === "number" ? choice.index : 0;
        if (choice?.finish_reason === null || choice?.finish_reason === undefined) unfinished.add(index);
        else {
          unfinished.delete(index);
          finished = true;
        }
      }
      if (request.includeUsage) chunk.usage = null;
      return chunk;
    },
    // Xinference ends these without [DONE]: the answer is whole when every choice has finished.
    end(sawDone) {
      if (!sawDone && (!finished || unfinished.size > 0)) throw incompleteStream(client);
    },
  };
}

export async function completion(request: TextCompletionRequest, client: UpstreamClient): Promise<LlmAnswer<Completion, Completion>> {
  const body = completionBody(request);
  if (!request.stream) return { stream: false, answer: wholeAnswer(await client.send({ method: "POST", path: PATH, json: body })) };
  const chunks = await client.stream({ method: "POST", path: PATH, json: body }, (answer) => openChunkStream(answer.body, chunkReader(request, client)));
  return { stream: true, chunks };
}
