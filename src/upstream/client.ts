/** A resolved target plus its provider's error mapping: sends requests with retries. */
import type { FileSource } from "./files.js";
import { sendOnce } from "./http.js";
import type { BodyDecoder, ErrorMapper, UpstreamRequest } from "./http.js";
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
  sendDecoded<T>(req: UpstreamRequest, decode: BodyDecoder<T>): Promise<T>;
}

export function createUpstreamClient(target: UpstreamTarget, toError: ErrorMapper): UpstreamClient {
  return {
    target,
    send(req, files = []) {
      return withRetries(() => sendOnce(target, req, toError), {
        numRetries: target.numRetries,
        signal: target.signal,
        canResend: () => files.every((file) => file.replayable),
      });
    },
    sendDecoded(req, decode) {
      return withRetries(() => sendOnce(target, req, toError, decode), {
        numRetries: target.numRetries,
        signal: target.signal,
        canResend: () => true,
      });
    },
  };
}
