/**
 * Any OpenAI-compatible server (vLLM, OpenAI's own API, another xgate…) at the api_base a call names: one
 * module per operation, its connection and its error mapping. The same provider answers to two names, as in
 * LiteLLM: `openai/` and `hosted_vllm/` (LiteLLM's name for a vLLM server).
 */
import type { Provider } from "../types.js";
import { chat } from "./chat.js";
import { completion } from "./completion.js";
import { connectionOf } from "./connection.js";
import { embedding } from "./embedding.js";
import { openAIError } from "./errors.js";
import { imageEdit } from "./image-edit.js";
import { imageGeneration } from "./image-generation.js";
import { launchModel, listModels } from "./models.js";
import { rerank } from "./rerank.js";
import { speech } from "./speech.js";
import { transcription } from "./transcription.js";

function openAICompatible(name: string): Provider {
  const connection = connectionOf(name);
  return {
    name,
    connection,
    toError: openAIError,
    embedding,
    imageGeneration,
    imageEdit,
    rerank,
    chat,
    completion,
    transcription,
    speech,
    listModels: (target) => listModels(connection, target),
    launchModel: () => launchModel(connection),
  };
}

export const openai = openAICompatible("openai");
export const hostedVllm = openAICompatible("hosted_vllm");
