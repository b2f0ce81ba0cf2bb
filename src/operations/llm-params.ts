/**
 * The checks on the parameters chat and text completions share, with OpenAI's ranges, and on `stream` /
 * `stream_options`. Each failure is a 400 that names the parameter and what it takes.
 */
import { BadRequestError } from "../errors.js";
import { isRecord } from "../providers/shape.js";
import type { RawParams } from "./types.js";
import { optionalBoolean, optionalInteger, optionalNumber, optionalString } from "./validate.js";

/** OpenAI takes at most four stop sequences. */
const MAX_STOP = 4;

function stopOf(value: unknown): string | string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length <= MAX_STOP && value.every((s) => typeof s === "string")) return value as string[];
  throw new BadRequestError(`stop must be a string or a list of up to ${MAX_STOP} strings, e.g. ["\\n\\n", "User:"].`, { param: "stop" });
}

function logitBiasOf(value: unknown): Record<string, number> | undefined {
  if (value === undefined || value === null) return undefined;
  const valid =
    isRecord(value) && Object.entries(value).every(([token, bias]) => /^\d+$/.test(token) && typeof bias === "number" && bias >= -100 && bias <= 100);
  if (!valid) {
    throw new BadRequestError('logit_bias must map token ids to biases from -100 to 100, e.g. {"50256": -100}.', { param: "logit_bias" });
  }
  return value as Record<string, number>;
}

/** The given values only: what goes upstream carries no keys the client did not send. */
export function defined<T extends object>(params: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = value;
  return out as T;
}

/** The parameters both kinds of completion take. */
export function sharedParams(raw: RawParams) {
  return {
    max_tokens: optionalInteger(raw.max_tokens, "max_tokens", 1),
    temperature: optionalNumber(raw.temperature, "temperature", 0, 2),
    top_p: optionalNumber(raw.top_p, "top_p", 0, 1),
    n: optionalInteger(raw.n, "n", 1, 128),
    stop: stopOf(raw.stop),
    seed: optionalInteger(raw.seed, "seed", Number.MIN_SAFE_INTEGER),
    presence_penalty: optionalNumber(raw.presence_penalty, "presence_penalty", -2, 2),
    frequency_penalty: optionalNumber(raw.frequency_penalty, "frequency_penalty", -2, 2),
    logit_bias: logitBiasOf(raw.logit_bias),
    user: optionalString(raw.user, "user"),
  };
}

export const SHARED_KEYS = [
  "max_tokens",
  "temperature",
  "top_p",
  "n",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "user",
  "stream",
  "stream_options",
] as const;

/** `stream`, and whether the client wants the usage chunk at the end of the stream. */
export function streamOf(raw: RawParams): { stream: boolean; includeUsage: boolean } {
  const stream = optionalBoolean(raw.stream, "stream") ?? false;
  const options = raw.stream_options;
  if (options === undefined || options === null) return { stream, includeUsage: false };
  if (!stream) {
    throw new BadRequestError("stream_options is only allowed with stream: true; leave it out, or set stream: true.", { param: "stream_options" });
  }
  if (!isRecord(options)) throw new BadRequestError('stream_options must be an object such as {"include_usage": true}.', { param: "stream_options" });
  return { stream, includeUsage: optionalBoolean(options.include_usage, "stream_options.include_usage") ?? false };
}
