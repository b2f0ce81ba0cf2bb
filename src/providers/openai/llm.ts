/**
 * What chat and text completions share on an OpenAI-compatible server: the request body (OpenAI's own, with
 * the usage always asked for on a stream: the gateway needs it whether or not the client does) and how its
 * streams read. A failure after a stream began arrives in-band as OpenAI's `{"error": {...}}` (vLLM's
 * `{"object": "error", ...}` before it nested them), mapped like the error answer it stands for.
 */
import { APIConnectionError, fromUpstream } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import type { StreamDialect } from "../llm-answer.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { ChatRequest, TextCompletionRequest } from "../types.js";
import { LABEL } from "./connection.js";
import { openAIError } from "./errors.js";

export function llmBody(request: ChatRequest | TextCompletionRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request.extras, ...request.params, model: request.uid, stream: request.stream };
  if (request.stream) body.stream_options = { include_usage: true };
  else delete body.stream_options;
  return body;
}

/** A whole answer, checked to have its `choices` list: the server's own JSON, passed on as OpenAI shaped it. */
export function wholeAnswer<Answer>(client: UpstreamClient): (json: unknown) => Answer {
  return (json) => {
    if (!isRecord(json) || !Array.isArray(json.choices)) throw unexpectedResponse(client.target.provider, LABEL, "no `choices` list");
    return json as unknown as Answer;
  };
}

/** The status an in-band error names (vLLM puts the HTTP status in `code`), else 500. */
function statusOf(error: Record<string, unknown>): number {
  const code = error.code;
  return typeof code === "number" && code >= 400 && code < 600 ? code : 500;
}

export function openAIStream(client: UpstreamClient, path: string): StreamDialect {
  const target = client.target;
  return {
    provider: target.provider,
    label: LABEL,
    event(data) {
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        throw unexpectedResponse(target.provider, LABEL, `a stream event that is not JSON (${data.slice(0, 80)})`);
      }
      if (!isRecord(json)) throw unexpectedResponse(target.provider, LABEL, "a stream event that is not a JSON object");
      const error = isRecord(json.error) ? json.error : typeof json.error === "string" || json.object === "error" ? json : undefined;
      if (error === undefined) return json;
      const failure = { status: statusOf(error), headers: { "content-type": "application/json" }, body: data, method: "POST", url: target.apiBase + path };
      throw fromUpstream(openAIError({ ...failure, retryAfterMs: undefined, target }));
    },
    incomplete: () =>
      new APIConnectionError(`The stream from ${LABEL} at ${target.apiBase} ended before its answer was complete.`, {
        provider: target.provider,
        origin: "upstream",
      }),
  };
}
