/** A resolved target plus its provider's error mapping: sends requests, each attempt within its deadline, with retries. */
import { startDeadline } from "../core/deadline.js";
import type { FileSource } from "./files.js";
import { openStream, parseJsonBody, sendOnce } from "./http.js";
import type { BodyDecoder, ErrorMapper, UpstreamRequest, UpstreamStream } from "./http.js";
import { withRetries } from "./retry.js";
import type { UpstreamTarget } from "./target.js";

export interface UpstreamClient {
  readonly target: UpstreamTarget;
  /**
   * Sends a request, retrying as the target allows, and resolves with the JSON of the 2xx answer.
   * `files` are the uploads in a multipart body: after one of them could not be replayed, no retry is made.
   */
  send(req: UpstreamRequest, files?: readonly FileSource[]): Promise<unknown>;
  /** As `send`, with the 2xx body turned into the result by `decode` instead of JSON.parse. */
  sendDecoded<T>(req: UpstreamRequest, decode: BodyDecoder<T>, files?: readonly FileSource[]): Promise<T>;
  /**
   * Resolves at the headers of a 2xx answer, with its body as a stream; retried only before then. The
   * target's timeout bounds the whole exchange, body included. With `begin`, resolves with what `begin`
   * makes of the answer, and a failure of `begin` is the attempt's too — retried like a failure before the
   * headers, the body destroyed first: a stream whose first event is an error has not begun.
   */
  stream(req: UpstreamRequest): Promise<UpstreamStream>;
  stream<T>(req: UpstreamRequest, begin: (answer: UpstreamStream) => Promise<T>): Promise<T>;
}

/** Runs `begin` on an answer; when it fails, the body is released before the failure goes on. */
async function begun<T>(answer: UpstreamStream, begin: (answer: UpstreamStream) => Promise<T>): Promise<T> {
  try {
    return await begin(answer);
  } catch (err) {
    answer.body.destroy();
    throw err;
  }
}

/** Runs one attempt under the target's deadline: none when the timeout is unbounded (the router's attempt carries it). */
async function withinDeadline<T>(target: UpstreamTarget, attempt: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!Number.isFinite(target.timeoutMs)) return attempt(target.signal);
  const deadline = startDeadline({ timeoutMs: target.timeoutMs, parent: target.signal });
  try {
    return await attempt(deadline.signal);
  } finally {
    deadline.dispose();
  }
}

export function createUpstreamClient(target: UpstreamTarget, toError: ErrorMapper): UpstreamClient {
  const retried = <T>(attempt: (signal: AbortSignal | undefined) => Promise<T>, canResend: () => boolean): Promise<T> =>
    withRetries(() => withinDeadline(target, attempt), { numRetries: target.numRetries, signal: target.signal, canResend });
  return {
    target,
    send(req, files = []) {
      return this.sendDecoded(req, parseJsonBody, files);
    },
    sendDecoded(req, decode, files = []) {
      return retried(
        (signal) => sendOnce(target, req, toError, signal, decode),
        () => files.every((file) => file.replayable),
      );
    },
    stream<T>(req: UpstreamRequest, begin: (answer: UpstreamStream) => Promise<T> = async (answer) => answer as T): Promise<T> {
      return withRetries(
        async () => {
          if (!Number.isFinite(target.timeoutMs)) return begun(await openStream(target, req, toError, target.signal), begin);
          // The deadline lives as long as the body: it is released when the body ends, errors or is destroyed.
          const deadline = startDeadline({ timeoutMs: target.timeoutMs, parent: target.signal });
          try {
            const answer = await openStream(target, req, toError, deadline.signal);
            answer.body.once("close", () => deadline.dispose());
            return await begun(answer, begin);
          } catch (err) {
            deadline.dispose();
            throw err;
          }
        },
        { numRetries: target.numRetries, signal: target.signal, canResend: () => true },
      );
    },
  };
}
