/**
 * What a provider is to xgate: its connection defaults, how its error bodies become error classes, and one
 * function per operation that turns an OpenAI-shaped request into the provider's own and back. The SDK has
 * already checked what OpenAI's API itself requires (a prompt, n in range, a well-formed size…) and removed
 * the call options; a provider checks what only it knows (which parameters it supports).
 */
import type { Readable } from "node:stream";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionSamplingParams } from "../openai/chat.js";
import type { Completion, CompletionCreateParams } from "../openai/completions.js";
import type { CompletionUsage } from "../openai/usage.js";
import type { UpstreamClient } from "../upstream/client.js";
import type { FileSource } from "../upstream/files.js";
import type { ErrorMapper } from "../upstream/http.js";
import type { ConnectionDefaults } from "../upstream/target.js";
import type { VectorList } from "./vectors.js";
import type {
  CallOptions,
  EmbeddingInput,
  ImageResponseFormat,
  RerankResponse,
  SpeechResponseFormat,
  TimestampGranularity,
  TranscriptionSegment,
  TranscriptionWord,
  Usage,
} from "../types.js";

interface ProviderCall {
  /** The model's id at the provider: the model string without its `provider/` prefix. */
  uid: string;
  /** Drop unsupported parameters instead of failing. */
  dropParams: boolean;
  /** Parameters that are not part of the OpenAI request, with undefined and null values removed. */
  extras: Record<string, unknown>;
}

export interface EmbeddingRequest extends ProviderCall {
  input: EmbeddingInput;
  dimensions?: number;
  user?: string;
  /** The answer will be written as float32 (base64): a provider reading float text may convert it as it reads. */
  float32?: boolean;
}

/** Vectors in input order. */
export interface EmbeddingResult {
  vectors: VectorList;
  usage: Usage;
}

/** Images as the provider answered them: base64 text, checked, kept as bytes (never decoded on the way through). */
export interface ImageResult {
  /** Unix seconds. */
  created: number;
  /** Each image's base64, as ASCII bytes, in order. */
  images: Buffer[];
}

export interface ImageSize {
  width: number;
  height: number;
}

export interface ImageGenerationRequest extends ProviderCall {
  prompt: string;
  n?: number;
  size?: ImageSize;
  response_format: ImageResponseFormat;
  quality?: unknown;
  style?: unknown;
  user?: unknown;
}

export interface ImageEditRequest extends ProviderCall {
  /** At least one; the first is the image to edit, the others are references. */
  images: FileSource[];
  mask?: FileSource;
  prompt: string;
  n?: number;
  /** `original`: the input image's size. */
  size: ImageSize | "original";
  response_format: ImageResponseFormat;
  quality?: unknown;
  user?: unknown;
}

export interface RerankRequest extends ProviderCall {
  query: string;
  documents: string[];
  top_n?: number;
  return_documents: boolean;
}

/** `transcribe`: text in the audio's language; `translate`: text in English. */
export type AudioTask = "transcribe" | "translate";

export interface TranscriptionRequest extends ProviderCall {
  task: AudioTask;
  file: FileSource;
  language?: string;
  prompt?: string;
  temperature?: number;
  /** The timings the answer needs: none when the text alone will do. */
  timings: readonly TimestampGranularity[];
}

/** What the provider heard, in OpenAI's terms; the operation writes it in the format the caller asked for. */
export interface Transcript {
  /** Without leading or trailing whitespace. */
  text: string;
  language: string | undefined;
  /** Seconds, when the provider said or its timings show. */
  duration: number | undefined;
  segments: TranscriptionSegment[] | undefined;
  words: TranscriptionWord[] | undefined;
}

export interface SpeechRequest extends ProviderCall {
  input: string;
  voice: string;
  response_format: SpeechResponseFormat;
  speed?: number;
  /** Ask the model to stream its audio as it synthesizes it. */
  stream: boolean;
}

/**
 * A streamed answer's chunks in OpenAI's shape, whatever the provider's own stream looks like; by the time a
 * provider hands one over, its first chunk has arrived. Read it once. The provider has asked for the usage
 * whether or not the client did: the usage chunk is passed on only when the client asked, and `usage`
 * holds it either way.
 */
export interface ChunkStream<Chunk> extends AsyncIterable<Chunk> {
  /** The usage the upstream reported, once the stream has ended; undefined when it reported none. */
  readonly usage: CompletionUsage | undefined;
  /** Stops reading and cancels the upstream request; a read in progress fails at once with `reason`. */
  cancel(reason?: Error): void;
}

/** A completion, whole or streamed, as the request asked. */
export type LlmAnswer<Whole, Chunk> = { stream: false; answer: Whole } | { stream: true; chunks: ChunkStream<Chunk> };

interface LlmCall extends ProviderCall {
  stream: boolean;
  /** The client asked for the usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
}

export interface ChatRequest extends LlmCall {
  messages: readonly ChatCompletionMessageParam[];
  /** OpenAI's parameters the client gave besides the messages, checked. */
  params: ChatCompletionSamplingParams;
}

/** OpenAI's text completion parameters besides the prompt. */
export type TextCompletionParams = Omit<CompletionCreateParams, "model" | "prompt" | "stream" | "stream_options">;

export interface TextCompletionRequest extends LlmCall {
  prompt: CompletionCreateParams["prompt"];
  params: TextCompletionParams;
}

/** A model running at the provider, as `GET /v1/models` lists it. */
export interface ProviderModel {
  id: string;
  /** `embedding`, `image`, `rerank`, `LLM`… */
  model_type: string | undefined;
  model_name: string | undefined;
  /** Embedding models: the length of their vectors. */
  dimensions?: number;
 /** Image models: `text2image`, `image2image`, `inpainting`…; audio models: `audio2text`, `text2audio`…; LLMs: `generate`, `chat`, `vision`, `tools`… */
  model_ability?: string[];
  /** Everything the provider said about the model. */
  raw: Record<string, unknown>;
}

/** A model to start at the provider (Xinference: `POST /v1/models`). */
export interface LaunchModelSpec {
  model_name: string;
  model_type: string;
  model_uid?: string;
  replica?: number;
  [option: string]: unknown;
}

export interface Provider {
  readonly name: string;
  readonly connection: ConnectionDefaults;
  readonly toError: ErrorMapper;
  embedding(request: EmbeddingRequest, client: UpstreamClient): Promise<EmbeddingResult>;
  imageGeneration(request: ImageGenerationRequest, client: UpstreamClient): Promise<ImageResult>;
  imageEdit(request: ImageEditRequest, client: UpstreamClient): Promise<ImageResult>;
  rerank(request: RerankRequest, client: UpstreamClient): Promise<RerankResponse>;
  /** A transcription, or a translation into English (`task`). */
  transcription(request: TranscriptionRequest, client: UpstreamClient): Promise<Transcript>;
  /**
   * Resolves at the headers of a 2xx answer with the audio bytes as they arrive: a failure before then is the
   * attempt's; after, it errors the stream. Destroying the stream cancels the upstream request.
   */
  speech(request: SpeechRequest, client: UpstreamClient): Promise<Readable>;
  chat(request: ChatRequest, client: UpstreamClient): Promise<LlmAnswer<ChatCompletion, ChatCompletionChunk>>;
  /** Text completions (`/completions`); a streamed one's chunks have the answer's shape. */
  completion(request: TextCompletionRequest, client: UpstreamClient): Promise<LlmAnswer<Completion, Completion>>;
  /** The models running at the target (for health checks). */
  listModels(target: CallOptions): Promise<ProviderModel[]>;
  /** Starts a model and resolves with its uid. Not retried unless `num_retries` says so: a launch is not idempotent. */
  launchModel(target: CallOptions, spec: LaunchModelSpec): Promise<string>;
}
