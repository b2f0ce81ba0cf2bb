/**
 * What chat and text completions do with a provider's answer. A whole answer gets the usage the upstream
 * reported, or an estimate (marked so). A streamed one is committed once its first chunk is in (the provider
 * resolves then): the result carries the chunks, read at the reader's pace, and `done`, which settles when
 * the stream ends — with its usage, or with what broke it. The router keeps the attempt open until then.
 * A stream that nobody reads to its end still settles: cancelling it (the client went away, the attempt ran
 * out of time, the reader stopped) cancels the upstream call and rejects `done`.
 */
import type { ChunkStream, LlmAnswer } from "../providers/index.js";
import { StreamCancelled } from "../providers/sse-chunks.js";
import type { CompletionUsage } from "../openai/usage.js";

/** An answer's usage, and whether xgate estimated it (the upstream reported none). */
export interface AnswerUsage {
  usage: CompletionUsage;
  estimated: boolean;
}

export interface WholeResult<Whole> extends AnswerUsage {
  stream: false;
  /** The answer, its `model` the name given, its `usage` always set. */
  answer(model: string): Whole;
}

/** A stream's chunks: iterate once; `cancel` ends a read in progress at once and cancels the upstream call. */
export interface Chunks<Chunk> extends AsyncIterable<Chunk> {
  cancel(reason?: Error): void;
}

export interface StreamedResult<Chunk> {
  stream: true;
  /** The chunks, each one's `model` the name given. */
  chunks(model: string): Chunks<Chunk>;
  /** Settles at the end of the stream: with its usage, or rejected with what broke it off. */
  done: Promise<AnswerUsage>;
}

export type LlmResult<Whole, Chunk> = WholeResult<Whole> | StreamedResult<Chunk>;

/** What differs between chat and text completions. */
export interface LlmKind<Whole extends ModelNamed, Chunk extends ModelNamed> {
  /** The text generated in a whole answer, to estimate its tokens. */
  outputOf(answer: Whole): string;
  /** The text generated in one chunk. */
  outputOfChunk(chunk: Chunk): string;
  estimate(output: string): Promise<CompletionUsage>;
  /** The usage chunk for a stream whose upstream sent none, from the stream's last chunk. */
  usageChunk(last: Chunk, usage: CompletionUsage): Chunk;
}

interface ModelNamed {
  model: string;
  usage?: CompletionUsage | null;
  choices: unknown[];
}

async function wholeResult<Whole extends ModelNamed>(answer: Whole, kind: LlmKind<Whole, ModelNamed>): Promise<WholeResult<Whole>> {
  const reported = answer.usage ?? undefined;
  const usage = reported ?? (await kind.estimate(kind.outputOf(answer)));
  return { stream: false, usage, estimated: reported === undefined, answer: (model) => ({ ...answer, model, usage }) };
}

/** How a stream's reading ends: with its usage, or with what broke it off. */
type Outcome = { usage: AnswerUsage } | { error: unknown };

/**
 * A stream's chunks for one reader, its own iterator: one object per stream, not an async generator, since a
 * generator suspended in a `for await` is a frame and a promise chain held for as long as the stream waits
 * on the upstream. The text is kept only to estimate the usage, and only until the upstream reports its own.
 */
class LlmChunks<Chunk extends ModelNamed> implements Chunks<Chunk>, AsyncIterator<Chunk, void> {
  private readonly source: AsyncIterator<Chunk, unknown>;
  private output: string[] | undefined = [];
  private last: Chunk | undefined;
  private usageSent = false;
  /** The usage chunk still to be passed on, once the upstream's chunks are all taken. */
  private usageChunk: Chunk | undefined;
  private over = false;

  constructor(
    private readonly stream: ChunkStream<Chunk>,
    private readonly kind: LlmKind<ModelNamed, Chunk>,
    private readonly includeUsage: boolean,
    private readonly model: string,
    private readonly finish: (outcome: Outcome) => void,
  ) {
    this.source = stream[Symbol.asyncIterator]();
  }

  cancel(reason: Error = new StreamCancelled()): void {
    this.stream.cancel(reason);
    this.finish({ error: reason });
  }

  next(): Promise<IteratorResult<Chunk, void>> {
    if (this.usageChunk !== undefined) {
      const chunk = this.usageChunk;
      this.usageChunk = undefined;
      this.over = true;
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.over) return Promise.resolve({ done: true, value: undefined });
    return this.source.next().then(
      (next) => (next.done === true ? this.ended() : { done: false, value: this.passed(next.value) }),
      (error: unknown) => this.broke(error),
    );
  }

  async return(): Promise<IteratorResult<Chunk, void>> {
    this.over = true;
    this.usageChunk = undefined;
    this.stream.cancel();
    this.finish({ error: new StreamCancelled() });
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk, void> {
    return this;
  }

  private passed(chunk: Chunk): Chunk {
    chunk.model = this.model;
    if (chunk.choices.length === 0) this.usageSent = true;
    else if (this.output !== undefined) {
      // Reported usage stays reported: from here on the text would never be estimated.
      if (this.stream.usage === undefined) this.output.push(this.kind.outputOfChunk(chunk));
      else this.output = undefined;
    }
    this.last = chunk;
    return chunk;
  }

  private async ended(): Promise<IteratorResult<Chunk, void>> {
    let usage: AnswerUsage;
    try {
      const reported = this.stream.usage;
      usage = reported === undefined ? { usage: await this.kind.estimate((this.output ?? []).join("")), estimated: true } : { usage: reported, estimated: false };
    } catch (error) {
      return this.broke(error);
    }
    this.output = undefined;
    this.finish({ usage });
    this.over = true;
    if (!this.includeUsage || this.usageSent || this.last === undefined) return { done: true, value: undefined };
    this.over = false;
    this.usageChunk = { ...this.kind.usageChunk(this.last, usage.usage), model: this.model };
    return this.next();
  }

  private broke(error: unknown): never {
    this.over = true;
    this.output = undefined;
    this.finish({ error });
    throw error;
  }
}

function streamedResult<Chunk extends ModelNamed>(
  stream: ChunkStream<Chunk>,
  kind: LlmKind<ModelNamed, Chunk>,
  includeUsage: boolean,
  signal: AbortSignal | undefined,
): StreamedResult<Chunk> {
  let settle: { resolve(usage: AnswerUsage): void; reject(reason: unknown): void } | undefined;
  const done = new Promise<AnswerUsage>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A failure is also reported to the reader; nobody need await this for it not to go unhandled.
  done.catch(() => undefined);
  const finish = (outcome: Outcome): void => {
    const pending = settle;
    settle = undefined;
    signal?.removeEventListener("abort", onAbort);
    if (pending === undefined) return;
    if ("usage" in outcome) pending.resolve(outcome.usage);
    else pending.reject(outcome.error);
  };
  // Settled even when nobody is reading: the attempt must not stay open for a reader that never comes.
  const onAbort = (): void => {
    const reason = signal?.reason instanceof Error ? signal.reason : new StreamCancelled("the call was cancelled");
    stream.cancel(reason);
    finish({ error: reason });
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });

  return { stream: true, done, chunks: (model) => new LlmChunks(stream, kind, includeUsage, model, finish) };
}

/** The result of a provider's answer; `signal` is the call's (the attempt's, in the proxy). */
export function llmResult<Whole extends ModelNamed, Chunk extends ModelNamed>(
  answer: LlmAnswer<Whole, Chunk>,
  kind: LlmKind<Whole, Chunk>,
  includeUsage: boolean,
  signal: AbortSignal | undefined,
): Promise<LlmResult<Whole, Chunk>> | LlmResult<Whole, Chunk> {
  return answer.stream
    ? streamedResult(answer.chunks, kind as LlmKind<ModelNamed, Chunk>, includeUsage, signal)
    : wholeResult(answer.answer, kind as LlmKind<Whole, ModelNamed>);
}
