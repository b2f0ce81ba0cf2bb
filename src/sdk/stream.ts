import type { AnswerUsage, Chunks } from "../operations/index.js";

/**
 * A streamed answer's chunks, as an async iterable: iterate it once. Leaving the loop early (`break`,
 * `return`, a throw), `abort()`, or the call's `signal` cancels the upstream request, so the model stops
 * generating. The call's `timeout` covers the whole stream.
 */
export class CompletionStream<Chunk> implements AsyncIterable<Chunk> {
  private iterated = false;

  /** @internal */
  constructor(
    private readonly chunks: Chunks<Chunk>,
    /** Settles when the stream has ended: with the usage (`estimated` when the upstream reported none), or with what broke it. */
    readonly usage: Promise<AnswerUsage>,
  ) {}

  /** Stops the stream: a read in progress fails with `reason`, and the upstream request is cancelled. */
  abort(reason: Error = new Error("The stream was aborted.")): void {
    this.chunks.cancel(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk> {
    if (this.iterated) throw new Error("A CompletionStream can be iterated once only.");
    this.iterated = true;
    return this.chunks[Symbol.asyncIterator]();
  }
}
