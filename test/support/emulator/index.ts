// The Xinference emulator: a stand-in Xinference REST server for tests, benchmarks and trying xgate without a
// GPU. It follows Xinference's REST API (statuses, bodies, quirks); it does no inference.
import { EmulatorServer } from "./server.js";
import type { Emulator, EmulatorOptions, LaunchSpec } from "./types.js";

export type {
  ApiKeySpec,
  Emulator,
  EmulatorOptions,
  EmulatorRoute,
  Fault,
  Flavor,
  LaunchSpec,
  ModelType,
  RecordedFile,
  RecordedMultipart,
  RecordedRequest,
} from "./types.js";

/** Launched when `models` is not given: what an xgate user typically runs on Xinference. */
export const DEFAULT_MODELS: LaunchSpec[] = [
  { model_name: "bge-base-en", model_type: "embedding" },
  { model_name: "bge-small-en-v1.5", model_type: "embedding" },
  { model_name: "bge-large-en-v1.5", model_type: "embedding" },
  { model_name: "sd3.5-large", model_type: "image", model_uid: "stabilityai/stable-diffusion-3.5-large" },
  { model_name: "sd-turbo", model_type: "image" },
  { model_name: "stable-diffusion-inpainting", model_type: "image" },
  { model_name: "bge-reranker-base", model_type: "rerank" },
  { model_name: "qwen2.5-instruct", model_type: "LLM", model_engine: "vllm" },
  { model_name: "whisper-large-v3", model_type: "audio" },
  { model_name: "ChatTTS", model_type: "audio" },
];

/**
 * Starts an emulated Xinference server; several can run in one process.
 *
 * @example
 * const xinference = await startEmulator({ apiKeys: ["sk-abcdefghijklm"] });
 * const res = await fetch(`${xinference.baseUrl}/embeddings`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer sk-abcdefghijklm", "content-type": "application/json" },
 *   body: JSON.stringify({ model: "bge-base-en", input: "hello" }),
 * });
 * await xinference.close();
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  return new EmulatorServer(opts).start(opts.models ?? DEFAULT_MODELS);
}
