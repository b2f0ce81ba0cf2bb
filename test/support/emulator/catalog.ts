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

export interface LLMModelSpec {
  model_type: "LLM";
  model_name: string;
  context_length: number;
  model_ability: string[];
  model_lang: string[];
}

export type ModelSpec = EmbeddingModelSpec | ImageModelSpec | RerankModelSpec | LLMModelSpec;

function embedding(names: string[], dimensions: number, max_tokens: number, lang: string): EmbeddingModelSpec[] {
  return names.map((model_name) => ({ model_type: "embedding", model_name, dimensions, max_tokens, language: [lang] }));
}

function image(names: string[], model_ability: ImageAbility[], model_family = "stable_diffusion"): ImageModelSpec[] {
  return names.map((model_name) => ({ model_type: "image", model_name, model_family, model_ability }));
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

  // An LLM, so that calling an embedding or image route with an LLM uid can be tested.
  {
    model_type: "LLM",
    model_name: "qwen2.5-instruct",
    context_length: 32768,
    model_ability: ["generate", "chat", "tools"],
    model_lang: ["en", "zh"],
  },
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
  return Object.entries(spec)
    .filter(([key]) => key !== "model_type")
    .map(([key, value]) => `${key}=${repr(value)}`)
    .join(" ");
}
