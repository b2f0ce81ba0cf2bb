/**
 * A request's account, from admit to its last byte: what its key and team let it do (their budgets, with an
 * estimate of its cost reserved, and their `rpm_limit`, `tpm_limit`, `max_parallel_requests` — all counted
 * before anything is sent), what it cost, and its spend row.
 *
 * The row is journaled before the response's last byte — a whole answer before it is sent, a streamed one
 * before its end (see `beforeEnd`) — so a client never holds a complete answer whose spend could be lost.
 * However a request ends (answered, failed, the client gone), the account is closed exactly once: its
 * parallel slot and its reservation are given back and its row written, a failure's at cost 0 — but for a
 * stream whose client left mid-answer, which is charged what it was sent.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { APIError } from "../../errors.js";
import { OPEN, type Principal, type VirtualKey } from "../auth/principal.js";
import { admitBudgets, type BudgetHold, budgetKey, type Budgets, budgetScopes, type BudgetScope } from "../budgets/index.js";
import { admitLimits, type Limiter, limitScopes, rateLimitHeaders, type Scope, type Ticket } from "../limits/index.js";
import { costOf, type Usage, type UsageEstimate } from "../spend/cost.js";
import type { SpendRecorder } from "../spend/recorder.js";
import type { SpendLogRow } from "../store/index.js";
import type { OperationKind } from "../../operations/index.js";
import type { Dispatched } from "./dispatch.js";

/** What a request used, as its route knows it once the answer is complete. */
export interface RequestUsage extends Usage {
  /** The tokens were counted by xgate: the upstream reported none. */
  estimated?: boolean;
}

/** Why a request whose client left before its answer was complete ended: its row's `error_code`. */
const CLIENT_GONE = "client_gone";

/** LiteLLM's `call_type` for each operation, as its spend logs name them. */
const CALL_TYPES: Readonly<Record<OperationKind, string>> = {
  embeddings: "aembedding",
  image_generation: "aimage_generation",
  image_edit: "aimage_edit",
  rerank: "arerank",
  transcription: "atranscription",
  translation: "atranslation",
  speech: "aspeech",
  chat: "acompletion",
  text_completion: "atext_completion",
};

export interface AccountingDeps {
  limiter: Limiter;
  budgets: Budgets;
  /** Undefined when the store is closed (no master key): nothing is recorded. */
  recorder: SpendRecorder | undefined;
  /** The most a request to `model` is expected to cost, on the dearest deployment that may answer it. */
  estimateCost(model: string, estimate: UsageEstimate): number;
  /** A key or team past its `soft_budget`: for the log (the request goes on). */
  onSoftBudget(scope: BudgetScope, spend: number, requestId: string): void;
  now(): number;
  /** A row the journal could not take (a full disk): for the log; the answer still goes out. */
  onRecordError(error: unknown, requestId: string): void;
}

/** What a key's requests are counted against: its and its team's budgets and limits, in refusal order. */
interface KeyScopes {
  budgets: readonly BudgetScope[];
  /** The key's budget scope, whose spend `x-litellm-key-spend` shows. */
  keyBudget: string | undefined;
  budgeted: boolean;
  limits: readonly Scope[];
  needsTokens: boolean;
}

/**
 * Each key's scopes, made once per read of its rows: the key cache makes a new VirtualKey when it reads them
 * again (or starts a budget period), and the rows are never changed in place.
 */
const scopesOfKey = new WeakMap<VirtualKey, KeyScopes>();

function keyScopes(key: VirtualKey): KeyScopes {
  let scopes = scopesOfKey.get(key);
  if (scopes === undefined) {
    const budgets = budgetScopes(key.record, key.team, key.readAt);
    const limits = limitScopes(key.record, key.team);
    const [keyScope] = budgets;
    scopes = {
      budgets,
      keyBudget: keyScope === undefined ? undefined : budgetKey(keyScope),
      budgeted: budgets.some((scope) => scope.maxBudget !== undefined),
      limits,
      needsTokens: limits.some((scope) => scope.limits.tpm !== undefined),
    };
    scopesOfKey.set(key, scopes);
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
  private hold: BudgetHold | undefined;
  /** The key's budget scope, whose spend `x-litellm-key-spend` shows. */
  private keyBudget: string | undefined;
  private dispatched: Dispatched<unknown> | undefined;
  private model = "";
  /** The model group the request was routed to, before any deployment answered (null: no such model). */
  private group: string | null = null;
  private user: string | null = null;
  private closed = false;
  private limitsSaid = false;
  /** Set once a stream has begun: what its chunks read so far used, estimated. */
  private usedSoFar: (() => Promise<RequestUsage>) | undefined;
  /** Filled in along the way, for the row's metadata. */
  readonly metadata: Record<string, unknown> = {};

  constructor(
    private readonly deps: AccountingDeps,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly operation: OperationKind,
  ) {
    this.startedAt = deps.now();
    // The client gone before the answer was complete: the account is closed as a failure (see `fail`).
    reply.raw.once("close", () => this.fail(CLIENT_GONE));
  }

  private get principal(): Principal {
    return this.request.principal ?? OPEN;
  }

  /** The request as parsed: the model as asked, and the client's `user`. */
  parsed(model: string, user: unknown): void {
    this.model = model;
    if (typeof user === "string") this.user = user;
  }

  /** The model group the request goes to: what the row of a failure or of a cache hit names. */
  routed(group: string | undefined): void {
    this.group = group ?? null;
  }

  /** The whole answer came from the cache: nothing was dispatched (the row says so; it costs nothing). */
  cacheHit(): void {
    this.metadata.cache_hit = true;
    this.limitHeaders([this.ticket?.quota]);
  }

  /**
   * Checks the request against its key's and team's budgets (reserving its estimated cost) and limits
   * (counting it); throws the 429 of the first that refuses it, having given back what the others took.
   * `model`: where it goes (a key alias resolved). `estimate` is called only when a budget or a `tpm_limit`
   * needs it: counting tokens costs CPU.
   */
  async admit(model: string, estimate: () => UsageEstimate): Promise<void> {
    const principal = this.principal;
    if (principal.kind !== "virtual") return;
    const scopes = keyScopes(principal.key);
    let estimated: UsageEstimate | undefined;
    const usageEstimate = (): UsageEstimate => (estimated ??= estimate());
    this.keyBudget = scopes.keyBudget;
    this.hold = await admitBudgets(this.deps.budgets, scopes.budgets, scopes.budgeted ? this.deps.estimateCost(model, usageEstimate()) : 0);
    // Said on every answer, a cache's included: the spend before this request, which a whole answer updates.
    this.keySpendHeader(this.hold.spend);
    const soft = this.hold.softExceeded;
    if (soft !== undefined) {
      this.reply.header("x-xgate-soft-budget-exceeded", soft.kind);
      this.deps.onSoftBudget(soft, this.hold.spend.get(budgetKey(soft)) ?? 0, this.request.id);
    }
    if (scopes.limits.length === 0) return;
    try {
      this.ticket = await admitLimits(this.deps.limiter, scopes.limits, scopes.needsTokens ? usageEstimate().promptTokens + (usageEstimate().maxCompletionTokens ?? 0) : 0);
    } catch (error) {
      this.hold.release();
      this.hold = undefined;
      throw error;
    }
  }

  /** Notes which deployment answered: its prices make the cost. */
  answeredBy(outcome: Dispatched<unknown>): void {
    this.dispatched = outcome;
    this.limitHeaders([outcome.quota, this.ticket?.quota]);
  }

  /**
   * `x-ratelimit-*`: the tightest of the key's, the team's and the model group's limits, this request
   * counted. Written once, when the request is answered, refused after admission or failed.
   */
  private limitHeaders(quotas: Parameters<typeof rateLimitHeaders>[0]): void {
    if (this.limitsSaid || this.reply.raw.headersSent) return;
    this.limitsSaid = true;
    this.reply.headers(rateLimitHeaders(quotas));
  }

  private keySpendHeader(spend: ReadonlyMap<string, number> | undefined): void {
    const value = this.keyBudget === undefined ? undefined : spend?.get(this.keyBudget);
    if (value !== undefined && !this.reply.raw.headersSent) this.reply.header("x-litellm-key-spend", String(value));
  }

  /**
   * The answer is complete: its cost is counted and its row journaled. Call it before the answer's last byte;
   * for a whole answer, before it is sent (the cost then goes in its headers).
   */
  finish(usage: RequestUsage): void {
    if (this.closed) return;
    this.closed = true;
    this.ticket?.done(usage.promptTokens + usage.completionTokens);
    this.charge(usage);
  }

  /**
   * A streamed answer has begun: should its client leave before the end, `usedSoFar` estimates what it was
   * sent, and that is charged (see `fail`).
   */
  streaming(usedSoFar: () => Promise<RequestUsage>): void {
    this.usedSoFar = usedSoFar;
  }

  private charge(usage: RequestUsage): void {
    const cost = this.dispatched === undefined ? 0 : costOf(this.dispatched.pricing, usage);
    const spend = this.hold?.settle(cost);
    if (!this.reply.raw.headersSent) {
      this.reply.header("x-litellm-response-cost", String(cost));
      this.keySpendHeader(spend);
    }
    if (usage.images !== undefined) this.metadata.images = usage.images.count;
    const cacheHits = this.request.trace?.cacheHits;
    if (cacheHits !== undefined) this.metadata.cache_hits = cacheHits;
    if (usage.estimated === true) this.metadata.tokens_estimated = true;
    const trace = this.request.trace;
    if (trace !== null) {
      trace.inputTokens = usage.promptTokens;
      trace.outputTokens = usage.completionTokens;
      trace.cost = cost;
      trace.images = usage.images?.count;
    }
    this.record("success", cost, usage);
  }

  /**
   * A stream whose client left mid-answer: the upstream generated what was sent, so that is charged — a
   * success, its tokens estimated and the row marked `incomplete` — or leaving just before the end would
   * make any answer free. Its parallel slot is given back at once; its tokens stay counted at the estimate
   * it was admitted with.
   */
  private async chargeAbandoned(usedSoFar: () => Promise<RequestUsage>): Promise<void> {
    let usage: RequestUsage;
    try {
      usage = await usedSoFar();
    } catch {
      // No estimate (the tokenizer would not load): the row says the client left, at cost 0, as for any request.
      this.failed(CLIENT_GONE);
      return;
    }
    this.metadata.incomplete = CLIENT_GONE;
    this.charge(usage);
  }

  /** The request failed, or its client left before the answer was complete: cost 0, but for a stream begun. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.ticket?.done();
    if (error === CLIENT_GONE && this.usedSoFar !== undefined) void this.chargeAbandoned(this.usedSoFar);
    else this.failed(error);
  }

  private failed(error: unknown): void {
    this.hold?.settle(0);
    if (this.ticket !== undefined) this.limitHeaders([this.ticket.quota]);
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
      call_type: CALL_TYPES[this.operation],
      api_key: key?.token ?? "",
      spend: cost,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
      model: this.model,
      model_group: this.dispatched?.group ?? this.group,
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
