/**
 * One attempt of one upstream request: sends it through the shared agent, enforces the per-attempt timeout,
 * follows the caller's AbortSignal, reads the whole response, and turns every failure into an error class.
 */
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import { request } from "undici";
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

async function readCapped(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
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

/** Sends the request once and resolves with the decoded body (by default its parsed JSON) of a 2xx answer. */
export async function sendOnce<T = unknown>(
  target: UpstreamTarget,
  req: UpstreamRequest,
  toError: ErrorMapper,
  decode: BodyDecoder<T> = parseJsonBody as BodyDecoder<T>,
): Promise<T> {
  const url = target.apiBase + req.path;
  const callerSignal = target.signal;
  if (callerSignal?.aborted === true) throw callerSignal.reason;

  // Cancels the undici request on the timeout or the caller's abort. An EventEmitter, which undici takes as a
  // signal too (it listens for "abort"), rather than an AbortController: each of those costs ~5 µs in Node 20
  // and pushes V8 into frequent full GCs, a large share of the proxy's CPU per small request.
  const cancel = new EventEmitter();
  let cancelled = false;
  let timedOut = false;
  const abort = (): void => {
    cancelled = true;
    cancel.emit("abort");
  };
  const timer =
    target.timeoutMs <= MAX_TIMER_MS
      ? setTimeout(() => {
          timedOut = true;
          abort();
        }, target.timeoutMs)
      : undefined;
  callerSignal?.addEventListener("abort", abort, { once: true });

  let gotHeaders = false;
  try {
    const res = await request(url, {
      dispatcher: upstreamAgent(),
      method: req.method,
      headers: headersFor(target, req),
      body: requestBody(req),
      signal: cancel,
    });
    gotHeaders = true;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const body = redact(await readCapped(res.body, MAX_ERROR_BODY), target.apiKey);
      res.body.destroy();
      throw toError({
        status: res.statusCode,
        headers: res.headers,
        body,
        method: req.method,
        url,
        retryAfterMs: parseRetryAfter(res.headers),
        target,
      });
    }
    // The bytes once, as one Buffer: a decoder that scans bytes needs no UTF-8 string of a 40 MB body.
    const body = Buffer.from(await res.body.arrayBuffer());
    try {
      return decode(body);
    } catch (err) {
      if (!(err instanceof NotJsonError)) throw err;
      throw new BadGatewayError(
        `${target.label} at ${displayUrl(url)} answered HTTP ${res.statusCode} with a body that is not JSON ` +
          `(${withoutBom(body).subarray(0, 320).toString("utf8").slice(0, 80).replace(/\s+/g, " ")}…); check api_base.`,
        { provider: target.provider },
      );
    }
  } catch (err) {
    if (cancelled) {
      if (!timedOut) throw callerSignal?.reason ?? err;
      throw new APITimeoutError(
        `${target.label} did not answer within the timeout of ${target.timeoutMs / 1000} s (${req.method} ${displayUrl(url)}).`,
        { provider: target.provider },
      );
    }
    throw connectionFailure(err, target, url, gotHeaders);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", abort);
  }
}
