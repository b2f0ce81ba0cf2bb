/**
 * Xinference's error answers, in every form it has, to xgate's error classes: `{"detail": "..."}` from an
 * HTTPException, FastAPI's 422 list, the text/plain "Internal Server Error: ..." of an uncaught exception, and
 * whatever a proxy in front of it sends (HTML pages, empty bodies). The upstream's own words are kept.
 */
import { BadRequestError, errorFromStatus, NotFoundError, UnsupportedParamsError } from "../../errors.js";
import type { APIError, APIErrorOptions } from "../../errors.js";
import type { UpstreamFailure } from "../../upstream/http.js";
import { displayUrl } from "../../upstream/target.js";
import { isRecord } from "../shape.js";
import { imageModelsWith } from "./catalog.js";
import type { ImageAbility } from "./catalog.js";

import { PROVIDER } from "./constants.js";
const MAX_MESSAGE = 1000;

interface Parsed {
  message: string;
  /** The request field at fault, from a FastAPI validation list. */
  param?: string;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/** FastAPI's `[{"loc": ["body", "prompt"], "msg": "Field required", ...}]` as `prompt: Field required`. */
function validationList(items: unknown[]): Parsed {
  const fields: string[] = [];
  const lines = items.map((item) => {
    if (!isRecord(item)) return JSON.stringify(item);
    const loc = Array.isArray(item.loc) ? item.loc.filter((part) => part !== "body").map(String) : [];
    if (loc[0] !== undefined) fields.push(loc[0]);
    const msg = typeof item.msg === "string" ? item.msg : JSON.stringify(item);
    return loc.length > 0 ? `${loc.join(".")}: ${msg}` : msg;
  });
  return { message: `Invalid request: ${lines.join("; ")}`, ...(fields[0] === undefined ? {} : { param: fields[0] }) };
}

function fromJson(value: unknown): Parsed | undefined {
  if (!isRecord(value)) return undefined;
  const detail = value.detail;
  if (typeof detail === "string") return { message: detail };
  if (Array.isArray(detail)) return validationList(detail);
  if (detail !== undefined && detail !== null) return { message: JSON.stringify(detail) };
  // Not Xinference's own form, but what an OpenAI-style server in between would send.
  const error = value.error;
  if (isRecord(error) && typeof error.message === "string") return { message: error.message };
  if (typeof error === "string") return { message: error };
  if (typeof value.message === "string") return { message: value.message };
  return undefined;
}

function fromHtml(html: string, failure: UpstreamFailure): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  const text = title || html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 120);
  return (
    `${failure.target.label} at ${displayUrl(failure.target.apiBase)} answered HTTP ${failure.status} with an HTML page ` +
    `("${text}"), not Xinference's JSON: is api_base pointing at Xinference's API (e.g. http://127.0.0.1:9997/v1)?`
  );
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function contentTypeOf(failure: UpstreamFailure): string {
  const value = failure.headers["content-type"];
  return (Array.isArray(value) ? value[0] : value)?.toLowerCase() ?? "";
}

function parseBody(failure: UpstreamFailure): Parsed {
  const text = failure.body.trim();
  if (text === "") return { message: `${failure.target.label} answered HTTP ${failure.status} with an empty body.` };
  const type = contentTypeOf(failure);
  if (type.includes("json") || text.startsWith("{")) {
    try {
      const parsed = fromJson(JSON.parse(text));
      if (parsed !== undefined) return { ...parsed, message: clip(parsed.message) };
    } catch {
      // Not JSON after all: read as text below.
    }
  }
  if (type.includes("html") || /^<(!doctype|html)/i.test(text)) return { message: fromHtml(text, failure) };
  return { message: clip(text) };
}

/** The engine refused because the model cannot do this: a 500 at Xinference, but retrying cannot help. */
function capabilityHint(message: string): string | undefined {
  const ability = /does not support (text2image|image2image|inpainting)/.exec(message)?.[1] as ImageAbility | undefined;
  if (ability !== undefined) {
    const operation =
      ability === "text2image" ? "Image generation needs" : ability === "inpainting" ? "An edit with a mask needs" : "An image edit needs";
    return `${operation} a model with the ${ability} ability, e.g. ${imageModelsWith(ability).slice(0, 4).join(", ")}.`;
  }
  // The model actor's AttributeError for each operation: "Model {spec} is not for creating image." and its kin.
  if (/is not for (creating (embedding|image|transcriptions|translations|speech)|reranking|chat|generate|txt2img)\b/.test(message)) {
    return "The model is of another type: use its uid with the matching operation (GET /v1/models lists each model's model_type).";
  }
  return undefined;
}

/** What Python's `json.JSONDecodeError` says, as `json.loads(kwargs)` raises it in the image, rerank and audio routes. */
const JSON_DECODE_PROBLEMS = [
  "Expecting value",
  "Expecting property name enclosed in double quotes",
  "Expecting ',' delimiter",
  "Expecting ':' delimiter",
  "Extra data",
  "Unterminated string starting at",
  "Invalid control character at",
  "Invalid \\escape",
  "Invalid \\uXXXX escape",
];

function isJsonDecodeError(text: string): boolean {
  return JSON_DECODE_PROBLEMS.some((problem) => text.startsWith(`${problem}: `)) && /: line \d+ column \d+ \(char \d+\)$/.test(text);
}

/** What ffmpeg's reader, under the transformers pipeline, says of an upload it cannot decode. */
const UNREADABLE_AUDIO = "Soundfile is either not in the correct format or is malformed";

/** The audio models' 500s that are the request's fault: an upload that is no audio, a parameter the model does not take. */
function audioMistake(text: string, options: APIErrorOptions): APIError | undefined {
  if (text.startsWith(UNREADABLE_AUDIO)) {
    return new BadRequestError(
      "Xinference could not decode the uploaded audio: the file is not audio, or is cut short or damaged. " +
        "Send a whole WAV, MP3, FLAC, Ogg, WebM or M4A file as 'file'.",
      { ...options, code: "invalid_audio", param: "file" },
    );
  }
  if (/is not suitable for translations/.test(text)) {
    return new BadRequestError(`${sentence(text)} Translations need a multilingual model (e.g. whisper-large-v3, not a .en one).`, {
      ...options,
      code: "unsupported_by_model",
      param: "model",
    });
  }
  // A Python TypeError from the model's method: an extra, sent in kwargs, that the model does not take.
  const unexpected = /\.(transcriptions|translations|speech)\(\) got an unexpected keyword argument '([^']+)'/.exec(text);
  if (unexpected !== null) {
    const param = unexpected[2] as string;
    return new UnsupportedParamsError(
      `The model does not take the parameter '${param}' (${text}). Remove it from the request.`,
      { ...options, param },
    );
  }
  return undefined;
}

/**
 * Xinference's 500s that are the request's fault, not the deployment's: the same request gets the same
 * answer anywhere, so they are the client's 400 (and never cool a deployment down). Undefined for any other.
 */
function clientMistake(message: string, failure: UpstreamFailure, options: APIErrorOptions): APIError | undefined {
  // The same text reaches us as a JSON detail, or after the "Internal Server Error: " of an uncaught exception.
  const text = message.replace(/^Internal Server Error: /, "");
  const hint = capabilityHint(text);
  if (hint !== undefined) return new BadRequestError(`${sentence(text)} ${hint}`, { ...options, code: "unsupported_by_model", param: "model" });
  // A request Xinference could not validate (its text/plain 500).
  if (/^\d+ validation errors? for /.test(text)) return new BadRequestError(message, options);
  if (text.startsWith("cannot identify image file")) {
    // PIL's UnidentifiedImageError, from Image.open on an upload; its "<_io.BytesIO object at 0x…>" says nothing.
    return new BadRequestError(
      "Xinference could not open an uploaded image (PIL: cannot identify image file): the file is not an image, or is " +
        "cut short or damaged. Send a whole PNG, JPEG or WebP file as the image (and the mask).",
      { ...options, code: "invalid_image", param: "image" },
    );
  }
  const audio = audioMistake(text, options);
  if (audio !== undefined) return audio;
  // vLLM's words for a prompt the model's context window cannot hold: the same anywhere the model runs.
  if (/is longer than the maximum model length of \d+|maximum context length is \d+ tokens/.test(text)) {
    return new BadRequestError(`${sentence(text)} Shorten the messages (or the prompt), or lower max_tokens.`, {
      ...options,
      code: "context_length_exceeded",
      param: "messages",
    });
  }
  const format = /^Unsupported response format: (.*)$/.exec(text)?.[1];
  if (format !== undefined) {
    const accepted = failure.url.includes("/images/") ? ": use 'b64_json' or 'url'" : ": use one the operation supports";
    return new BadRequestError(`Xinference does not support response_format '${format}' here${accepted}.`, {
      ...options,
      param: "response_format",
    });
  }
  if (isJsonDecodeError(text)) {
    return new BadRequestError(
      `Xinference could not parse the request's kwargs as JSON (${text}): send kwargs as a JSON object of engine parameters, e.g. {"seed": 7}.`,
      { ...options, code: "invalid_kwargs", param: "kwargs" },
    );
  }
  const notMapping = /argument after \*\* must be a mapping, not (\w+)/.exec(text)?.[1];
  if (notMapping !== undefined) {
    return new BadRequestError(
      `Xinference needs kwargs to be a JSON object of engine parameters, not a ${notMapping}: send e.g. {"seed": 7}.`,
      { ...options, code: "invalid_kwargs", param: "kwargs" },
    );
  }
  return undefined;
}

export function xinferenceError(failure: UpstreamFailure): APIError {
  const { message, param } = parseBody(failure);
  const options = { provider: PROVIDER, retryAfterMs: failure.retryAfterMs, param: param ?? null };
  const status = failure.status;

  if (status === 500) {
    const mistake = clientMistake(message, failure, options);
    if (mistake !== undefined) return mistake;
  }
  // Xinference before v2.7 answered an unknown uid with 400: the same error as 404 since.
  if (status === 404 || (status === 400 && message.startsWith("Model not found in the model list"))) {
    if (message === "Not Found") {
      return new NotFoundError(
        `${failure.target.label} has no route ${failure.method} ${displayUrl(failure.url)} (404 Not Found): ` +
          "is api_base Xinference's API root, ending in /v1 (e.g. http://127.0.0.1:9997/v1)?",
        { ...options, code: "not_found", param: "api_base" },
      );
    }
    return new NotFoundError(message, { ...options, param: "model" });
  }
  if (status === 401) {
    const fix =
      failure.target.apiKey === undefined
        ? "No API key was sent: pass api_key or set XINFERENCE_API_KEY."
        : "The API key was refused: check api_key / XINFERENCE_API_KEY.";
    return errorFromStatus(status, `${sentence(message)} ${fix}`, options);
  }
  return errorFromStatus(status, message, options);
}
