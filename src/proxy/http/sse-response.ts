/**
 * A streamed answer as the body of an SSE response: each chunk one `data:` event (LF framing) as it comes,
 * `data: [DONE]` at the end, and a failure after the stream began as an OpenAI error event — the last
 * thing sent before the response ends, so a client never sees a stream that just stops. Pulled at the
 * socket's pace: while the client does not read, no chunk is taken, so nothing more is read upstream.
 * While the upstream is silent, a comment every `keepAliveMs` keeps proxies and load balancers from
 * closing the connection as idle; one is sent only when nothing is waiting to be written.
 *
 * The chunks may still be coming (a stream whose first chunk is slow, committed before it: see routes/chat.ts):
 * the body then opens with a comment, so that the headers go out at once, and waits for them with its
 * keep-alives; if they never come, it sends the error event instead.
 */
import { Readable } from "node:stream";
import { APIError } from "../../errors.js";
import { errorBody, errorBodyOf } from "../../openai/errors.js";
import { sseComment, sseData, SSE_DONE } from "../../openai/sse.js";
import type { Chunks } from "../../operations/index.js";

const KEEP_ALIVE = sseComment("keep-alive");

/** A failure that is no APIError is a bug of ours: the client hears only that the stream broke off. */
function errorEvent(error: unknown): string {
  const body =
    error instanceof APIError
      ? errorBodyOf(error)
      : errorBody(500, "The stream broke off inside xgate; the request id in x-request-id finds it in the logs.", "internal_error", null);
  return sseData(JSON.stringify(body));
}

class SseBody<Chunk> extends Readable {
  /** Undefined until the chunks have come (when they were still coming). */
  private chunks: Chunks<Chunk> | undefined;
  private source: AsyncIterator<Chunk> | undefined;
  private pulling = false;
  private finished = false;
  private lastWriteAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pending: Chunks<Chunk> | Promise<Chunks<Chunk>>,
    private readonly keepAliveMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    super();
    if (pending instanceof Promise) {
      this.send(KEEP_ALIVE);
      // Cancelled, had the client gone before they came: nothing more is to be generated.
      // (A read waiting for them cancels them itself.)
      pending.then(
        (chunks) => (this.destroyed && !this.pulling ? chunks.cancel() : undefined),
        () => undefined,
      );
    } else this.open(pending);
    if (keepAliveMs > 0) this.arm(keepAliveMs);
  }

  private open(chunks: Chunks<Chunk>): AsyncIterator<Chunk> {
    this.chunks = chunks;
    this.source = chunks[Symbol.asyncIterator]();
    return this.source;
  }

  override _read(): void {
    if (!this.pulling && !this.finished) void this.pull();
  }

  private send(text: string): boolean {
    this.lastWriteAt = performance.now();
    return this.push(text);
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      let source = this.source;
      if (source === undefined) {
        const chunks = await this.pending;
        if (this.destroyed) {
          chunks.cancel();
          return;
        }
        source = this.open(chunks);
      }
      for (;;) {
        const next = await source.next();
        if (this.destroyed) return;
        if (next.done === true) {
          this.finish(SSE_DONE);
          return;
        }
        if (!this.send(sseData(JSON.stringify(next.value)))) return;
      }
    } catch (error) {
      if (this.destroyed) return;
      this.onError(error);
      this.finish(errorEvent(error));
    } finally {
      this.pulling = false;
    }
  }

  private finish(last: string): void {
    this.finished = true;
    this.disarm();
    this.send(last);
    this.push(null);
  }

  /** One timer for the whole stream, re-armed for what is left of the idle time rather than per chunk. */
  private arm(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    if (this.finished || this.destroyed) return;
    const idle = performance.now() - this.lastWriteAt;
    if (idle < this.keepAliveMs) {
      this.arm(this.keepAliveMs - idle);
      return;
    }
    // Only while we wait on the upstream with nothing queued: a client that is not reading needs no more bytes.
    if (this.pulling && this.readableLength === 0) this.send(KEEP_ALIVE);
    else this.lastWriteAt = performance.now();
    this.arm(this.keepAliveMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.disarm();
    // The client went away (or the response failed): the upstream must stop generating.
    if (!this.finished) this.chunks?.cancel(error ?? undefined);
    callback(error);
  }
}

/**
 * The SSE body for a stream's chunks, or for chunks still to come; `onError` hears of a failure after the
 * response began (for the log line).
 */
export function sseBody<Chunk>(
  chunks: Chunks<Chunk> | Promise<Chunks<Chunk>>,
  keepAliveMs: number,
  onError: (error: unknown) => void = () => undefined,
): Readable {
  return new SseBody(chunks, keepAliveMs, onError);
}
