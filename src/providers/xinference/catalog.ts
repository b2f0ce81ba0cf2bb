/**
 * Xinference's builtin models (its model_spec.json), as far as helpful errors need them: the vector length of
 * each embedding model and the abilities of each image model. Running models may differ (a uid of the user's
 * choosing, dimensions set at launch), so this only ever adds hints; it never decides a request.
 */

const EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  "bge-base-en": 768,
  "bge-base-en-v1.5": 768,
  "bge-base-zh": 768,
  "bge-base-zh-v1.5": 768,
  "bge-large-en": 1024,
  "bge-large-en-v1.5": 1024,
  "bge-large-zh": 1024,
  "bge-large-zh-noinstruct": 1024,
  "bge-large-zh-v1.5": 1024,
  "bge-small-en-v1.5": 384,
  "bge-small-zh": 512,
  "bge-small-zh-v1.5": 512,
  "e5-large-v2": 1024,
  "gte-base": 768,
  "gte-large": 1024,
  "jina-embeddings-v2-base-en": 512,
  "jina-embeddings-v2-small-en": 512,
  "multilingual-e5-large": 1024,
};

export type ImageAbility = "text2image" | "image2image" | "inpainting";

const ALL: ImageAbility[] = ["text2image", "image2image", "inpainting"];
const GENERATE_AND_EDIT: ImageAbility[] = ["text2image", "image2image"];

const IMAGE_ABILITIES: Readonly<Record<string, readonly ImageAbility[]>> = {
  "sd3.5-large": ALL,
  "sd3.5-large-turbo": ALL,
  "sd3.5-medium": ALL,
  "sd3-medium": ALL,
  "FLUX.1-schnell": ALL,
  "FLUX.1-dev": ALL,
  "FLUX.2-dev": ALL,
  "Qwen-Image": ALL,
  "Qwen-Image-2512": ALL,
  "stable-diffusion-xl-base-1.0": GENERATE_AND_EDIT,
  "stable-diffusion-v1.5": GENERATE_AND_EDIT,
  kolors: GENERATE_AND_EDIT,
  "Z-Image": GENERATE_AND_EDIT,
  "Z-Image-Turbo": GENERATE_AND_EDIT,
  "FLUX.2-klein-4B": GENERATE_AND_EDIT,
  "FLUX.2-klein-9B": GENERATE_AND_EDIT,
  "GLM-Image": GENERATE_AND_EDIT,
  "sd-turbo": ["text2image"],
  "sdxl-turbo": ["text2image"],
  cogview4: ["text2image"],
  "HunyuanDiT-v1.2": ["text2image"],
  "HunyuanDiT-v1.2-Distilled": ["text2image"],
  Ideogram4: ["text2image"],
  "FLUX.1-Kontext-dev": ["image2image"],
  "Qwen-Image-Edit": ["image2image"],
  "Qwen-Image-Edit-2509": ["image2image"],
  "Qwen-Image-Edit-2511": ["image2image"],
  "Qwen-Image-Layered": ["image2image"],
  "FireRed-Image-Edit-1.1": ["image2image"],
  "stable-diffusion-inpainting": ["inpainting"],
  "stable-diffusion-2-inpainting": ["inpainting"],
  "stable-diffusion-xl-inpainting": ["inpainting"],
};

/** Builtin embedding models whose vectors have this length. */
export function embeddingModelsWithDimensions(dimensions: number): string[] {
  return Object.keys(EMBEDDING_DIMENSIONS).filter((name) => EMBEDDING_DIMENSIONS[name] === dimensions);
}

/** Builtin image models that have an ability. */
export function imageModelsWith(ability: ImageAbility): string[] {
  return Object.keys(IMAGE_ABILITIES).filter((name) => IMAGE_ABILITIES[name]?.includes(ability) === true);
}
