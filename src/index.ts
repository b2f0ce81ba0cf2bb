/**
 * xgate's SDK: embeddings, image generation, image edits, rerank, transcriptions, translations and speech
 * against Xinference, with LiteLLM's parameter names and OpenAI-shaped responses.
 */
export { embedding } from "./sdk/embedding.js";
export { imageGeneration } from "./sdk/image-generation.js";
export { imageEdit } from "./sdk/image-edit.js";
export { rerank } from "./sdk/rerank.js";
export { transcription, translation } from "./sdk/transcription.js";
export { speech } from "./sdk/speech.js";
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
  Usage,
} from "./types.js";
