// The builtin models the emulator can launch, with the facts Xinference's model_spec.json gives them
// (see the wire doc). Only what a response or a behaviour depends on is kept.
import type { ModelType } from "./types.js";

export type ImageAbility = "text2image" | "image2image" | "inpainting" | "ocr";

export interface EmbeddingModelSpec {
  model_type: "embedding";
  model_name: string;
  dimensions: number;
  max_tokens: number;
  language: string[];
}

export interface ImageModelSpec {
  model_type: "image";
  model_name: string;
  model_family: string;
  model_ability: ImageAbility[];
}

export interface RerankModelSpec {
  model_type: "rerank";
  model_name: string;
  max_tokens: number;
  language: string[];
}

export type LLMAbility = "generate" | "chat" | "tools" | "vision" | "reasoning";

/** An LLM family with the one spec (format, size, quantization) a plain launch picks: the first in the file. */
export interface LLMModelSpec {
  model_type: "LLM";
  model_name: string;
  context_length: number;
  /** "tools" puts the family in Xinference's tool-call families; "reasoning" makes it think before it answers. */
  model_ability: LLMAbility[];
  model_lang: string[];
  model_format: string;
  /** As the spec file writes it: a number, or a string such as "0_5" for half a billion. */
  model_size_in_billions: number | string;
  quantization: string;
  model_id: string;
}

export type AudioAbility = "audio2text" | "text2audio" | "text2audio_zero_shot";

export interface AudioModelSpec {
  model_type: "audio";
  model_name: string;
  model_family: string;
  model_ability: AudioAbility[];
  model_id: string;
  model_revision: string;
}

export type ModelSpec = EmbeddingModelSpec | ImageModelSpec | RerankModelSpec | LLMModelSpec | AudioModelSpec;

function embedding(names: string[], dimensions: number, max_tokens: number, lang: string): EmbeddingModelSpec[] {
  return names.map((model_name) => ({ model_type: "embedding", model_name, dimensions, max_tokens, language: [lang] }));
}

function image(names: string[], model_ability: ImageAbility[], model_family = "stable_diffusion"): ImageModelSpec[] {
  return names.map((model_name) => ({ model_type: "image", model_name, model_family, model_ability }));
}

function llm(
  model_name: string,
  model_ability: LLMAbility[],
  context_length: number,
  model_lang: string[],
  model_size_in_billions: number | string,
  model_id: string,
): LLMModelSpec {
  return {
    model_type: "LLM",
    model_name,
    context_length,
    model_ability,
    model_lang,
    model_format: "pytorch",
    model_size_in_billions,
    quantization: "none",
    model_id,
  };
}

function audio(
  model_name: string,
  model_family: string,
  model_ability: AudioAbility[],
  model_id: string,
  model_revision: string,
): AudioModelSpec {
  return { model_type: "audio", model_name, model_family, model_ability, model_id, model_revision };
}

const T2I_I2I_INPAINT: ImageAbility[] = ["text2image", "image2image", "inpainting"];

const SPECS: ModelSpec[] = [
  ...embedding(["bge-base-en", "bge-base-en-v1.5"], 768, 512, "en"),
  ...embedding(["bge-base-zh", "bge-base-zh-v1.5"], 768, 512, "zh"),
  ...embedding(["bge-large-en", "bge-large-en-v1.5"], 1024, 512, "en"),
  ...embedding(["bge-large-zh", "bge-large-zh-noinstruct", "bge-large-zh-v1.5"], 1024, 512, "zh"),
  ...embedding(["bge-small-en-v1.5"], 384, 512, "en"),
  ...embedding(["bge-small-zh", "bge-small-zh-v1.5"], 512, 512, "zh"),
  ...embedding(["e5-large-v2"], 1024, 512, "en"),
  ...embedding(["gte-base"], 768, 512, "en"),
  ...embedding(["gte-large"], 1024, 512, "en"),
  // 512 because the spec file says so, although the real jina-embeddings-v2-base-en has 768.
  ...embedding(["jina-embeddings-v2-base-en"], 512, 8192, "en"),
  ...embedding(["jina-embeddings-v2-small-en"], 512, 8192, "en"),
  // "zh" because the spec file says so.
  ...embedding(["multilingual-e5-large"], 1024, 514, "zh"),

  ...image(["sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3-medium"], T2I_I2I_INPAINT),
  ...image(
    [
      "stable-diffusion-xl-base-1.0",
      "stable-diffusion-v1.5",
      "kolors",
      "Z-Image",
      "Z-Image-Turbo",
      "FLUX.2-klein-4B",
      "FLUX.2-klein-9B",
      "GLM-Image",
    ],
    ["text2image", "image2image"],
  ),
  ...image(["FLUX.1-schnell", "FLUX.1-dev", "FLUX.2-dev", "Qwen-Image", "Qwen-Image-2512"], T2I_I2I_INPAINT),
  ...image(
    ["sd-turbo", "sdxl-turbo", "cogview4", "HunyuanDiT-v1.2", "HunyuanDiT-v1.2-Distilled", "Ideogram4"],
    ["text2image"],
  ),
  ...image(
    [
      "FLUX.1-Kontext-dev",
      "Qwen-Image-Edit",
      "Qwen-Image-Edit-2509",
      "Qwen-Image-Edit-2511",
      "Qwen-Image-Layered",
      "FireRed-Image-Edit-1.1",
    ],
    ["image2image"],
  ),
  ...image(["stable-diffusion-inpainting", "stable-diffusion-2-inpainting", "stable-diffusion-xl-inpainting"], [
    "inpainting",
  ]),
  ...image(["GOT-OCR2_0", "DeepSeek-OCR", "PaddleOCR-VL", "HunyuanOCR", "DeepDoc"], ["ocr"], "ocr"),

  { model_type: "rerank", model_name: "bge-reranker-base", max_tokens: 512, language: ["en", "zh"] },
  { model_type: "rerank", model_name: "bge-reranker-large", max_tokens: 512, language: ["en", "zh"] },
  { model_type: "rerank", model_name: "bge-reranker-v2-m3", max_tokens: 8192, language: ["en", "zh", "multilingual"] },
  { model_type: "rerank", model_name: "jina-reranker-v2", max_tokens: 1024, language: ["en", "zh", "multilingual"] },

  llm("qwen2.5-instruct", ["chat", "tools"], 32768, ["en", "zh"], "0_5", "Qwen/Qwen2.5-0.5B-Instruct"),
  llm("llama-3.1-instruct", ["chat", "tools"], 131072, ["en", "de", "fr", "it", "pt", "hi", "es", "th"], 8, "meta-llama/Meta-Llama-3.1-8B-Instruct"),
  llm("deepseek-r1-distill-qwen", ["chat", "reasoning"], 131072, ["en", "zh"], "1_5", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"),
  llm("qwen2-vl-instruct", ["chat", "vision"], 32768, ["en", "zh"], 2, "Qwen/Qwen2-VL-2B-Instruct"),
  llm("gpt-2", ["generate"], 1024, ["en"], "1_5", "openai-community/gpt2"),

  audio("whisper-large-v3", "whisper", ["audio2text"], "openai/whisper-large-v3", "6cdf07a7e3ec3806e5d55f787915b85d4cd020b1"),
  audio("whisper-large-v3-turbo", "whisper", ["audio2text"], "openai/whisper-large-v3-turbo", "41f01f3fe87f28c78e2fbf8b568835947dd65ed9"),
  audio("ChatTTS", "ChatTTS", ["text2audio", "text2audio_zero_shot"], "2Noise/ChatTTS", "1a3c04a8b0651689bd9242fbb55b1f4b5a9aef84"),
];

const BY_TYPE_AND_NAME = new Map(SPECS.map((spec) => [`${spec.model_type}\u0000${spec.model_name}`, spec]));

export function findModelSpec(modelType: ModelType, modelName: string): ModelSpec | undefined {
  return BY_TYPE_AND_NAME.get(`${modelType}\u0000${modelName}`);
}

export function builtinModelNames(modelType: ModelType): string[] {
  return SPECS.filter((spec) => spec.model_type === modelType).map((spec) => spec.model_name);
}

/** `str(model_spec)` of a pydantic model, which Xinference engine errors interpolate ("Model {spec} is not for…"). */
export function specStr(spec: ModelSpec): string {
  const repr = (value: unknown): string =>
    Array.isArray(value) ? `[${value.map(repr).join(", ")}]` : typeof value === "string" ? `'${value}'` : String(value);
  // An LLM's `model_spec` is the launched spec (format, size, quantization), not the family.
  const fields: object =
    spec.model_type === "LLM"
      ? {
          model_format: spec.model_format,
          model_size_in_billions: spec.model_size_in_billions,
          quantization: spec.quantization,
          model_id: spec.model_id,
          model_hub: "huggingface",
        }
      : spec;
  return Object.entries(fields)
    .filter(([key]) => key !== "model_type")
    .map(([key, value]) => `${key}=${repr(value)}`)
    .join(" ");
}

/** Xinference's tool-call families: the builtin LLMs with the "tools" ability (a Python set in its messages). */
export function toolCallFamilies(): string[] {
  return SPECS.filter((spec) => spec.model_type === "LLM" && spec.model_ability.includes("tools")).map((spec) => spec.model_name);
}
