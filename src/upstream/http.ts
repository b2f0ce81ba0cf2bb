/**
 * One attempt of one upstream request through the shared agent. Two forms: `sendOnce` reads the whole answer
 * and decodes it; `openStream` resolves as soon as a 2xx answer's headers arrive, with its body as a stream.
 * Neither has a timer: the attempt's signal carries its deadline (core/deadline.ts). Every failure of the
 * upstream becomes an error class with `origin: "upstream"`; a request that cannot even be built (a body that
 * does not serialise, an invalid header) is the gateway's own error and says nothing about the upstream.
 */
import { Readable } from "node:stream";
import { DeadlineExceeded } from "../core/deadline.js";
import { APIConnectionError, APIError, APITimeoutError, BadGatewayError, BadRequestError, fromUpstream } from "../errors.js";
import { upstreamAgent } from "./agent.js";
import { FileReadError } from "./files.js";
import type { MultipartBody } from "./multipart.js";
import { parseRetryAfter } from "./retry.js";
import { displayUrl } from "./target.js";
import type { UpstreamTarget } from "./target.js";

export interface UpstreamRequest {
  method: "GET" | "POST" | "DELETE";
  /** Appended to the target's api_base, e.g. `/embeddings`. */
  path: string;
  json?: unknown;
  multipart?: MultipartBody;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A non-2xx answer, for the provider to turn into an error class. */
export interface UpstreamFailure {
  status: number;
  headers: ResponseHeaders;
  /** The body as text, cut at MAX_ERROR_BODY bytes. */
  body: string;
  method: string;
  url: string;
  retryAfterMs: number | undefined;
  target: UpstreamTarget;
}

export type ErrorMapper = (failure: UpstreamFailure) => APIError;

/** Thrown by a BodyDecoder when a 2xx body is not JSON: the attempt fails as a bad gateway (and may be retried). */
export class NotJsonError extends Error {}

/**
 * Turns a 2xx body into the call's result, inside the attempt (so a body that is not JSON is retried like
 * any other bad gateway). Most calls take the parsed JSON; embeddings scan the bytes themselves (see
 * providers/embedding-body.ts) so that megabytes of floats are not parsed into JS numbers for nothing.
 */
export type BodyDecoder<T> = (body: Buffer) => T;

/** A 2xx answer whose body is still arriving. */
export interface UpstreamStream {
  status: number;
  headers: ResponseHeaders;
  /**
   * The body as it arrives, with backpressure. It errors with an upstream APIConnectionError when the
   * connection breaks; destroying it cancels the upstream request.
   */
  body: Readable;
}

/** The body without a UTF-8 byte order mark, which undici's `text()` skipped too. */
export function withoutBom(body: Buffer): Buffer {
  return body.length > 2 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body;
}

export const parseJsonBody: BodyDecoder<unknown> = (body) => {
  try {
    return JSON.parse(withoutBom(body).toString("utf8")) as unknown;
  } catch {
    throw new NotJsonError();
  }
};

/** Enough for any real error message; an HTML error page of megabytes is not read further. */
const MAX_ERROR_BODY = 64 * 1024;

function headersFor(target: UpstreamTarget, req: UpstreamRequest): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "xgate" };
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`;
  Object.assign(headers, target.extraHeaders);
  if (req.json !== undefined) headers["content-type"] = "application/json";
  if (req.multipart !== undefined) headers["content-type"] = req.multipart.contentType;
  return headers;
}

/** An upstream (or something in between) may echo the request's credentials: they must not reach a message. */
function redact(text: string, secret: string | undefined): string {
  return secret === undefined ? text : text.split(secret).join("***");
}

function errorCode(err: unknown): string | undefined {
  const code: unknown = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function connectionFailure(err: unknown, target: UpstreamTarget, url: string, gotHeaders: boolean): APIError {
  if (err instanceof APIError) return err;
  if (err instanceof FileReadError) {
    return new BadRequestError(`Could not read a file to upload: ${err.message}`, { provider: target.provider, cause: err });
  }
  const code = errorCode(err);
  if (code === "UND_ERR_INVALID_ARG") {
    return new BadRequestError(`Invalid request: ${(err as Error).message}`, { provider: target.provider });
  }
  const detail = code ?? (err instanceof Error ? err.message : String(err));
  const message = gotHeaders
    ? `The connection to ${target.label} at ${displayUrl(url)} broke before the whole response arrived (${detail}).`
    : `Could not get a response from ${target.label} at ${displayUrl(url)} (${detail}).`;
  return new APIConnectionError(message, { provider: target.provider, origin: "upstream", cause: err });
}

/** Why an attempt's signal aborted, as the attempt's error: a deadline is the upstream's slowness, anything else the caller's. */
function abortError(reason: unknown, target: UpstreamTarget, method: string, url: string): Error {
  if (reason instanceof DeadlineExceeded) {
    return new APITimeoutError(
      `${target.label} did not answer within the timeout of ${reason.timeoutMs / 1000} s (${method} ${displayUrl(url)}).`,
      { provider: target.provider, origin: "upstream" },
    );
  }
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Throws the gateway's own error when the body cannot be serialised (too deep, a cycle): no upstream saw it. */
function requestBody(req: UpstreamRequest): string | Readable | undefined {
  if (req.json !== undefined) {
    try {
      return JSON.stringify(req.json);
    } catch (err) {
      throw new BadRequestError(`The request body could not be serialised: ${(err as Error).message}.`, { cause: err });
    }
  }
  // A stream that pulls from the encoder as undici writes: chunked, never the whole body in memory.
  return req.multipart === undefined ? undefined : Readable.from(req.multipart.chunks, { objectMode: false });
}

/** Where requests to one api_base go: undici's dispatch() takes the origin and the path apart. */
interface ParsedBase {
  origin: string;
  basePath: string;
}

/** api_bases seen so far (a config names a handful): parsing a URL per request costs a few µs each time. */
const parsedBases = new Map<string, ParsedBase>();
const MAX_PARSED_BASES = 1000;

function parseBase(apiBase: string): ParsedBase {
  let parsed = parsedBases.get(apiBase);
  if (parsed === undefined) {
    const url = new URL(apiBase);
    parsed = { origin: url.origin, basePath: url.pathname === "/" ? "" : url.pathname + url.search };
    // Clients may name their own api_base when the operator allows it: the cache must not grow without bound.
    if (parsedBases.size >= MAX_PARSED_BASES) parsedBases.clear();
    parsedBases.set(apiBase, parsed);
  }
  return parsed;
}

/** undici's handler controller: what a handler may do to its request. */
interface DispatchController {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  /** The headers as undici read them (Buffers), kept on the controller until the response ends. */
  rawHeaders?: unknown;
}

interface Exchange {
  url: string;
  /** undici's dispatch options for the request. */
  options: { origin: string; path: string; method: string; headers: Record<string, string>; body: string | Readable | undefined };
}

/** The request as undici takes it; throws the gateway's own errors for a request that cannot be built. */
function exchangeFor(target: UpstreamTarget, req: UpstreamRequest): Exchange {
  const url = target.apiBase + req.path;
  const base = parseBase(target.apiBase);
  return {
    url,
    options: { origin: base.origin, path: base.basePath + req.path, method: req.method, headers: headersFor(target, req), body: requestBody(req) },
  };
}

/** A non-2xx answer as the provider's error, its text clipped and without the request's key. */
function failureError(
  target: UpstreamTarget,
  method: string,
  toError: ErrorMapper,
  url: string,
  status: number,
  headers: ResponseHeaders,
  body: Buffer,
): APIError {
  const text = redact(body.subarray(0, MAX_ERROR_BODY).toString("utf8"), target.apiKey);
  return fromUpstream(toError({ status, headers, body: text, method, url, retryAfterMs: parseRetryAfter(headers), target }));
}

function notJsonError(target: UpstreamTarget, url: string, status: number, body: Buffer): BadGatewayError {
  return new BadGatewayError(
    `${target.label} at ${displayUrl(url)} answered HTTP ${status} with a body that is not JSON ` +
      `(${withoutBom(body).subarray(0, 320).toString("utf8").slice(0, 80).replace(/\s+/g, " ")}…); check api_base.`,
    { provider: target.provider, origin: "upstream" },
  );
}

/**
 * Builds the exchange and runs `send` with it, unless the request cannot be built (the gateway's error) or
 * the attempt is already cancelled: then it rejects without anything sent.
 */
function started<T>(
  target: UpstreamTarget,
  req: UpstreamRequest,
  signal: AbortSignal | undefined,
  send: (exchange: Exchange, url: string) => Promise<T>,
): Promise<T> {
  let exchange: Exchange;
  try {
    exchange = exchangeFor(target, req);
  } catch (err) {
    return Promise.reject(err instanceof APIError ? err : connectionFailure(err, target, target.apiBase + req.path, false));
  }
  if (signal?.aborted === true) return Promise.reject(abortError(signal.reason, target, req.method, exchange.url));
  return send(exchange, exchange.url);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * Sends the request once and resolves with the decoded body (by default its parsed JSON) of a 2xx answer.
 *
 * Written on undici's dispatch() handler API rather than request(): the body arrives as Buffers straight into
 * an array, with no readable stream, no AbortSignal plumbing and no ArrayBuffer copy in between. Those were
 * ~15% of the proxy's CPU for a small embedding request.
 */
export function sendOnce<T = unknown>(
  target: UpstreamTarget,
  req: UpstreamRequest,
  toError: ErrorMapper,
  signal: AbortSignal | undefined,
  decode: BodyDecoder<T> = parseJsonBody as BodyDecoder<T>,
): Promise<T> {
  return started(target, req, signal, (exchange, url) => new Promise<T>((resolve, reject) => {
    let settled = false;
    let controller: DispatchController | undefined;
    let status = 0;
    let headers: ResponseHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;

    const finish = (err: unknown, value?: T): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (err === undefined) resolve(value as T);
      else reject(err as Error);
    };
    // Cancelling settles at once, even while the request still waits for a connection; undici is told as soon
    // as it has handed over the request's controller.
    const onAbort = (): void => {
      const reason = abortError(signal?.reason, target, req.method, url);
      finish(reason);
      controller?.abort(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    const completed = (): void => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      if (!isSuccess(status)) {
        finish(failureError(target, req.method, toError, url, status, headers, body));
        return;
      }
      try {
        finish(undefined, decode(body));
      } catch (err) {
        finish(err instanceof NotJsonError ? notJsonError(target, url, status, body) : err);
      }
    };

    try {
      upstreamAgent().dispatch(exchange.options, {
        onRequestStart(requestController: DispatchController) {
          controller = requestController;
          if (settled) requestController.abort(new Error("cancelled"));
        },
        onResponseStart(_controller: DispatchController, statusCode: number, responseHeaders: ResponseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(responseController: DispatchController, chunk: Buffer) {
          if (settled) return;
          chunks.push(chunk);
          size += chunk.length;
          // An HTML error page of megabytes is not read further than a message needs.
          if (!isSuccess(status) && size >= MAX_ERROR_BODY) {
            completed();
            responseController.abort(new Error("error body read far enough"));
          }
        },
        onResponseEnd() {
          if (!settled) completed();
        },
        onResponseError(_controller: DispatchController, err: Error) {
          finish(connectionFailure(err, target, url, status !== 0));
        },
      });
    } catch (err) {
      finish(connectionFailure(err, target, url, false));
    }
  }));
}

/** The streamed body: read() lets undici go on reading the socket; destroying it before the end aborts the request. */
class UpstreamBody extends Readable {
  constructor(private readonly exchange: StreamExchange) {
    super();
  }

  override _read(): void {
    this.exchange.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.exchange.bodyDestroyed(error);
    callback(error);
  }
}

/**
 * One streamed exchange, as undici's handler. A class rather than closures over the request, because it lives
 * as long as the stream does (minutes, thousands at once): its fields are all it keeps, and neither the
 * request's body nor undici's raw header buffers are among them.
 */
class StreamExchange {
  private controller: DispatchController | undefined;
  private status = 0;
  private headers: ResponseHeaders = {};
  /** Set once a 2xx answer's headers are in: from then on, failures go to the stream. */
  private body: UpstreamBody | undefined;
  private settled = false;
  private ended = false;
  private errorChunks: Buffer[] = [];
  private errorSize = 0;
  private readonly onAbort = (): void => {
    const reason = abortError(this.signal?.reason, this.target, this.method, this.url);
    this.fail(reason);
    this.controller?.abort(reason);
  };

  constructor(
    private readonly target: UpstreamTarget,
    private readonly method: string,
    private readonly url: string,
    private readonly toError: ErrorMapper,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (answer: UpstreamStream) => void,
    private readonly reject: (error: Error) => void,
  ) {
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  resume(): void {
    this.controller?.resume();
  }

  bodyDestroyed(error: Error | null): void {
    this.detach();
    // The reader gave up early: the upstream should stop sending (and stop generating).
    if (!this.ended) this.controller?.abort(error ?? new Error("response body no longer read"));
  }

  fail(error: Error): void {
    this.detach();
    if (this.body !== undefined) this.body.destroy(error);
    else if (!this.settled) {
      this.settled = true;
      this.reject(error);
    }
  }

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    if (this.settled && this.body === undefined) controller.abort(new Error("cancelled"));
  }

  onResponseStart(controller: DispatchController, status: number, headers: ResponseHeaders): void {
    this.status = status;
    this.headers = headers;
    if (!isSuccess(status) || this.settled) return;
    // Parsed into `headers` already; undici would hold the Buffers for as long as the stream runs.
    controller.rawHeaders = null;
    this.body = new UpstreamBody(this);
    this.settled = true;
    this.resolve({ status, headers, body: this.body });
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    if (this.body !== undefined) {
      if (!this.body.push(chunk)) controller.pause();
      return;
    }
    if (this.settled) return;
    this.errorChunks.push(chunk);
    this.errorSize += chunk.length;
    if (this.errorSize >= MAX_ERROR_BODY) {
      this.failWithAnswer();
      controller.abort(new Error("error body read far enough"));
    }
  }

  onResponseEnd(): void {
    this.ended = true;
    this.detach();
    if (this.body !== undefined) this.body.push(null);
    else if (!this.settled) this.failWithAnswer();
  }

  onResponseError(_controller: DispatchController, err: Error): void {
    if (this.ended) return;
    this.fail(connectionFailure(err, this.target, this.url, this.status !== 0));
  }

  private detach(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  private failWithAnswer(): void {
    this.detach();
    this.settled = true;
    const body = Buffer.concat(this.errorChunks, this.errorSize);
    this.errorChunks = [];
    this.reject(failureError(this.target, this.method, this.toError, this.url, this.status, this.headers, body));
  }
}

/**
 * Sends the request once and resolves when a 2xx answer's headers arrive, with its body as a stream that
 * the caller reads at its own pace (undici pauses the socket while the stream is full). A non-2xx answer
 * rejects with the provider's error, as `sendOnce` does. After the headers, an abort of `signal` or a broken
 * connection errors the body stream.
 */
export function openStream(
  target: UpstreamTarget,
  req: UpstreamRequest,
  toError: ErrorMapper,
  signal: AbortSignal | undefined,
): Promise<UpstreamStream> {
  return started(target, req, signal, (exchange, url) => new Promise<UpstreamStream>((resolve, reject) => {
    const handler = new StreamExchange(target, req.method, url, toError, signal, resolve, reject);
    try {
      upstreamAgent().dispatch(exchange.options, handler);
    } catch (err) {
      handler.fail(connectionFailure(err, target, url, false));
    }
  }));
}
