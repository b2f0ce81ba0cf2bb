/**
 * An OpenAI-compatible server's error answers to xgate's error classes: OpenAI's `{"error": {"message",
 * "type", "param", "code"}}`, the flat `{"object": "error", "message", …}` of vLLM before it nested them,
 * FastAPI's `{"detail": …}` where the framework answers before the server's handlers (an unknown route), and
 * whatever a proxy in between sends (HTML, text, nothing). The server's own words are kept.
 */
import { errorFromStatus, NotFoundError } from "../../errors.js";
import type { APIError } from "../../errors.js";
import type { UpstreamFailure } from "../../upstream/http.js";
import { displayUrl } from "../../upstream/target.js";
import { isRecord } from "../shape.js";
import { EXAMPLE_API_BASE } from "./connection.js";

const MAX_MESSAGE = 1000;

interface Parsed {
  message: string;
  /** The request field at fault, as the server named it. */
  param?: string;
  /** What the body was: an HTML page is what a wrong api_base (a web server, a proxy) tends to answer. */
  form: "json" | "text" | "html" | "empty";
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function withParam(message: string, param: unknown): Parsed {
  return typeof param === "string" && param !== "" ? { message, param, form: "json" } : { message, form: "json" };
}

function fromJson(value: unknown): Parsed | undefined {
  if (!isRecord(value)) return undefined;
  const error = value.error;
  if (isRecord(error) && typeof error.message === "string") return withParam(error.message, error.param);
  if (typeof error === "string") return withParam(error, undefined);
  if (typeof value.message === "string") return withParam(value.message, value.param);
  if (typeof value.detail === "string") return withParam(value.detail, undefined);
  if (value.detail !== undefined && value.detail !== null) return withParam(JSON.stringify(value.detail), undefined);
  return undefined;
}

function parseBody(failure: UpstreamFailure): Parsed {
  const text = failure.body.trim();
  if (text === "") return { message: `${failure.target.label} answered HTTP ${failure.status} with an empty body.`, form: "empty" };
  if (text.startsWith("{")) {
    try {
      const parsed = fromJson(JSON.parse(text));
      if (parsed !== undefined) return { ...parsed, message: clip(parsed.message) };
    } catch {
      // Not JSON after all: read as text below.
    }
  }
  if (/^<(!doctype|html)/i.test(text)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return { message: `an HTML page${title ? ` ("${title}")` : ""}`, form: "html" };
  }
  return { message: clip(text), form: "text" };
}

/** A 404 for the route rather than for the model: FastAPI's "Not Found", OpenAI's "Invalid URL …", or no JSON at all. */
function isMissingRoute(parsed: Parsed): boolean {
  return parsed.form === "html" || parsed.form === "empty" || /^(404 )?not found\.?$/i.test(parsed.message) || parsed.message.startsWith("Invalid URL");
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function openAIError(failure: UpstreamFailure): APIError {
  const parsed = parseBody(failure);
  const { target, status } = failure;
  const options = { provider: target.provider, retryAfterMs: failure.retryAfterMs, param: parsed.param ?? null };
  if (status === 404 && isMissingRoute(parsed)) {
    const route = failure.url.startsWith(target.apiBase) ? failure.url.slice(target.apiBase.length) : displayUrl(failure.url);
    const answer = parsed.form === "empty" ? "" : ` (${parsed.message})`;
    return new NotFoundError(
      `${target.label} at ${displayUrl(target.apiBase)} has no route ${failure.method} ${route}: it answered 404${answer}. ` +
        `The server does not offer this operation, or api_base is not its API root (ending in /v1, e.g. ${EXAMPLE_API_BASE}).`,
      { ...options, code: "not_found", param: "api_base" },
    );
  }
  if (status === 404) return new NotFoundError(parsed.message, { ...options, param: parsed.param ?? "model" });
  if (status === 401) {
    const fix = target.apiKey === undefined ? "No API key was sent: set api_key." : "The API key was refused: check api_key.";
    return errorFromStatus(status, `${sentence(parsed.message)} ${fix}`, options);
  }
  if (parsed.form === "html") {
    return errorFromStatus(
      status,
      `${target.label} at ${displayUrl(target.apiBase)} answered HTTP ${status} with ${parsed.message}, not an OpenAI-style error: ` +
        `is api_base the server's API root (e.g. ${EXAMPLE_API_BASE})?`,
      options,
    );
  }
  return errorFromStatus(status, parsed.message, options);
}
