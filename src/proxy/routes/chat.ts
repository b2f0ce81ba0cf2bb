/**
 * Chat and text completions. A whole answer is JSON; a streamed one is server-sent events (see
 * http/sse-response.ts), begun once its first chunk is in — so a failure before then was the attempt's, and
 * retried or fallen back from like any other. Both name the model as the client asked for it.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { APIError } from "../../errors.js";
import {
  chat,
  type ChatCall,
  type ChatResult,
  type LlmResult,
  textCompletion,
  type TextCompletionCall,
  type TextCompletionResult,
} from "../../operations/index.js";
import { sseBody } from "../http/sse-response.js";
import type { CompletionUsage } from "../../openai/usage.js";
import { asObject, beforeEnd, type Dispatcher, type OperationRoute, type ParsedRequest, type RequestAccount } from "../pipeline/index.js";

export interface ChatRouteDeps {
  dispatcher: Dispatcher;
  /** `general_settings.stream_keepalive_seconds`, in ms. */
  keepAliveMs: number;
}

/** sse-starlette's and OpenAI's headers: no caching, and no buffering in nginx-like proxies in between. */
const STREAM_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" };

function answer<Whole, Chunk>(deps: ChatRouteDeps) {
  return (result: LlmResult<Whole, Chunk>, parsed: ParsedRequest<unknown>, request: FastifyRequest, reply: FastifyReply, account: RequestAccount): unknown => {
    const trace = (request.trace ??= {});
    if (!result.stream) {
      trace.tokens = result.usage.total_tokens;
      trace.tokensEstimated = result.estimated;
      account.finish(usageOf(result.usage, result.estimated));
      return reply.type("application/json; charset=utf-8").send(result.answer(parsed.model));
    }
    // The stream begins once its first chunk is in: that is the time to first token.
    trace.firstChunkMs = reply.elapsedTime;
    account.streaming(async () => {
      const soFar = await result.usedSoFar();
      return usageOf(soFar.usage, soFar.estimated);
    });
    let ended: { usage: CompletionUsage; estimated: boolean } | undefined;
    let failure: unknown;
    result.done.then(
      (done) => {
        ended = done;
        trace.tokens = done.usage.total_tokens;
        trace.tokensEstimated = done.estimated;
      },
      () => undefined,
    );
    const body = sseBody(result.chunks(parsed.model), deps.keepAliveMs, (error) => {
      failure = error;
      trace.errorCode = error instanceof APIError ? error.code : "stream_error";
    });
    // The stream's usage is settled when its last chunk is read, before `[DONE]` and the end are written.
    const settle = (): void => (failure === undefined && ended !== undefined ? account.finish(usageOf(ended.usage, ended.estimated)) : account.fail(failure ?? "stream_error"));
    return reply.headers(STREAM_HEADERS).send(beforeEnd(body, settle));
  };
}

/** Without `max_tokens` the output cannot be bounded: only the prompt is reserved. */
function outputAsked(maxTokens: number | undefined) {
  return maxTokens === undefined ? {} : { maxCompletionTokens: maxTokens };
}

function usageOf(usage: CompletionUsage, estimated: boolean) {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, estimated };
}

export function chatRoute(deps: ChatRouteDeps): OperationRoute<ChatCall, ChatResult> {
  return {
    urls: ["/v1/chat/completions", "/chat/completions"],
    operation: chat,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/chat/completions") }),
    admit: (parsed) => deps.dispatcher.assertCanComplete(parsed.model, { operation: "chat", ...(parsed.request as ChatCall).needs }),
    estimate: (request) => outputAsked(request.params.max_completion_tokens ?? request.params.max_tokens),
    respond: answer(deps),
  };
}

export function textCompletionRoute(deps: ChatRouteDeps): OperationRoute<TextCompletionCall, TextCompletionResult> {
  return {
    urls: ["/v1/completions", "/completions"],
    operation: textCompletion,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/completions") }),
    admit: (parsed) => deps.dispatcher.assertCanComplete(parsed.model, { operation: "completion", vision: false, tools: false }),
    estimate: (request) => outputAsked(request.params.max_tokens),
    respond: answer(deps),
  };
}
