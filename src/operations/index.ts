/** The operations, each as parse + run (see types.ts), for the SDK facades and the proxy's pipeline. */
import type { RerankResponse } from "../types.js";
import { type ChatCall, type ChatResult, parseChat, runChat } from "./chat.js";
import { parseTextCompletion, runTextCompletion, type TextCompletionCall, type TextCompletionResult } from "./completion.js";
import { type Embeddings, type EmbeddingsRequest, parseEmbeddings, runEmbeddings } from "./embeddings.js";
import { type StreamedEmbeddings, streamEmbeddings } from "./embeddings-stream.js";
import { disposeImageEdit, type ImageEditCall, parseImageEdit, runImageEdit } from "./image-edit.js";
import { type ImageGenerationCall, parseImageGeneration, runImageGeneration } from "./image-generation.js";
import type { Images } from "./images.js";
import { parseRerank, type RerankCall, runRerank } from "./rerank.js";
import { parseSpeech, runSpeech, type SpeechAudio, type SpeechCall } from "./speech.js";
import {
  disposeTranscription,
  parseTranscription,
  parseTranslation,
  runTranscription,
  type TranscriptionAnswer,
  type TranscriptionCall,
} from "./transcription.js";
import { inputTokens, textTokens } from "./token-estimate.js";
import type { OperationTarget, RawParams } from "./types.js";

export type { ChatCall, ChatResult } from "./chat.js";
export type { TextCompletionCall, TextCompletionResult } from "./completion.js";
export type { AnswerUsage, Chunks, LlmResult, StreamedResult, WholeResult } from "./llm-answer.js";
export type { Embeddings, EmbeddingsRequest, EncodingFormat } from "./embeddings.js";
export type { EmbeddingAnswer, StreamedEmbeddings } from "./embeddings-stream.js";
export { ANSWER_HEAD, answerTail, DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_CONCURRENCY, itemBytes, representation } from "./embeddings.js";
export type { ImageEditCall } from "./image-edit.js";
export type { ImageGenerationCall } from "./image-generation.js";
export type { Images } from "./images.js";
export type { RerankCall } from "./rerank.js";
export type { SpeechAudio, SpeechCall } from "./speech.js";
export type { TranscriptionAnswer, TranscriptionCall } from "./transcription.js";
export { CALL_OPTIONS, type OperationTarget, type RawParams } from "./types.js";

/** What an operation is, as code names it (spend logs' call types, telemetry); `name` is for messages. */
export type OperationKind =
  | "embeddings"
  | "image_generation"
  | "image_edit"
  | "rerank"
  | "transcription"
  | "translation"
  | "speech"
  | "chat"
  | "text_completion";

export interface Operation<Request, Result> {
  readonly kind: OperationKind;
  /** As messages name it, e.g. `embeddings`. */
  readonly name: string;
  /** Checks a caller's parameters (without the call options) and gives the typed request; throws a 400 naming the fix. */
  parse(raw: RawParams): Request;
  run(request: Request, target: OperationTarget): Promise<Result>;
  /** Tokens a result used, counted against `tpm` limits and by usage-based routing. */
  tokensOf?(result: Result): number | undefined;
  /** Tokens the request is expected to use, reserved against `tpm` limits until `tokensOf` says. */
  estimateTokens?(request: Request): number;
  /**
   * For a result whose body is still being produced when `run` resolves: a promise of its end, with the
   * tokens used. The router keeps the attempt open until then.
   */
  done?(result: Result): Promise<number | undefined> | undefined;
  /** Releases what `parse` took hold of (files), whatever happened. */
  dispose?(request: Request): void;
}

export const embeddings: Operation<EmbeddingsRequest, Embeddings> = {
  kind: "embeddings",
  name: "embeddings",
  parse: parseEmbeddings,
  run: runEmbeddings,
  tokensOf: (result) => result.totalTokens,
  estimateTokens: (request) => inputTokens(request.items),
};

/**
 * Embeddings for the proxy: the same parse, answered as its chunks complete (see embeddings-stream.ts)
 * rather than collected into objects.
 */
export const embeddingsAnswer: Operation<EmbeddingsRequest, StreamedEmbeddings> = {
  kind: "embeddings",
  name: "embeddings",
  parse: parseEmbeddings,
  run: streamEmbeddings,
  tokensOf: (result) => result.tokens,
  estimateTokens: (request) => inputTokens(request.items),
  done: (result) => result.done,
};

export const imageGeneration: Operation<ImageGenerationCall, Images> = {
  kind: "image_generation",
  name: "image generation",
  parse: parseImageGeneration,
  run: runImageGeneration,
};

export const imageEdit: Operation<ImageEditCall, Images> = {
  kind: "image_edit",
  name: "image edit",
  parse: parseImageEdit,
  run: runImageEdit,
  dispose: disposeImageEdit,
};

export const rerank: Operation<RerankCall, RerankResponse> = {
  kind: "rerank",
  name: "rerank",
  parse: parseRerank,
  run: runRerank,
  tokensOf: (result) => result.meta.tokens?.input_tokens,
  estimateTokens: (request) => textTokens(request.query) * request.documents.length + inputTokens(request.documents),
};

export const transcription: Operation<TranscriptionCall, TranscriptionAnswer> = {
  kind: "transcription",
  name: "transcription",
  parse: parseTranscription,
  run: runTranscription,
  dispose: disposeTranscription,
};

export const translation: Operation<TranscriptionCall, TranscriptionAnswer> = {
  kind: "translation",
  name: "translation",
  parse: parseTranslation,
  run: runTranscription,
  dispose: disposeTranscription,
};

/** Speech: the attempt lasts until the audio has all been passed on (see speech.ts). */
export const speech: Operation<SpeechCall, SpeechAudio> = {
  kind: "speech",
  name: "speech",
  parse: parseSpeech,
  run: runSpeech,
  done: (result) => result.done,
};

/** The tokens of a whole answer at once; of a streamed one, when its stream ends (see llm-answer.ts). */
const llmTokens = {
  tokensOf: (result: ChatResult | TextCompletionResult) => (result.stream ? undefined : result.usage.total_tokens),
  done: (result: ChatResult | TextCompletionResult) => (result.stream ? result.done.then((answer) => answer.usage.total_tokens) : undefined),
};

export const chat: Operation<ChatCall, ChatResult> = {
  kind: "chat",
  name: "chat completion",
  parse: parseChat,
  run: runChat,
  ...llmTokens,
};

export const textCompletion: Operation<TextCompletionCall, TextCompletionResult> = {
  kind: "text_completion",
  name: "text completion",
  parse: parseTextCompletion,
  run: runTextCompletion,
  ...llmTokens,
};
