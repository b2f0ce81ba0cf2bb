/**
 * OpenAI-shaped request and response types. Parameter names are snake_case on purpose: they mirror the
 * OpenAI wire format and LiteLLM's Python SDK, so a request body can be passed through as it is.
 */
import type { Readable } from "node:stream";
import type { ChatCompletionCreateParams } from "./openai/chat.js";
import type { CompletionCreateParams } from "./openai/completions.js";

/** Options every call takes, besides the operation's own parameters. */
export interface CallOptions {
  /** Base URL of the provider's OpenAI-style API, e.g. `http://127.0.0.1:9997/v1`. */
  api_base?: string;
  api_key?: string;
  /** Per-attempt timeout in seconds (default 600, as in LiteLLM). */
  timeout?: number;
  /** Retries after the first attempt on connection errors, 408, 409, 429 and 5xx (default 2). */
  num_retries?: number;
  /** LiteLLM's other name for `num_retries`. */
  max_retries?: number;
  /** Drop parameters the provider does not support instead of failing with UnsupportedParamsError. */
  drop_params?: boolean;
  extra_headers?: Record<string, string>;
  /** Cancels the call, including retries and their waits. */
  signal?: AbortSignal;
}

/** Provider-specific parameters that are not part of the OpenAI request, passed on to the provider. */
export type ProviderExtras = Record<string, unknown>;

export type EmbeddingInput = string | string[] | number[] | number[][];

export interface EmbeddingParams extends CallOptions {
  model: string;
  input: EmbeddingInput;
  encoding_format?: "float" | "base64";
  dimensions?: number;
  user?: string;
  /** Inputs per upstream request: larger inputs are split (default 256). */
  max_batch_size?: number;
  /** Upstream requests in flight at once when an input is split (default 4). */
  max_concurrency?: number;
  [extra: string]: unknown;
}

export interface Embedding {
  object: "embedding";
  index: number;
  /** Floats, or a base64 string of little-endian float32 when `encoding_format: "base64"` was asked. */
  embedding: number[] | string;
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
}

export interface EmbeddingResponse {
  object: "list";
  data: Embedding[];
  model: string;
  usage: Usage;
}

export type ImageResponseFormat = "url" | "b64_json";

export interface ImageGenerationParams extends CallOptions {
  model: string;
  prompt: string;
  n?: number;
  /** `WIDTHxHEIGHT`, e.g. `1024x1024`. */
  size?: string;
  response_format?: ImageResponseFormat;
  quality?: string;
  style?: string;
  user?: string;
  /** Xinference extras such as `negative_prompt`, `num_inference_steps`, `guidance_scale`, `seed`. */
  [extra: string]: unknown;
}

/** A file given as bytes plus what to call it. */
export interface FileLike {
  data: Uint8Array | Blob | Readable;
  filename?: string;
  contentType?: string;
}

/** Anything a file can be passed as: bytes, a Blob or File, a readable stream (an `fs.ReadStream` keeps its name), or `{ data, filename, contentType }`. */
export type FileInput = Uint8Array | Blob | Readable | FileLike;

/** An image, in any form a file can be passed as. */
export type ImageInput = FileInput;

export interface ImageEditParams extends CallOptions {
  model: string;
  image: ImageInput | ImageInput[];
  prompt: string;
  mask?: ImageInput;
  n?: number;
  /** `WIDTHxHEIGHT`, or `original` (the default) for the input image's own size. */
  size?: string;
  response_format?: ImageResponseFormat;
  quality?: string;
  user?: string;
  [extra: string]: unknown;
}

export interface ImageData {
  b64_json?: string;
  url?: string;
  revised_prompt?: string;
}

export interface ImageResponse {
  created: number;
  data: ImageData[];
}

export interface RerankParams extends CallOptions {
  model: string;
  query: string;
  documents: Array<string | { text: string }>;
  top_n?: number;
  /** Default true, as in LiteLLM. */
  return_documents?: boolean;
  [extra: string]: unknown;
}

export interface RerankResult {
  index: number;
  relevance_score: number;
  document?: { text: string };
}

export interface RerankResponse {
  id: string;
  results: RerankResult[];
  meta: {
    api_version?: unknown;
    billed_units?: { search_units?: number; total_tokens?: number } | null;
    tokens?: { input_tokens?: number; output_tokens?: number } | null;
  };
}

/** `json` and `verbose_json` answer objects; `text`, `srt` and `vtt` answer text, as OpenAI's API does. */
export type TranscriptionResponseFormat = "json" | "text" | "srt" | "verbose_json" | "vtt";

export type TimestampGranularity = "segment" | "word";

/** A transcription or a translation (which takes the same parameters: the audio is translated into English). */
export interface TranscriptionParams extends CallOptions {
  model: string;
  /** The audio: WAV, MP3, AAC, FLAC, Ogg, WebM, MP4/M4A or AIFF. */
  file: FileInput;
  /** The audio's language, as ISO-639-1 (`en`), so the model need not guess it. */
  language?: string;
  prompt?: string;
  /** Default `json`. */
  response_format?: TranscriptionResponseFormat;
  /** From 0 to 1; higher is more random. */
  temperature?: number;
  /** With `verbose_json`: which timings to give (default segments). */
  timestamp_granularities?: TimestampGranularity[];
  [extra: string]: unknown;
}

/** The `json` answer. */
export interface Transcription {
  text: string;
}

export interface TranscriptionSegment {
  id: number;
  /** Where the segment's text starts in the whole text. */
  seek: number;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

export interface TranscriptionWord {
  word: string;
  start: number;
  end: number;
}

/** The `verbose_json` answer. */
export interface TranscriptionVerbose {
  task: "transcribe" | "translate";
  language: string;
  /** Seconds. */
  duration: number;
  text: string;
  segments?: TranscriptionSegment[];
  words?: TranscriptionWord[];
}

/** OpenAI's formats; the `content_type` of the answer follows it. */
export type SpeechResponseFormat = "mp3" | "opus" | "aac" | "flac" | "wav" | "pcm";

export interface SpeechParams extends CallOptions {
  model: string;
  /** The text to speak, at most 4096 characters. */
  input: string;
  /** The model's voice or speaker, e.g. `alloy` for OpenAI's models; what a model knows is its own. */
  voice: string;
  /** Default `mp3`. */
  response_format?: SpeechResponseFormat;
  /** From 0.25 to 4.0; default 1. */
  speed?: number;
  /**
   * Ask the model to send its audio as it synthesizes it, so the first bytes come sooner (Xinference's
   * `stream`; not every model can). The answer is a stream of bytes either way.
   */
  stream?: boolean;
  [extra: string]: unknown;
}

/** Spoken audio, as it arrives: like the Response openai-node's `audio.speech.create` returns. */
export interface SpeechResponse {
  /** The audio's type, from the response_format asked for: `audio/mpeg`, `audio/wav`… */
  content_type: string;
  /** The audio bytes as they arrive. Destroying it (or aborting the call's signal) cancels the upstream request. */
  body: Readable;
  /** Reads the whole audio; rejects when the upstream broke off before its end. */
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** `completion()`'s parameters: OpenAI's chat request, the call options, and provider extras such as `enable_thinking`. */
export interface ChatCompletionParams extends CallOptions, ChatCompletionCreateParams {
  [extra: string]: unknown;
}

/** `textCompletion()`'s parameters: OpenAI's text completion request, the call options, and provider extras. */
export interface TextCompletionParams extends CallOptions, CompletionCreateParams {
  [extra: string]: unknown;
}
