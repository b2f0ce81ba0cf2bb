/**
 * What chat and text completions do with a provider's answer. A whole answer gets the usage the upstream
 * reported, or an estimate (marked so). A streamed one is committed once its first chunk is in (the provider
 * resolves then): the result carries the chunks, read at the reader's pace, and `done`, which settles when
 * the stream ends — with its usage, or with what broke it. The router keeps the attempt open until then.
 * A stream that nobody reads to its end still settles: cancelling it (the client went away, the attempt ran
 * out of time, the reader stopped) cancels the upstream call and rejects `done`; what the part it read used
 * can still be estimated (`usedSoFar`), so that a client that leaves mid-answer pays for what it was sent.
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
  /**
   * An estimate of what the chunks read so far used (the prompt and the text generated in them), for a
   * stream that did not reach its end: the upstream reports usage only in its last chunk.
   */
  usedSoFar(): Promise<AnswerUsage>;
}

/**
 * Of a longer text only this much is tokenized, and its count scaled: the tokenizer takes ~0.5 µs a character
 * on this path's machine, and no answer — an upstream's endless one without usage, or one a client left —
 * may cost the proxy seconds of CPU to count.
 */
const COUNTED_CHARS = 64 * 1024;

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
  const usage = reported ?? (await boundedEstimate(kind, kind.outputOf(answer)));
  return { stream: false, usage, estimated: reported === undefined, answer: (model) => ({ ...answer, model, usage }) };
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
  const finish = (outcome: { usage: AnswerUsage } | { error: unknown }): void => {
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

  // The text of the chunks read, for an estimate of the usage when the upstream reports none.
  const output: string[] = [];
  async function* read(model: string): AsyncGenerator<Chunk, void, undefined> {
    let last: Chunk | undefined;
    let usageSent = false;
    let usage: AnswerUsage;
    try {
      for await (const chunk of stream) {
        chunk.model = model;
        if (chunk.choices.length === 0) usageSent = true;
        else output.push(kind.outputOfChunk(chunk));
        last = chunk;
        yield chunk;
      }
      const reported = stream.usage;
      usage = reported === undefined ? { usage: await boundedEstimate(kind, output.join("")), estimated: true } : { usage: reported, estimated: false };
    } catch (error) {
      finish({ error });
      throw error;
    }
    finish({ usage });
    if (includeUsage && !usageSent && last !== undefined) yield { ...kind.usageChunk(last, usage.usage), model };
  }

  return {
    stream: true,
    done,
    usedSoFar: async () => ({ usage: await boundedEstimate(kind, output.join("")), estimated: true }),
    chunks(model) {
      const iterator = read(model);
      return {
        cancel(reason = new StreamCancelled()) {
          stream.cancel(reason);
          finish({ error: reason });
        },
        [Symbol.asyncIterator]: () => ({
          next: () => iterator.next(),
          return: async () => {
            stream.cancel();
            finish({ error: new StreamCancelled() });
            return iterator.return(undefined);
          },
        }),
      };
    },
  };
}

/** `kind.estimate`, for every estimate made here: within COUNTED_CHARS. */
async function boundedEstimate(kind: LlmKind<ModelNamed, ModelNamed>, text: string): Promise<CompletionUsage> {
  if (text.length <= COUNTED_CHARS) return kind.estimate(text);
  const counted = await kind.estimate(text.slice(0, COUNTED_CHARS));
  const completion = Math.ceil((counted.completion_tokens * text.length) / COUNTED_CHARS);
  return { prompt_tokens: counted.prompt_tokens, completion_tokens: completion, total_tokens: counted.prompt_tokens + completion };
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
