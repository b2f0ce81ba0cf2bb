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

class SseChunks<Chunk> implements ChunkStream<Chunk> {
  private readonly parser = new SseParser();
  private readonly pieces: AsyncIterator<Buffer>;
  /** Chunks made from a body piece and not yet taken: one piece may complete several events. */
  private readonly ready: Chunk[] = [];
  private sawDone = false;
  private ended = false;
  /** What broke the stream, thrown once the chunks that came before it are taken. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly body: Readable,
    private readonly reader: EventReader<Chunk>,
  ) {
    this.pieces = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  get usage(): CompletionUsage | undefined {
    return this.reader.usage();
  }

  cancel(reason: Error = new StreamCancelled()): void {
    if (!this.body.destroyed) this.body.destroy(reason);
  }

  /** The next chunk; done once the stream has ended whole. Rejects with what broke it. */
  async next(): Promise<IteratorResult<Chunk, undefined>> {
    while (this.ready.length === 0) {
      if (this.failure !== undefined) throw this.failure.error;
      if (this.ended) return { done: true, value: undefined };
      try {
        await this.read();
      } catch (error) {
        this.failure = { error };
        // Nothing more will be read: the upstream should stop now.
        this.cancel(error instanceof Error ? error : undefined);
      }
    }
    return { done: false, value: this.ready.shift() as Chunk };
  }

  /** Reads one body piece into chunks; throws what an event or the end says is wrong, after the chunks before it. */
  private async read(): Promise<void> {
    const piece = await this.pieces.next();
    const events = piece.done ? this.parser.end() : this.parser.feed(piece.value);
    for (const { data } of events) {
      if (this.sawDone) continue;
      if (data === DONE_DATA) this.sawDone = true;
      else {
        const chunk = this.reader.event(data);
        if (chunk !== undefined) this.ready.push(chunk);
      }
    }
    if (piece.done) {
      this.ended = true;
      this.reader.end(this.sawDone);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }
}

/**
 * Reads events until the first chunk is there, and resolves with the stream (that chunk first). An error
 * before then — an in-band error as the first event, a connection that breaks — rejects, so that the
 * attempt fails as a whole and may be retried: nothing has reached the client yet.
 */
export async function openChunkStream<Chunk>(body: Readable, reader: EventReader<Chunk>): Promise<ChunkStream<Chunk>> {
  const stream = new SseChunks(body, reader);
  const first = await stream.next();
  let taken = false;
  const iterator = stream[Symbol.asyncIterator]();
  return {
    get usage() {
      return stream.usage;
    },
    cancel: (reason) => stream.cancel(reason),
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (taken) return iterator.next();
        taken = true;
        return first;
      },
      return: () => (iterator.return as () => Promise<IteratorResult<Chunk, undefined>>)(),
    }),
  };
}
