/**
 * xgate's SDK: embeddings, image generation, image edits, rerank, chat and text completions, transcriptions,
 * translations and speech against Xinference and OpenAI-compatible servers, with LiteLLM's parameter names and
 * OpenAI-shaped responses.
 */
export { embedding } from "./sdk/embedding.js";
export { imageGeneration } from "./sdk/image-generation.js";
export { imageEdit } from "./sdk/image-edit.js";
export { rerank } from "./sdk/rerank.js";
export { transcription, translation } from "./sdk/transcription.js";
export { speech } from "./sdk/speech.js";
export { completion } from "./sdk/completion.js";
export { textCompletion } from "./sdk/text-completion.js";
export { CompletionStream } from "./sdk/stream.js";
export type * from "./openai/chat.js";
export type { Completion, CompletionChoice, CompletionCreateParams, CompletionLogprobs } from "./openai/completions.js";
export type { SamplingParams } from "./openai/sampling.js";
export type { CompletionUsage } from "./openai/usage.js";
export type { AnswerUsage } from "./operations/index.js";
export {
  APIConnectionError,
  APIError,
  APITimeoutError,
  AuthenticationError,
  BadGatewayError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTimeoutError,
  ServiceUnavailableError,
  UnprocessableEntityError,
  UnsupportedParamsError,
} from "./errors.js";
export type { APIErrorOptions } from "./errors.js";
export type {
  CallOptions,
  ChatCompletionParams,
  Embedding,
  EmbeddingInput,
  EmbeddingParams,
  EmbeddingResponse,
  FileInput,
  FileLike,
  ImageData,
  ImageEditParams,
  ImageGenerationParams,
  ImageInput,
  ImageResponse,
  ImageResponseFormat,
  ProviderExtras,
  RerankParams,
  RerankResponse,
  RerankResult,
  SpeechParams,
  SpeechResponse,
  SpeechResponseFormat,
  TimestampGranularity,
  Transcription,
  TranscriptionParams,
  TranscriptionResponseFormat,
  TranscriptionSegment,
  TranscriptionVerbose,
  TranscriptionWord,
  TextCompletionParams,
  Usage,
} from "./types.js";
