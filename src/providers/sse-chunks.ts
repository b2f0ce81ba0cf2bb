/**
 * A provider's server-sent event stream as a ChunkStream: the body read only as fast as the chunks are taken
 * (one body piece at a time, so a slow reader leaves the rest in the socket and the upstream waits), each
 * event's data handed to the provider's reader, `[DONE]` or the end of the body ending it. Cancelling destroys
 * the body, which cancels the upstream request and fails a read in progress at once.
 */
import type { Readable } from "node:stream";
import { DONE_DATA, SseParser } from "../openai/sse.js";
import type { CompletionUsage } from "../openai/usage.js";
import type { ChunkStream } from "./types.js";

/** What a provider makes of its stream's events. */
export interface EventReader<Chunk> {
  /** One event's data: the chunk to pass on, or undefined for none; throws to fail the stream (an in-band error). */
  event(data: string): Chunk | undefined;
  /** The stream ended, after `[DONE]` or without it; throws when the answer is not complete. */
  end(sawDone: boolean): void;
  /** The usage the stream reported so far. */
  usage(): CompletionUsage | undefined;
}

/** Why a stream that nobody reads any more was cancelled. */
export class StreamCancelled extends Error {
  constructor(message = "the stream's reader stopped reading") {
    super(message);
    this.name = "StreamCancelled";
  }
}

/** Where a read waiting for the body's next piece is told of it. */
interface PieceWaiter {
  resolve(piece: Buffer | null): void;
  reject(error: unknown): void;
}

/**
 * The stream and its own iterator. It reads the body with `read()` and a waiter rather than through the
 * body's async iterator, and is awaited at one level: each layer of async iteration between the socket and
 * the client is a suspended frame and a promise chain held for as long as the stream is open, and thousands
 * of streams may be open at once.
 */
class SseChunks<Chunk> implements ChunkStream<Chunk>, AsyncIterator<Chunk, undefined> {
  private readonly parser = new SseParser();
  /** Chunks made from a body piece and not yet taken: one piece may complete several events. */
  private readonly ready: Chunk[] = [];
  private sawDone = false;
  private ended = false;
  /** What broke the stream, thrown once the chunks that came before it are taken. */
  private failure: { error: unknown } | undefined;
  /** The body's own end or failure, once it has come: what a later wait for a piece gets at once. */
  private bodyOutcome: { error: unknown } | "end" | undefined;
  private waiter: PieceWaiter | undefined;

  constructor(
    private readonly body: Readable,
    private readonly reader: EventReader<Chunk>,
  ) {
    // `on`, not `once`: settleBody heeds only the first outcome, and a `once` wrapper is two more objects a stream.
    body.on("readable", () => this.wake());
    body.on("end", () => this.settleBody("end"));
    body.on("error", (error: unknown) => this.settleBody({ error }));
    // Destroyed without an error and before its end: the answer is cut short all the same.
    body.on("close", () => this.settleBody({ error: new Error("the response body closed before its end") }));
  }

  get usage(): CompletionUsage | undefined {
    return this.reader.usage();
  }

  cancel(reason: Error = new StreamCancelled()): void {
    if (!this.body.destroyed) this.body.destroy(reason);
  }

  /** Reads until a chunk is ready or the stream is over; rejects with what broke it before a chunk came. */
  async fill(): Promise<void> {
    while (this.ready.length === 0 && !this.ended) {
      if (this.failure !== undefined) throw this.failure.error;
      try {
        this.take(await this.piece());
      } catch (error) {
        this.failure = { error };
        // Nothing more will be read: the upstream should stop now.
        this.cancel(error instanceof Error ? error : undefined);
      }
    }
    if (this.ready.length === 0 && this.failure !== undefined) throw this.failure.error;
  }

  /** The next chunk; done once the stream has ended whole. Rejects with what broke it. */
  async next(): Promise<IteratorResult<Chunk, undefined>> {
    if (this.ready.length === 0) await this.fill();
    const chunk = this.ready.shift();
    return chunk === undefined ? { done: true, value: undefined } : { done: false, value: chunk };
  }

  async return(): Promise<IteratorResult<Chunk, undefined>> {
    this.cancel();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk, undefined> {
    return this;
  }

  /** The body's next piece, null at its end; rejects with what destroyed it. */
  private piece(): Promise<Buffer | null> {
    // What a destroyed body still held is not read: it broke off, and its error says so.
    const piece = this.body.destroyed ? null : (this.body.read() as Buffer | null);
    if (piece !== null) return Promise.resolve(piece);
    if (this.bodyOutcome === "end") return Promise.resolve(null);
    if (this.bodyOutcome !== undefined) return Promise.reject(this.bodyOutcome.error);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    const piece = this.body.read() as Buffer | null;
    // At its end a body is readable with nothing left to read: "end" follows.
    if (piece === null) return;
    this.waiter = undefined;
    waiter.resolve(piece);
  }

  private settleBody(outcome: { error: unknown } | "end"): void {
    if (this.bodyOutcome !== undefined) return;
    this.bodyOutcome = outcome;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    if (outcome === "end") waiter.resolve(null);
    else waiter.reject(outcome.error);
  }

  /** Turns one body piece (null: the end) into chunks; throws what an event or the end says is wrong, after the chunks before it. */
  private take(piece: Buffer | null): void {
    const events = piece === null ? this.parser.end() : this.parser.feed(piece);
    for (const { data } of events) {
      if (this.sawDone) continue;
      if (data === DONE_DATA) this.sawDone = true;
      else {
        const chunk = this.reader.event(data);
        if (chunk !== undefined) this.ready.push(chunk);
      }
    }
    if (piece === null) {
      this.ended = true;
      this.reader.end(this.sawDone);
    }
  }
}

/**
 * Reads events until the first chunk is there, and resolves with the stream (that chunk first). An error
 * before then — an in-band error as the first event, a connection that breaks — rejects, so that the
 * attempt fails as a whole and may be retried: nothing has reached the client yet.
 */
export async function openChunkStream<Chunk>(body: Readable, reader: EventReader<Chunk>): Promise<ChunkStream<Chunk>> {
  const stream = new SseChunks(body, reader);
  await stream.fill();
  return stream;
}
