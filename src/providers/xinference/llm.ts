/**
 * What Xinference's chat and completion calls share: the request body, and how its streams read. Streams are
 * sse-starlette's (CRLF, `: ping` comments, which the SSE reader handles); once one has begun, everything is
 * HTTP 200 and in-band, an engine error or the model's request limit included: `data: {"error":
 * "<str(exception)>"}`, where an HTTPException reads `"<status>: <detail>"`. Those become the same errors as
 * Xinference's error answers.
 */
import { APIConnectionError, type APIError, fromUpstream } from "../../errors.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { StreamDialect } from "../llm-answer.js";
import type { ChatRequest, TextCompletionRequest } from "../types.js";
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

/** How Xinference's streams read: its in-band errors, and its words for a stream cut short. */
export function xinferenceStream(client: UpstreamClient, path: string): StreamDialect {
  return { provider: PROVIDER, label: LABEL, event: (data) => eventObject(data, client, path), incomplete: () => incompleteStream(client) };
}
