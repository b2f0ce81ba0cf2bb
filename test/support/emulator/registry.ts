// The running models of one emulated Xinference cluster: launch, terminate, loading state, replicas,
// per-model request limits. Every lookup failure carries the status and text the real supervisor gives.
import { builtinModelNames, findModelSpec } from "./catalog.js";
import type { ModelSpec } from "./catalog.js";
import { detailError } from "./errors.js";
import { pythonStrListRepr } from "./python.js";
import type { LaunchSpec } from "./types.js";

export interface RunningModel {
  readonly uid: string;
  readonly spec: ModelSpec;
  readonly replica: number;
  readonly accelerators: string[];
  readonly maxConcurrent: number | undefined;
  /** Reasoning LLMs: launched with `reasoning_content`, so their thinking is split out of `content`. */
  readonly reasoningContent: boolean;
  loading: boolean;
  inFlight: number;
  nextReplica: number;
  loadingTimer: NodeJS.Timeout | undefined;
  readyWaiters: ((error?: Error) => void)[];
}

interface InFlightWaiter {
  uid: string;
  count: number;
  resolve: () => void;
}

const TYPE_LABEL = { embedding: "Embedding", image: "Image", rerank: "Rerank", LLM: "LLM", audio: "Audio" } as const;

export class ModelRegistry {
  private readonly models = new Map<string, RunningModel>();
  private readonly inFlightWaiters = new Set<InFlightWaiter>();
  private readonly idleWaiters = new Set<{ uid: string; resolve: () => void }>();
  private launched = 0;

  constructor(
    private readonly legacyNotFound400: boolean,
    /** The worker address models report; nothing listens there, as nothing serves image paths either. */
    readonly workerAddress: string,
  ) {}

  launch(spec: LaunchSpec): RunningModel {
    const modelSpec = findModelSpec(spec.model_type, spec.model_name);
    if (modelSpec === undefined) {
      throw detailError(
        400,
        `${TYPE_LABEL[spec.model_type]} model ${spec.model_name} not found, available models: ${pythonStrListRepr(builtinModelNames(spec.model_type))}`,
      );
    }
    const uid = spec.model_uid ?? spec.model_name;
    if (this.models.has(uid)) throw detailError(400, `Model is already in the model list, uid: ${uid}`);
    const replica = spec.replica ?? 1;
    if (!Number.isInteger(replica) || replica < 1) throw detailError(400, `Invalid replica ${String(replica)}: must be >= 1`);
    const accelerators = Array.from({ length: replica }, (_, k) => String((this.launched + k) % 8));
    this.launched += replica;
    const model: RunningModel = {
      uid,
      spec: modelSpec,
      replica,
      accelerators,
      maxConcurrent: spec.max_concurrent,
      reasoningContent: spec.reasoning_content === true,
      loading: false,
      inFlight: 0,
      nextReplica: 0,
      loadingTimer: undefined,
      readyWaiters: [],
    };
    this.models.set(uid, model);
    if (spec.loading_ms !== undefined && spec.loading_ms > 0) {
      model.loading = true;
      model.loadingTimer = setTimeout(() => this.setLoading(uid, false), spec.loading_ms);
    }
    return model;
  }

  /** Resolves when the model has loaded (for `wait_ready=true`); rejects when it is terminated first. */
  whenReady(model: RunningModel): Promise<void> {
    if (!model.loading) return Promise.resolve();
    return new Promise((resolve, reject) => {
      model.readyWaiters.push((error) => (error === undefined ? resolve() : reject(error)));
    });
  }

  terminate(uid: string): void {
    const model = this.models.get(uid);
    if (model === undefined) throw detailError(400, `Model not found in the model list, uid: ${uid}`);
    clearTimeout(model.loadingTimer);
    this.models.delete(uid);
    const waiters = model.readyWaiters.splice(0);
    for (const wake of waiters) wake(detailError(500, `Model ${uid} was terminated while loading`));
  }

  setLoading(uid: string, loading: boolean): void {
    const model = this.models.get(uid);
    if (model === undefined) throw new Error(`setLoading: no model with uid ${uid}`);
    clearTimeout(model.loadingTimer);
    model.loadingTimer = undefined;
    model.loading = loading;
    if (!loading) for (const wake of model.readyWaiters.splice(0)) wake();
  }

  get(uid: string): RunningModel | undefined {
    return this.models.get(uid);
  }

  list(): RunningModel[] {
    return [...this.models.values()];
  }

  /** The model an inference call names: 404 (400 before v2.7) when unknown, 503 while it loads. */
  resolve(uid: string): RunningModel {
    const model = this.models.get(uid);
    if (model === undefined) {
      throw detailError(
        this.legacyNotFound400 ? 400 : 404,
        `Model not found in the model list, uid: ${uid}. Available model uids: ${pythonStrListRepr([...this.models.keys()])}`,
      );
    }
    if (model.loading) {
      throw detailError(503, `Model is loading, please retry later: ${uid}`, { "Retry-After": "30" });
    }
    return model;
  }

  /** Counts a request in flight; 429 past the model's request limit. Returns the release function. */
  acquire(model: RunningModel): () => void {
    if (model.maxConcurrent !== undefined && model.inFlight >= model.maxConcurrent) {
      throw detailError(
        429,
        `Rate limit reached for the model. Request limit ${model.maxConcurrent} for the model: ${model.uid}`,
      );
    }
    model.inFlight++;
    for (const waiter of this.inFlightWaiters) {
      if (waiter.uid === model.uid && model.inFlight >= waiter.count) {
        this.inFlightWaiters.delete(waiter);
        waiter.resolve();
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      model.inFlight--;
      if (model.inFlight > 0) return;
      for (const waiter of this.idleWaiters) {
        if (waiter.uid !== model.uid) continue;
        this.idleWaiters.delete(waiter);
        waiter.resolve();
      }
    };
  }

  waitForIdle(uid: string): Promise<void> {
    const model = this.models.get(uid);
    if (model === undefined || model.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add({ uid, resolve }));
  }

  waitForInFlight(uid: string, count: number): Promise<void> {
    const model = this.models.get(uid);
    if (model !== undefined && model.inFlight >= count) return Promise.resolve();
    return new Promise((resolve) => this.inFlightWaiters.add({ uid, count, resolve }));
  }

  /** Replicas are picked round-robin per uid. */
  nextReplicaUid(model: RunningModel): string {
    const k = model.nextReplica;
    model.nextReplica = (k + 1) % model.replica;
    return `${model.uid}-rep${k}`;
  }

  /** The model's description, as `GET /v1/models/{uid}` returns it and `GET /v1/models` spreads it. */
  describe(model: RunningModel): Record<string, unknown> {
    const common = { model_type: model.spec.model_type, address: this.workerAddress, accelerators: model.accelerators };
    const spec = model.spec;
    switch (spec.model_type) {
      case "embedding":
        return {
          ...common,
          model_name: spec.model_name,
          dimensions: spec.dimensions,
          max_tokens: spec.max_tokens,
          language: spec.language,
          model_revision: null,
          replica: model.replica,
        };
      case "image":
        return {
          ...common,
          model_name: spec.model_name,
          model_family: spec.model_family,
          model_revision: null,
          controlnet: null,
          model_ability: spec.model_ability,
          replica: model.replica,
        };
      case "rerank":
        return {
          ...common,
          type: "normal",
          model_name: spec.model_name,
          language: spec.language,
          model_revision: null,
          replica: model.replica,
        };
      case "LLM":
        return {
          ...common,
          model_name: spec.model_name,
          model_lang: spec.model_lang,
          model_ability: spec.model_ability,
          model_description: "",
          model_format: spec.model_format,
          model_size_in_billions: spec.model_size_in_billions,
          // A builtin family has no model_family of its own: Xinference reports the name.
          model_family: spec.model_name,
          quantization: spec.quantization,
          multimodal_projector: null,
          model_hub: "huggingface",
          revision: null,
          context_length: spec.context_length,
          strict_system_first: false,
          replica: model.replica,
        };
      case "audio":
        return {
          ...common,
          model_name: spec.model_name,
          model_family: spec.model_family,
          model_revision: spec.model_revision,
          model_ability: spec.model_ability,
          replica: model.replica,
        };
    }
  }

  close(): void {
    for (const model of this.models.values()) clearTimeout(model.loadingTimer);
    this.inFlightWaiters.clear();
    this.idleWaiters.clear();
  }
}
