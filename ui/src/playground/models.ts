/**
 * The models each playground tab offers: the names `/v1/models` lists for the chosen key (a virtual key sees
 * only its own), each tagged with what it does when the proxy knows it — `model_info.mode` from `/model/info`,
 * or the type and abilities the deployments' servers report (`/health`, as the Models page shows them, read
 * with the session's master key). A model nothing is known of is offered on every tab.
 */
import { api } from "../api";
import type { HealthReport, ModelInfo } from "../types";

export type ModelKind = "embedding" | "image" | "chat" | "rerank" | "audio";

export interface PlaygroundModel {
  id: string;
  /** Empty when nothing says what the model does. */
  kinds: ReadonlySet<ModelKind>;
  /** Image abilities (`text2image`, `image2image`, `inpainting`), when the server reports them. */
  abilities: ReadonlySet<string>;
}

interface ModelList {
  data: Array<{ id: string; model_type?: string; model_ability?: string[] }>;
}

const MODES: Record<string, ModelKind> = {
  embedding: "embedding",
  image_generation: "image",
  image_edit: "image",
  chat: "chat",
  completion: "chat",
  rerank: "rerank",
  audio_transcription: "audio",
  audio_speech: "audio",
};

const TYPES: Record<string, ModelKind> = { embedding: "embedding", image: "image", LLM: "chat", rerank: "rerank", audio: "audio" };

function tag(table: Map<string, { kinds: Set<ModelKind>; abilities: Set<string> }>, id: string, kind: ModelKind | undefined, abilities: readonly string[] = []): void {
  const entry = table.get(id) ?? { kinds: new Set<ModelKind>(), abilities: new Set<string>() };
  if (kind) entry.kinds.add(kind);
  for (const ability of abilities) entry.abilities.add(ability);
  table.set(id, entry);
}

/** What every playground tab is given: the models it may offer, the key to call with, and why it cannot call yet. */
export interface TabProps {
  models: readonly PlaygroundModel[];
  /** Undefined: the signed-in master key. */
  apiKey: string | undefined;
  /** Why no call can be made with the chosen key; null when one can. */
  blocked: string | null;
}

export async function loadModels(key: string | undefined, signal: AbortSignal): Promise<PlaygroundModel[]> {
  // What the models do is a help, not a need: without it every model is offered on every tab.
  const [list, info, health] = await Promise.all([
    api<ModelList>("/v1/models", { key, signal }),
    api<ModelInfo>("/model/info", { signal }).catch(() => undefined),
    api<HealthReport>("/health", { signal }).catch(() => undefined),
  ]);
  const known = new Map<string, { kinds: Set<ModelKind>; abilities: Set<string> }>();
  for (const entry of info?.data ?? []) tag(known, entry.model_name, MODES[String(entry.model_info.mode ?? "")]);
  for (const d of [...(health?.healthy_endpoints ?? []), ...(health?.unhealthy_endpoints ?? [])]) {
    tag(known, d.model_name, d.model_type ? TYPES[d.model_type] : undefined, d.model_ability);
  }
  for (const m of list.data) tag(known, m.id, m.model_type ? TYPES[m.model_type] : undefined, m.model_ability);
  return list.data
    .map((m) => ({ id: m.id, kinds: known.get(m.id)?.kinds ?? new Set<ModelKind>(), abilities: known.get(m.id)?.abilities ?? new Set<string>() }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The models for a tab: those of its kind, and those nothing is known of. */
export function modelsOfKind(models: readonly PlaygroundModel[], kind: ModelKind, ability?: string): PlaygroundModel[] {
  return models.filter((m) => {
    if (m.kinds.size > 0 && !m.kinds.has(kind)) return false;
    if (ability && m.abilities.size > 0 && !m.abilities.has(ability)) return false;
    return true;
  });
}
