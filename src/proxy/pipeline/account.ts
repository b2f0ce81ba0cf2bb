/**
 * A request's account, from admit to its last byte: what its key and team let it do (their `rpm_limit`,
 * `tpm_limit`, `max_parallel_requests`, counted before anything is sent), what it cost, and its spend row.
 *
 * The row is journaled before the response's last byte — a whole answer before it is sent, a streamed one
 * before its end (see `beforeEnd`) — so a client never holds a complete answer whose spend could be lost.
 * However a request ends (answered, failed, the client gone), the account is closed exactly once: its
 * parallel slot is given back and its row written, a failure's at cost 0.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { APIError } from "../../errors.js";
import type { Principal, VirtualKey } from "../auth/principal.js";
import { admitLimits, type Limiter, type Quota, rateLimitHeaders, type Scope, type Ticket } from "../limits/index.js";
import type { SpendRecorder } from "../spend/recorder.js";
import type { SpendLogRow } from "../store/index.js";
import type { Dispatched } from "./dispatch.js";

/** An image's size in pixels. */
export interface RequestImageSize {
  width: number;
  height: number;
}

/** What a request used, as its route knows it once the answer is complete. */
export interface RequestUsage {
  promptTokens: number;
  completionTokens: number;
  /** Images generated: how many, and their size (undefined: not known, an edit's `original`). */
  images?: { count: number; size: RequestImageSize | undefined };
  /** The tokens were counted by xgate: the upstream reported none. */
  estimated?: boolean;
}

/** LiteLLM's `call_type` for each operation, as its spend logs name them. */
const CALL_TYPES: Readonly<Record<string, string>> = {
  embeddings: "aembedding",
  "image generation": "aimage_generation",
  "image edit": "aimage_edit",
  rerank: "arerank",
  transcription: "atranscription",
  translation: "atranslation",
  speech: "aspeech",
  "chat completion": "acompletion",
  "text completion": "atext_completion",
};

export interface AccountingDeps {
  limiter: Limiter;
  /** Undefined when the store is closed (no master key): nothing is recorded. */
  recorder: SpendRecorder | undefined;
  /** The cost of `usage` on the deployment that answered (0 when it has no prices). */
  costOf(deploymentId: string, usage: RequestUsage): number;
  now(): number;
  /** A row the journal could not take (a full disk): for the log; the answer still goes out. */
  onRecordError(error: unknown, requestId: string): void;
}

/** The limit scopes of a virtual key: its own and its team's, those that have a limit. */
function scopesOf(key: VirtualKey): Scope[] {
  const scopes: Scope[] = [];
  const { record, team } = key;
  const keyLimits = { rpm: record.rpm_limit ?? undefined, tpm: record.tpm_limit ?? undefined, maxParallel: record.max_parallel_requests ?? undefined };
  if (keyLimits.rpm !== undefined || keyLimits.tpm !== undefined || keyLimits.maxParallel !== undefined) {
    scopes.push({ kind: "key", id: record.token, name: record.key_alias ?? record.key_name ?? "(unnamed)", limits: keyLimits });
  }
  if (team !== undefined) {
    const teamLimits = { rpm: team.rpm_limit ?? undefined, tpm: team.tpm_limit ?? undefined, maxParallel: team.max_parallel_requests ?? undefined };
    if (teamLimits.rpm !== undefined || teamLimits.tpm !== undefined || teamLimits.maxParallel !== undefined) {
      scopes.push({ kind: "team", id: team.team_id, name: team.team_alias ?? team.team_id, limits: teamLimits });
    }
  }
  return scopes;
}

/** Calls `hook` just before the stream ends — after its last chunk is queued, before the end of the response. */
export function beforeEnd(body: Readable, hook: () => void): Readable {
  // Pushing null is how every Readable ends; the hook runs before it, so the chunked response's terminator,
  // which is what tells a client the answer is complete, is written after it.
  const push = body.push.bind(body);
  body.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null) hook();
    return push(chunk, encoding);
  };
  return body;
}

export class RequestAccount {
  private readonly startedAt: number;
  private ticket: Ticket | undefined;
  private dispatched: Dispatched<unknown> | undefined;
  private model = "";
  private user: string | null = null;
  private closed = false;
  /** Filled in along the way, for the row's metadata. */
  readonly metadata: Record<string, unknown> = {};

  constructor(
    private readonly deps: AccountingDeps,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly operation: string,
  ) {
    this.startedAt = deps.now();
    // The client gone before the answer was complete: the account is closed as a failure.
    reply.raw.once("close", () => this.fail("client_gone"));
  }

  private get principal(): Principal {
    return this.request.principal ?? { kind: "open" };
  }

  /** The request as parsed: the model as asked, and the client's `user`. */
  parsed(model: string, user: unknown): void {
    this.model = model;
    if (typeof user === "string") this.user = user;
  }

  /** Counts the request against its key's and team's limits; throws the 429 when one is full. */
  async admit(estimateTokens: () => number): Promise<void> {
    const principal = this.principal;
    if (principal.kind !== "virtual") return;
    const scopes = scopesOf(principal.key);
    if (scopes.length === 0) return;
    const needsEstimate = scopes.some((scope) => scope.limits.tpm !== undefined);
    this.ticket = await admitLimits(this.deps.limiter, scopes, needsEstimate ? estimateTokens() : 0);
  }

  /** The quota left on the key's and team's limits, for the answer's `x-ratelimit-*` headers. */
  get quota(): Quota | undefined {
    return this.ticket?.quota;
  }

  /** Notes which deployment answered: its prices make the cost. */
  answeredBy(outcome: Dispatched<unknown>): void {
    this.dispatched = outcome;
    if (this.ticket !== undefined) this.reply.headers(rateLimitHeaders([outcome.quota, this.ticket.quota]));
  }

  /**
   * The answer is complete: its cost is counted and its row journaled. Call it before the answer's last byte;
   * for a whole answer, before it is sent (the cost then goes in its headers).
   */
  finish(usage: RequestUsage): void {
    if (this.closed) return;
    this.closed = true;
    const cost = this.dispatched === undefined ? 0 : this.deps.costOf(this.dispatched.deploymentId, usage);
    this.ticket?.done(usage.promptTokens + usage.completionTokens);
    if (!this.reply.sent && !this.reply.raw.headersSent) this.reply.header("x-litellm-response-cost", String(cost));
    if (usage.images !== undefined) this.metadata.images = usage.images.count;
    if (usage.estimated === true) this.metadata.tokens_estimated = true;
    this.record("success", cost, usage);
  }

  /** The request failed, or its client left before the answer was complete: cost 0. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.ticket?.done();
    this.metadata.error_code = error instanceof APIError ? error.code : typeof error === "string" ? error : "internal_error";
    this.record("failure", 0, { promptTokens: 0, completionTokens: 0 });
  }

  private record(status: SpendLogRow["status"], cost: number, usage: RequestUsage): void {
    const recorder = this.deps.recorder;
    if (recorder === undefined) return;
    const principal = this.principal;
    const key = principal.kind === "virtual" ? principal.key.record : undefined;
    if (key?.key_alias) this.metadata.key_alias = key.key_alias;
    const row: SpendLogRow = {
      request_id: this.request.id,
      call_type: CALL_TYPES[this.operation] ?? this.operation,
      api_key: key?.token ?? "",
      spend: cost,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
      model: this.model,
      model_group: this.dispatched?.group ?? null,
      model_id: this.dispatched?.deploymentId ?? null,
      api_base: this.dispatched?.apiBase ?? null,
      user: this.user,
      team_id: key?.team_id ?? null,
      status,
      startTime: new Date(this.startedAt),
      endTime: new Date(this.deps.now()),
      metadata: this.metadata,
    };
    try {
      recorder.record(row);
    } catch (error) {
      this.deps.onRecordError(error, this.request.id);
    }
  }
}
