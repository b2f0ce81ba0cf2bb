/** The provider registry: model strings `provider/uid` pick a provider by their prefix. */
import { BadRequestError } from "../errors.js";
import { hostedVllm, openai } from "./openai/index.js";
import type { Provider } from "./types.js";
import { xinference } from "./xinference/index.js";

export type {
  AudioTask,
  ChatRequest,
  ChunkStream,
  EmbeddingRequest,
  EmbeddingResult,
  ImageEditRequest,
  ImageGenerationRequest,
  ImageResult,
  ImageSize,
  LaunchModelSpec,
  LlmAnswer,
  Provider,
  ProviderModel,
  RerankRequest,
  SpeechRequest,
  Transcript,
  TranscriptionRequest,
  TextCompletionParams,
  TextCompletionRequest,
} from "./types.js";

const PROVIDERS: ReadonlyMap<string, Provider> = new Map([xinference, openai, hostedVllm].map((provider) => [provider.name, provider]));

export function listProviders(): string[] {
  return [...PROVIDERS.keys()];
}

function supported(): string {
  return `Supported providers: ${listProviders().join(", ")}.`;
}

/** Splits `provider/uid` at the first `/`: the uid itself may contain `/` (`xinference/stabilityai/sd3.5`). */
export function parseModelString(model: unknown): { provider: string; uid: string } {
  if (typeof model !== "string" || model.trim() === "") {
    throw new BadRequestError("model is required: a string such as 'xinference/bge-base-en'.", { param: "model" });
  }
  const slash = model.indexOf("/");
  const provider = slash < 0 ? "" : model.slice(0, slash);
  const uid = slash < 0 ? "" : model.slice(slash + 1);
  if (provider === "") {
    throw new BadRequestError(
      `model '${model}' has no provider prefix: write it as 'provider/model-uid', e.g. 'xinference/${slash < 0 ? model : uid}'. ${supported()}`,
      { param: "model" },
    );
  }
  if (uid === "") {
    throw new BadRequestError(`model '${model}' names no model after '${provider}/': add the model's uid.`, {
      param: "model",
    });
  }
  return { provider, uid };
}

export function getProvider(name: string): Provider {
  const provider = PROVIDERS.get(name);
  if (provider === undefined) {
    throw new BadRequestError(`Unknown provider '${name}'. ${supported()}`, { param: "model" });
  }
  return provider;
}

/** The provider and uid a model string names. */
export function resolveModel(model: unknown): { provider: Provider; uid: string } {
  const { provider, uid } = parseModelString(model);
  return { provider: getProvider(provider), uid };
}
