/**
 * Embeddings answered as they come: a call split into several upstream requests is written out chunk by
 * chunk, in input order, as each completes — the first bytes leave once the first chunk is in, and the
 * gateway holds at most `max_concurrency` chunks at a time, whatever the batch's size. The writer sets the
 * pace: a chunk is started only when it is at most `max_concurrency` ahead of the one being written, so a
 * slow reader slows the upstream requests instead of filling memory.
 *
 * The answer is committed once the first chunk is in: until then a failure is the attempt's (the router may
 * retry it elsewhere); after, a failing chunk cancels the others and breaks the response off, since its
 * status is already sent.
 */
import { Readable } from "node:stream";
import type { EmbeddingResult } from "../providers/index.js";
import { linkedController } from "./concurrency.js";
import {
  ANSWER_HEAD,
  answerTail,
  chunkCaller,
  chunksOf,
  type EmbeddingsRequest,
  embeddingsOf,
  type EmbeddingChunk,
  itemParts,
} from "./embeddings.js";
import type { OperationTarget } from "./types.js";

/** An embedding answer as JSON bytes. */
export interface EmbeddingAnswer {
  /** The answer's JSON bytes for the model name the client asked for: whole, or a stream as chunks complete. */
  body(model: string): Buffer | Readable;
  /**
   * Undefined when the answer was complete at once (one chunk); else settles when the last chunk has been read
   * (written, or merged), with the tokens the call used, or with what failed it.
   */
  done: Promise<number> | undefined;
  /** Tokens used, when the answer was complete at once. */
  tokens: number | undefined;
}

/** An upstream's embedding answer: its bytes, or the results they are written from. */
export interface StreamedEmbeddings extends EmbeddingAnswer {
  /**
   * The upstream results in input order, for a writer of its own (the proxy's cache merges its entries in):
   * all of them when the answer was complete at once, else read as each completes, starting the next ones
   * as body() would. Read this or body(), once.
   */
  results(): readonly EmbeddingResult[] | AsyncIterable<EmbeddingResult>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failure is also reported through the stream; nobody need await this for it not to go unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export async function streamEmbeddings(request: EmbeddingsRequest, target: OperationTarget): Promise<StreamedEmbeddings> {
  const chunks = chunksOf(request);
  if (chunks.length === 1) {
    const results = [await chunkCaller(request, target, target.upstream.signal)(chunks[0] as EmbeddingChunk)];
    const answer = embeddingsOf(results, request.format);
    return { body: (model) => answer.json(model), results: () => results, done: undefined, tokens: answer.totalTokens };
  }

  const linked = linkedController(target.upstream.signal);
  const embedChunk = chunkCaller(request, target, linked.controller.signal);
  const finished = deferred<number>();
  // Cancelled (the client went away, the attempt ran out of time) while nothing of the call is running.
  linked.controller.signal.addEventListener("abort", () => finished.reject(linked.controller.signal.reason), { once: true });
  const fail = (err: unknown): void => {
    linked.controller.abort(err);
    linked.dispose();
    finished.reject(err);
  };
  const started: (Promise<EmbeddingResult> | undefined)[] = [];
  const start = (k: number): void => {
    if (k >= chunks.length) return;
    const call = embedChunk(chunks[k] as EmbeddingChunk);
    // Seen by the writer when its turn comes; a failure before then cancels the rest at once.
    call.catch(fail);
    started[k] = call;
  };
  for (let k = 0; k < Math.min(request.concurrency, chunks.length); k++) start(k);
  try {
    await started[0];
  } catch (err) {
    fail(err);
    throw err;
  }

  async function* results(): AsyncGenerator<EmbeddingResult> {
    let tokens = 0;
    let completed = false;
    try {
      for (let k = 0; k < chunks.length; k++) {
        const result = await (started[k] as Promise<EmbeddingResult>);
        started[k] = undefined;
        start(k + request.concurrency);
        tokens += result.usage.total_tokens;
        yield result;
      }
      completed = true;
      linked.dispose();
      finished.resolve(tokens);
    } finally {
      // The reader went away, or a chunk failed: the chunks still running are of no use to anyone.
      if (!completed) fail(linked.controller.signal.reason ?? new Error("the client stopped reading the answer"));
    }
  }

  async function* write(model: string): AsyncGenerator<Buffer> {
    yield ANSWER_HEAD;
    const usage = { prompt_tokens: 0, total_tokens: 0 };
    let index = 0;
    for await (const result of results()) {
      usage.prompt_tokens += result.usage.prompt_tokens;
      usage.total_tokens += result.usage.total_tokens;
      // One write per chunk: thousands of small ones would cost more than the copy.
      const parts: Buffer[] = [];
      for (let i = 0; i < result.vectors.length; i++, index++) parts.push(...itemParts(result.vectors, i, index, request.format));
      yield Buffer.concat(parts);
    }
    yield answerTail(model, usage);
  }

  return {
    body: (model) => Readable.from(write(model), { objectMode: false }),
    results,
    done: finished.promise,
    tokens: undefined,
  };
}
