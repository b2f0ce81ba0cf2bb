/**
 * One attempt of one upstream request: sends it through the shared agent, enforces the per-attempt timeout,
 * follows the caller's AbortSignal, reads the whole response, and turns every failure into an error class.
 */
import { Readable } from "node:stream";
import { APIConnectionError, APIError, APITimeoutError, BadGatewayError, BadRequestError } from "../errors.js";
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

/** A non-2xx answer, for the provider to turn into an error class. */
export interface UpstreamFailure {
  status: number;
  headers: Record<string, string | string[] | undefined>;
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
/** setTimeout cannot wait longer (it would fire at once); longer timeouts mean none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
  return new APIConnectionError(message, { provider: target.provider, cause: err });
}

function requestBody(req: UpstreamRequest): string | Readable | undefined {
  if (req.json !== undefined) return JSON.stringify(req.json);
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
  decode: BodyDecoder<T> = parseJsonBody as BodyDecoder<T>,
): Promise<T> {
  const url = target.apiBase + req.path;
  const callerSignal = target.signal;
  if (callerSignal?.aborted === true) return Promise.reject(callerSignal.reason as Error);
  let base: ParsedBase;
  try {
    base = parseBase(target.apiBase);
  } catch (err) {
    return Promise.reject(connectionFailure(err, target, url, false));
  }

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let controller: DispatchController | undefined;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;

    const finish = (err: unknown, value?: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
      if (err === undefined) resolve(value as T);
      else reject(err as Error);
    };
    // Cancelling settles at once, even while the request still waits for a connection; undici is told as soon
    // as it has handed over the request's controller.
    const cancel = (reason: Error): void => {
      finish(reason);
      controller?.abort(reason);
    };
    const onCallerAbort = (): void => cancel(callerSignal?.reason as Error);
    const timer =
      target.timeoutMs <= MAX_TIMER_MS
        ? setTimeout(
            () =>
              cancel(
                new APITimeoutError(
                  `${target.label} did not answer within the timeout of ${target.timeoutMs / 1000} s (${req.method} ${displayUrl(url)}).`,
                  { provider: target.provider },
                ),
              ),
            target.timeoutMs,
          )
        : undefined;
    callerSignal?.addEventListener("abort", onCallerAbort, { once: true });

    const completed = (): void => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      if (status < 200 || status >= 300) {
        const text = redact(body.subarray(0, MAX_ERROR_BODY).toString("utf8"), target.apiKey);
        finish(toError({ status, headers, body: text, method: req.method, url, retryAfterMs: parseRetryAfter(headers), target }));
        return;
      }
      try {
        finish(undefined, decode(body));
      } catch (err) {
        if (!(err instanceof NotJsonError)) {
          finish(err);
          return;
        }
        finish(
          new BadGatewayError(
            `${target.label} at ${displayUrl(url)} answered HTTP ${status} with a body that is not JSON ` +
              `(${withoutBom(body).subarray(0, 320).toString("utf8").slice(0, 80).replace(/\s+/g, " ")}…); check api_base.`,
            { provider: target.provider },
          ),
        );
      }
    };

    try {
      upstreamAgent().dispatch(
        {
          origin: base.origin,
          path: base.basePath + req.path,
          method: req.method,
          headers: headersFor(target, req),
          body: requestBody(req),
        },
        {
          onRequestStart(requestController: DispatchController) {
            controller = requestController;
            if (settled) requestController.abort(new Error("cancelled"));
          },
          onResponseStart(_controller: DispatchController, statusCode: number, responseHeaders: Record<string, string | string[] | undefined>) {
            status = statusCode;
            headers = responseHeaders;
          },
          onResponseData(responseController: DispatchController, chunk: Buffer) {
            if (settled) return;
            chunks.push(chunk);
            size += chunk.length;
            // An HTML error page of megabytes is not read further than a message needs.
            if ((status < 200 || status >= 300) && size >= MAX_ERROR_BODY) {
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
        },
      );
    } catch (err) {
      finish(connectionFailure(err, target, url, false));
    }
  });
}
