/** The Xinference provider: one module per operation, its catalog, and its error mapping. */
import type { Provider } from "../types.js";
import { chat } from "./chat.js";
import { completion } from "./completion.js";
import { PROVIDER } from "./constants.js";
import { embedding } from "./embedding.js";
import { xinferenceError } from "./errors.js";
import { imageEdit } from "./image-edit.js";
import { imageGeneration } from "./image-generation.js";
import { CONNECTION, launchModel, listModels } from "./models.js";
import { rerank } from "./rerank.js";
import { speech } from "./speech.js";
import { transcription } from "./transcription.js";

export const xinference: Provider = {
  name: PROVIDER,
  connection: CONNECTION,
  toError: xinferenceError,
  embedding,
  imageGeneration,
  imageEdit,
  rerank,
  transcription,
  speech,
  chat,
  completion,
  listModels,
  launchModel,
};
