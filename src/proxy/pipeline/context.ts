/**
 * What one request carries through the stages: the typed request once parsed, and what the later stages
 * learn (which group and deployment answered, how long the upstream took, the tokens used) for the response
 * headers and the log line, and the code of the error answered when the request failed.
 */
import type { OperationKind } from "../../operations/index.js";

/** What a request did, for its log line and response headers. */
export interface RequestTrace {
  /** What the operation is, e.g. `embeddings`, `chat`. */
  operation?: OperationKind;
  /** The model the client asked for. */
  model?: string;
  /** The model group the model resolves to, before any deployment answered; null: no deployment serves it. */
  routedGroup?: string | null;
  /** The model group that answered (a fallback's, if one did). */
  group?: string;
  deployment?: string;
  attempts?: number;
  upstreamMs?: number;
  tokens?: number;
  /** The answer's usage, as its account was finished with. */
  inputTokens?: number;
  outputTokens?: number;
  /** What the answer cost (USD), and the images it made, as its account was finished with. */
  cost?: number;
  images?: number;
  /** A stream: ms from the request's start until its first chunk was in hand and its response began. */
  firstChunkMs?: number;
  /** `k/n`: how many of the request's inputs the cache answered. */
  cacheHits?: string;
  /** The tokens were counted by xgate: the upstream reported none. */
  tokensEstimated?: boolean;
  /** The `code` of the error answered, if one was. */
  errorCode?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    trace: RequestTrace | null;
  }
}
