/**
 * Whether a model can do an image edit or an audio call, judged from what its server reports (Xinference's
 * `model_type` and `model_ability`), so that an impossible call is refused with a 400 before any upload
 * reaches a GPU.
 */

export interface ModelCapabilities {
  modelType: string | undefined;
  abilities: readonly string[] | undefined;
}

/** An edit with a mask is inpainting; without one, image-to-image — as Xinference dispatches them. */
export function requiredEditAbility(withMask: boolean): "inpainting" | "image2image" {
  return withMask ? "inpainting" : "image2image";
}

/**
 * Why a model cannot do this edit, or undefined when it can or when its capabilities are unknown (then the
 * upstream decides).
 */
export function editRefusal(capabilities: ModelCapabilities, withMask: boolean): string | undefined {
  const { modelType, abilities } = capabilities;
  if (modelType !== undefined && modelType !== "image") return `it is a ${modelType} model, not an image model`;
  if (abilities === undefined) return undefined;
  const needed = requiredEditAbility(withMask);
  if (abilities.includes(needed)) return undefined;
  const has = abilities.length > 0 ? abilities.join(", ") : "none";
  return withMask
    ? `an edit with a mask needs the inpainting ability, and its abilities are: ${has}`
    : `an edit without a mask needs the image2image ability, and its abilities are: ${has}` +
        (abilities.includes("inpainting") ? " (send a mask to inpaint instead)" : "");
}

/** Transcriptions and translations need `audio2text`; speech a `text2audio` ability (`text2audio_zero_shot`…). */
export type AudioUse = "audio2text" | "text2audio";

/** Why a model cannot serve this audio call, or undefined when it can or when its capabilities are unknown. */
export function audioRefusal(capabilities: ModelCapabilities, use: AudioUse): string | undefined {
  const { modelType, abilities } = capabilities;
  if (modelType !== undefined && modelType !== "audio") return `it is a ${modelType} model, not an audio model`;
  if (abilities === undefined || abilities.some((ability) => ability.startsWith(use))) return undefined;
  const has = abilities.length > 0 ? abilities.join(", ") : "none";
  return use === "audio2text"
    ? `turning speech into text needs the audio2text ability, and its abilities are: ${has}`
    : `speaking text needs the text2audio ability, and its abilities are: ${has}`;
}

/** What a chat or text completion needs of its model, from the request alone. */
export interface LlmNeeds {
  operation: "chat" | "completion";
  /** Image content parts. */
  vision: boolean;
  /** Tools, or a conversation that already holds tool calls. */
  tools: boolean;
}

/**
 * Why an LLM cannot take this request, or undefined when it can or when its capabilities are unknown (then
 * the upstream decides). Every LLM generates text; a chat needs `chat`, images `vision` (or `omni`), tools
 * `tools` — the abilities Xinference reports.
 */
export function llmRefusal(capabilities: ModelCapabilities, needs: LlmNeeds): string | undefined {
  const { modelType, abilities } = capabilities;
  if (modelType !== undefined && modelType !== "LLM") return `it is a${/^[aeiou]/i.test(modelType) ? "n" : ""} ${modelType} model, not an LLM`;
  if (abilities === undefined) return undefined;
  const has = `its abilities are: ${abilities.length > 0 ? abilities.join(", ") : "none"}`;
  if (needs.operation === "chat" && !abilities.includes("chat")) {
    return `a chat needs the chat ability, and ${has}` + (abilities.includes("generate") ? " (send it a prompt on /v1/completions instead)" : "");
  }
  if (needs.vision && !abilities.includes("vision") && !abilities.includes("omni")) return `image content needs the vision ability, and ${has}`;
  if (needs.tools && !abilities.includes("tools")) return `tools need the tools ability, and ${has}`;
  return undefined;
}
