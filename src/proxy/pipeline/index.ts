/**
 * The request pipeline every operation route runs, stage by stage:
 *
 *   authenticate (headers, before the body is read: see authenticate.ts) → read → parse → admit → cache
 *   → dispatch → respond → record
 *
 * A route declares its operation and how it reads and answers; the stages are the same for all. `admit` is
 * the point where a request is valid but nothing has been sent: checks that may refuse it go there (an edit
 * the model cannot do; limits and budgets), and a refusal there never counts against a deployment. A route
 * with a cache (see proxy/cache/) then dispatches only what the cache could not answer, or nothing at all.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Operation } from "../../operations/index.js";
import { OPEN, type Principal } from "../auth/principal.js";
import { assertModelAccess, resolveKeyAlias } from "../auth/virtual-key.js";
import { clientGoneSignal } from "../http/client-gone.js";
import { systemClock, within } from "../router/clock.js";
import { type AccountingDeps, RequestAccount } from "./account.js";
import type { UsageEstimate } from "../spend/cost.js";
import type { RequestTrace } from "./context.js";
import type { Dispatched, Dispatcher } from "./dispatch.js";
import { type ParsedRequest, parseRequest, type ParseOptions } from "./parse.js";
import { recordDispatch } from "./record.js";

export { asObject, MAX_JSON_DEPTH, type ParsedRequest } from "./parse.js";
export { type AttemptObserver, type AttemptStart, type AttemptWatch, attemptTarget, type Dispatched, Dispatcher } from "./dispatch.js";
export type { RequestTrace } from "./context.js";
export { attemptLog, doneIfBrokenOff, type RequestDone, requestDone } from "./record.js";
export { type AccountingDeps, beforeEnd, type RequestAccount, type RequestUsage } from "./account.js";

/** What a route read from the request: text fields to check, files to add after the checks, and what to release. */
export interface RouteInput {
  fields: Record<string, unknown>;
  /** Added to the fields after the checks on client input (which walk text, not file handles). */
  files?: Record<string, unknown>;
  /** Releases what reading took (spooled uploads); called when the request is done, whatever happened. */
  release?: () => Promise<void>;
}

/** A check between parse and dispatch; throws to refuse the request. */
export type Admission = (parsed: ParsedRequest<unknown>, request: FastifyRequest) => void | Promise<void>;

/**
 * What a route's cache made of a request: the whole answer (nothing is dispatched, so no deployment need be
 * healthy), or the part left to dispatch and how to merge its result with the cached rest.
 */
export type CacheLookup<Request, Result, Answer> =
  | { answer: Answer }
  | { misses: ParsedRequest<Request>; merge(dispatched: Dispatched<Result>): Answer };

/** A cache stage: undefined when it has nothing to do with the request (it is then dispatched as it is). */
export type CacheStage<Request, Result, Answer> = (
  parsed: ParsedRequest<Request>,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<CacheLookup<Request, Result, Answer> | undefined>;

/** `Answer`: what `respond` writes — the operation's result, or what a cache made of it. */
export interface OperationRoute<Request, Result extends Answer, Answer = Result> {
  urls: readonly string[];
  operation: Operation<Request, Result>;
  read(request: FastifyRequest): RouteInput | Promise<RouteInput>;
  /** This route's own admission checks, run before the pipeline's. */
  admit?: Admission;
  /** The request as it goes upstream, when it differs from the client's (images: always base64, hosted here). */
  upstreamRequest?(request: Request): Request;
  /** Between admit and dispatch: answers what it can from the cache. */
  cache?: CacheStage<Request, Result, Answer>;
  /** What the request is expected to use besides its input tokens (output, images), reserved against budgets. */
  estimate?(request: Request): Omit<UsageEstimate, "promptTokens">;
  /**
   * Writes the answer. It must call `account.finish(usage)` once the answer is complete and before its last
   * byte: a whole answer before it is sent, a stream through `beforeEnd` (see account.ts).
   */
  respond(result: Answer, parsed: ParsedRequest<Request>, request: FastifyRequest, reply: FastifyReply, account: RequestAccount): unknown;
  /**
   * For an answer that may be long in coming (a stream whose first chunk is slow): once `afterMs` has passed
   * without the dispatch's outcome, `respond` answers at once with the result still pending — the status
   * and headers go out, and keep-alives until it comes, so that no load balancer closes the connection as
   * idle. Retries and fallbacks go on meanwhile (a comment is no part of the answer); a failure then reaches
   * the client inside the answer begun.
   */
  early?: {
    afterMs(request: Request): number | undefined;
    respond(pending: Promise<Result>, parsed: ParsedRequest<Request>, request: FastifyRequest, reply: FastifyReply, account: RequestAccount): unknown;
  };
}

export interface Pipeline {
  parse: ParseOptions;
  /** Checks every operation request passes after its route's own; in order. */
  admit: readonly Admission[];
  dispatcher: Dispatcher;
  accounting: AccountingDeps;
  /** The model group a name resolves to; undefined for a name no deployment serves. */
  groupOf(model: string): string | undefined;
}

/**
 * The model a request goes to, and its group: the target of its virtual key's alias for the name asked, if
 * it has one — once the key is found to be allowed that model (a 401 naming the models it may use otherwise).
 */
function keyModel(pipeline: Pipeline, principal: Principal, asked: string, trace: RequestTrace): { model: string; group: string | undefined } {
  const model = resolveKeyAlias(principal, asked);
  const group = pipeline.groupOf(model);
  trace.routedGroup = group ?? null;
  if (principal.kind === "virtual") assertModelAccess(principal, asked, group);
  return { model, group };
}

/** The dispatch not over within a route's `early.afterMs` (see `within`, the one bounded wait). */
class StillPending extends Error {}

/** Releases what reading the request took, once the upstream has answered. */
async function releaseInput<Request, Result>(
  operation: Operation<Request, Result>,
  parsed: ParsedRequest<Request> | undefined,
  input: RouteInput | undefined,
): Promise<void> {
  if (parsed !== undefined) operation.dispose?.(parsed.request);
  await input?.release?.();
}

/** The model the client named, before a key alias replaced it. */
function asked(parsed: ParsedRequest<unknown>): string {
  return parsed.asked ?? parsed.model;
}

async function handle<Request, Result extends Answer, Answer>(
  pipeline: Pipeline,
  route: OperationRoute<Request, Result, Answer>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const account = new RequestAccount(pipeline.accounting, request, reply, route.operation.kind);
  let parsed: ParsedRequest<Request> | undefined;
  /** What is answered: the result, or the dispatch still under way when the answer begins before it (`early`). */
  let answer: { result: Answer } | { pending: Promise<Dispatched<Result>> } | undefined;
  let input: RouteInput | undefined;
  try {
    input = await route.read(request);
    parsed = parseRequest(route.operation, input.fields, input.files, pipeline.parse);
    account.parsed(parsed.model, input.fields.user);
    const trace = (request.trace ??= {});
    trace.model = asked(parsed);
    const routed = keyModel(pipeline, request.principal ?? OPEN, asked(parsed), trace);
    account.routed(routed.group);
    if (routed.model !== parsed.model) parsed = { ...parsed, model: routed.model, asked: parsed.model };
    if (route.admit !== undefined) await route.admit(parsed, request);
    for (const admit of pipeline.admit) await admit(parsed, request);
    trace.operation = route.operation.kind;
    const typed = parsed.request;
    await account.admit(parsed.model, () => ({ promptTokens: route.operation.estimateTokens?.(typed) ?? 0, ...route.estimate?.(typed) }));
    const sent = route.upstreamRequest === undefined ? parsed : { ...parsed, request: route.upstreamRequest(parsed.request) };
    const cached = await route.cache?.(sent, request, reply);
    if (cached !== undefined && "answer" in cached) {
      account.cacheHit();
      answer = { result: cached.answer };
    } else {
      const dispatching = pipeline.dispatcher.dispatch(route.operation, cached?.misses ?? sent, clientGoneSignal(request.raw.socket), request.id);
      const afterMs = cached === undefined ? route.early?.afterMs(typed) : undefined;
      const outcome =
        afterMs === undefined
          ? await dispatching
          : await within(systemClock, dispatching, afterMs, () => new StillPending()).catch((error: unknown) => {
              if (error instanceof StillPending) return undefined;
              throw error;
            });
      if (outcome === undefined) {
        // Still under way: the route answers before it.
        const answered = dispatching.then((late) => {
          recordDispatch(trace, late, reply);
          account.answeredBy(late);
          return late;
        });
        // Its failure is the answer's to tell (the route's early respond); nobody else need await it.
        answered.catch(() => undefined);
        answer = { pending: answered };
      } else {
        recordDispatch(trace, outcome, reply);
        account.answeredBy(outcome);
        answer = { result: cached === undefined ? outcome.result : cached.merge(outcome) };
      }
    }
  } catch (error) {
    account.fail(error);
    throw error;
  } finally {
    // Uploads are done with once the upstream has answered: released before the answer goes out, so that a
    // client that has its answer finds nothing of its request left behind.
    const pending = answer !== undefined && "pending" in answer ? answer.pending : undefined;
    if (pending === undefined) await releaseInput(route.operation, parsed, input);
    else {
      const release = (): Promise<void> => releaseInput(route.operation, parsed, input);
      void pending.then(release, release);
    }
  }
  try {
    // The answer names the model as the client asked for it, a key alias included.
    const named = { ...parsed, model: asked(parsed) };
    if ("result" in answer) return await route.respond(answer.result, named, request, reply, account);
    return await route.early?.respond(answer.pending.then((outcome) => outcome.result), named, request, reply, account);
  } catch (error) {
    account.fail(error);
    throw error;
  }
}

export function registerOperationRoute<Request, Result extends Answer, Answer>(
  app: FastifyInstance,
  pipeline: Pipeline,
  route: OperationRoute<Request, Result, Answer>,
): void {
  for (const url of route.urls) app.post(url, (request, reply) => handle(pipeline, route, request, reply));
}
