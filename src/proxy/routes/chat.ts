/**
 * Chat and text completions. A whole answer is JSON; a streamed one is server-sent events (see
 * http/sse-response.ts), begun once its first chunk is in — so a failure before then was the attempt's, and
 * retried or fallen back from like any other, and is answered with its status. A first chunk slower than
 * `stream_keepalive_seconds` is not waited for: the stream begins with a keep-alive comment, retries go on
 * behind it, and a failure is then an error event in it. Both name the model as the client asked for it.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { APIError, BadGatewayError } from "../../errors.js";
import {
  type AnswerUsage,
  chat,
  type ChatCall,
  type ChatResult,
  type Chunks,
  type LlmResult,
  type StreamedResult,
  textCompletion,
  type TextCompletionCall,
  type TextCompletionResult,
} from "../../operations/index.js";
import { sseBody } from "../http/sse-response.js";
import { asObject, beforeEnd, type Dispatcher, type OperationRoute, type ParsedRequest, type RequestAccount, type RequestUsage } from "../pipeline/index.js";

export interface ChatRouteDeps {
  dispatcher: Dispatcher;
  /** `general_settings.stream_keepalive_seconds`, in ms. */
  keepAliveMs: number;
}

/** sse-starlette's and OpenAI's headers: no caching, and no buffering in nginx-like proxies in between. */
const STREAM_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" };

function answer<Whole, Chunk>(deps: ChatRouteDeps) {
  return (result: LlmResult<Whole, Chunk>, parsed: ParsedRequest<unknown>, request: FastifyRequest, reply: FastifyReply, account: RequestAccount): unknown => {
    if (result.stream) return streamAnswer(deps, result, parsed, request, reply, account);
    const trace = (request.trace ??= {});
    trace.tokens = result.usage.total_tokens;
    trace.tokensEstimated = result.estimated;
    account.finish(usageOf(result));
    return reply.type("application/json; charset=utf-8").send(result.answer(parsed.model));
  };
}

/**
 * A stream, its result in hand (its first chunk is in) or still to come (see `early` below): the events as
 * they come, its usage settled when its last chunk is read, before `[DONE]` and the end are written.
 */
function streamAnswer<Chunk>(
  deps: ChatRouteDeps,
  result: StreamedResult<Chunk> | Promise<StreamedResult<Chunk>>,
  parsed: ParsedRequest<unknown>,
  request: FastifyRequest,
  reply: FastifyReply,
  account: RequestAccount,
): unknown {
  const trace = (request.trace ??= {});
  let ended: AnswerUsage | undefined;
  let failure: unknown;
  const begin = (streamed: StreamedResult<Chunk>): Chunks<Chunk> => {
    // The stream begins once its first chunk is in: that is the time to first token.
    trace.firstChunkMs = reply.elapsedTime;
    account.streaming(() => streamed.usedSoFar().then(usageOf));
    streamed.done.then(
      (done) => {
        ended = done;
        trace.tokens = done.usage.total_tokens;
        trace.tokensEstimated = done.estimated;
      },
      () => undefined,
    );
    return streamed.chunks(parsed.model);
  };
  const body = sseBody(result instanceof Promise ? result.then(begin) : begin(result), deps.keepAliveMs, (error) => {
    failure = error;
    trace.errorCode = error instanceof APIError ? error.code : "stream_error";
  });
  const settle = (): void => (failure === undefined && ended !== undefined ? account.finish(usageOf(ended)) : account.fail(failure ?? "stream_error"));
  return reply.headers(STREAM_HEADERS).send(beforeEnd(body, settle));
}

/**
 * A stream whose first chunk has not come within `stream_keepalive_seconds` is answered before it: a load
 * balancer would close a connection silent for longer (a long prompt to read, a busy server's queue).
 */
function early<Whole, Chunk>(deps: ChatRouteDeps) {
  return {
    afterMs: (request: { stream: boolean }) => (request.stream && deps.keepAliveMs > 0 ? deps.keepAliveMs : undefined),
    respond: (pending: Promise<LlmResult<Whole, Chunk>>, parsed: ParsedRequest<unknown>, request: FastifyRequest, reply: FastifyReply, account: RequestAccount) =>
      streamAnswer(deps, pending.then(streamedOnly), parsed, request, reply, account),
  };
}

/** A stream was asked for; an upstream that answered whole cannot be told in the events already begun. */
function streamedOnly<Whole, Chunk>(result: LlmResult<Whole, Chunk>): StreamedResult<Chunk> {
  if (result.stream) return result;
  throw new BadGatewayError("The upstream answered a streamed request with a whole answer.", { code: "bad_response", origin: "upstream" });
}

/** Without `max_tokens` the output cannot be bounded: only the prompt is reserved. */
function outputAsked(maxTokens: number | undefined) {
  return maxTokens === undefined ? {} : { maxCompletionTokens: maxTokens };
}

function usageOf({ usage, estimated }: AnswerUsage): RequestUsage {
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
    early: early(deps),
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
    early: early(deps),
  };
}
