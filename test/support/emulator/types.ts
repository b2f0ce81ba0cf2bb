// Public types of the Xinference emulator. Other engineers code against these names: change them with care.
import type { IncomingHttpHeaders } from "node:http";

export type ModelType = "embedding" | "image" | "rerank" | "LLM" | "audio";

/** A model to launch, as `POST /v1/models` takes it, plus emulator-only knobs. */
export interface LaunchSpec {
  model_name: string;
  model_type: ModelType;
  /** Defaults to the model name, as in Xinference. */
  model_uid?: string;
  /** Number of replicas; `model_replica` in responses cycles through `<uid>-rep<k>`. */
  replica?: number;
  /** Emulator knob: the model stays "loading" (503 + Retry-After: 30) for this long after launch. */
  loading_ms?: number;
  /** Emulator knob: the model's request limit; more concurrent in-flight requests get 429. */
  max_concurrent?: number;
  /** LLMs: the engine Xinference runs them on ("vllm", "transformers", ...); `POST /v1/models` requires it. */
  model_engine?: string;
  /** Reasoning LLMs: split the thinking into `reasoning_content` (Xinference's launch option; off by default). */
  reasoning_content?: boolean;
}

/** Which server the emulator plays: Xinference, or a plain OpenAI-compatible server (vLLM, OpenAI). */
export type Flavor = "xinference" | "openai";

/** An API key, optionally restricted to some model uids (403 "API key does not have access to model"). */
export interface ApiKeySpec {
  key: string;
  models?: string[];
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Enables bearer auth when non-empty. API keys may query and run models, not launch or terminate them. */
  apiKeys?: (string | ApiKeySpec)[];
  /** Tokens with every permission (what an admin's JWT is to Xinference): they may also launch and terminate. */
  adminTokens?: string[];
  /** Launched at start; when omitted, DEFAULT_MODELS. */
  models?: LaunchSpec[];
  /** Answer an unknown uid with 400 as Xinference did before v2.7 (404 since). */
  legacyNotFound400?: boolean;
  /** Simulated engine work per inference request, while the request counts as in flight. Default 0. */
  computeDelayMs?: number;
  /** Default "xinference". "openai" answers the LLM, audio and embedding routes as vLLM / OpenAI do. */
  flavor?: Flavor;
  /** LLM and speech streams: time between two generated tokens (or audio chunks). Default 0. */
  tokenDelayMs?: number;
  /** sse-starlette's ping interval on Xinference streams (`: ping - <time>` comments). Default 600000, as Xinference's. */
  ssePingMs?: number;
  /** Seed of the PRNG that decides which requests a fault with `rate` < 1 hits. Default 1. */
  seed?: number;
  /** Keep every request in `requests`. Default true; benchmarks turn it off to keep memory flat. */
  recordRequests?: boolean;
  /** Also keep uploaded files' bytes in `requests` (`RecordedFile.data`). Default false. */
  recordFileData?: boolean;
  /** Called once a request is answered (or dropped by a fault). The CLI's `--log` uses it. */
  onRequest?: (request: RecordedRequest) => void;
}

export type EmulatorRoute =
  | "embeddings"
  | "images/generations"
  | "images/edits"
  | "images/variations"
  | "images/inpainting"
  | "rerank"
  | "chat/completions"
  | "completions"
  | "audio/transcriptions"
  | "audio/translations"
  | "audio/speech"
  | "models";

export type Fault = {
  /** Probability 0..1 that a matching request gets the fault (default 1), drawn from the seeded PRNG. */
  rate?: number;
  /** Apply to the next N matching requests only, then clear. */
  times?: number;
} & (
  | { kind: "status"; status: number; body?: unknown; contentType?: string; headers?: Record<string, string> }
  | { kind: "reset" }
  | { kind: "stall" }
  | { kind: "stall-body" }
  | { kind: "truncate" }
  | { kind: "latency"; ms: number }
  /**
   * Streaming routes (chat, completions, speech): the engine fails after `afterChunks` events. A stream
   * answers it in-band (HTTP 200 and an error event), a reply that is not streamed with a 500.
   */
  | { kind: "stream-error"; afterChunks: number; message?: string }
  /** Streaming routes: the connection is reset after `afterChunks` events (at once when not streamed). */
  | { kind: "stream-reset"; afterChunks: number }
  /** Streaming routes: nothing more is sent after `afterChunks` events; the connection stays open. */
  | { kind: "stream-stall"; afterChunks: number }
);

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  /** The file's bytes, only with the `recordFileData` option (a test that must look inside an upload). */
  data?: Buffer;
}

export interface RecordedMultipart {
  /** Text fields; a repeated field keeps its last value, as FastAPI reads it. */
  fields: Record<string, string>;
  files: RecordedFile[];
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON (the raw text when it does not parse), a multipart summary, or null without a body. */
  body: unknown;
  /**
   * What reached the engine as kwargs: the parsed `kwargs` string on image, rerank and audio routes, extra keys
   * on embeddings, the body minus the keys the route consumes on chat and completions.
   */
  kwargs?: Record<string, unknown>;
  /** HTTP status sent; 0 while unanswered or when a fault dropped the request. */
  status: number;
  /** Streamed replies: the events (SSE data lines, `[DONE]` included, pings not) or audio chunks sent so far. */
  streamedEvents?: number;
  /** Streamed replies: set when the connection closed before the stream ended (client gone, or `close()`); generation stopped there. */
  disconnected?: boolean;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface Emulator {
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** url + "/v1" */
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  clearRequests(): void;
  /** Route-specific faults win over "*". null clears. */
  setFault(route: EmulatorRoute | "*", fault: Fault | null): void;
  /** Launches a model; resolves with its uid at once (a `loading_ms` model is still loading then). */
  launch(spec: LaunchSpec): Promise<string>;
  terminate(uid: string): void;
  setLoading(uid: string, loading: boolean): void;
  /** Cancels in-flight requests whose kwargs carry this `request_id`: they answer 409. Returns how many. */
  cancel(requestId: string): number;
  /** Resolves once `count` requests for `uid` are in flight (inside the engine), e.g. to provoke a 429. */
  waitForInFlight(uid: string, count: number): Promise<void>;
  /** Resolves once no request for `uid` is in flight, e.g. after a client closed a stream. */
  waitForIdle(uid: string): Promise<void>;
  /** Closes every socket, stalled ones included. */
  close(): Promise<void>;
}
