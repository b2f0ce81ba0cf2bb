// Streamed replies, paced like an engine: the first token after the compute delay, then one every tokenDelayMs.
// Framed as sse-starlette frames Xinference's streams (CRLF separators, a `: ping - <time>` comment on a fixed
// schedule from the start of the stream, also while the engine "thinks" or stalls) or as a plain
// OpenAI-compatible server does (LF, no pings). Applies the stream-* faults, and stops generating, releasing
// the model's slot, as soon as the connection closes.
import { performance } from "node:perf_hooks";
import type { RouteContext, StreamReply } from "./context.js";

export interface PacedEvent {
  /** An SSE event's data (framed here), or raw bytes of an audio stream (sent as they are). */
  data: string | Buffer;
  /** How many tokens must have been generated before this event goes out (a running count). */
  afterTokens: number;
}

export interface Framing {
  event(data: string): string;
  /** A keep-alive comment, or undefined when the server sends none. */
  ping: (() => string) | undefined;
}

export interface StreamPlan {
  contentType: string;
  framing: Framing;
  events: PacedEvent[];
  /** What an engine failure mid-stream becomes: the events that report it, or a connection cut short. */
  failure: (message: string) => PacedEvent[] | "drop";
  /** Frees the model's slot; called once, however the stream ends. */
  release: () => void;
}

/** sse-starlette's framing, as Xinference streams it. */
export const STARLETTE_FRAMING: Framing = {
  event: (data) => `data: ${data}\r\n\r\n`,
  ping: () => `: ping - ${pythonUtcNow()}\r\n\r\n`,
};

/** vLLM's and OpenAI's framing. */
export const PLAIN_FRAMING: Framing = { event: (data) => `data: ${data}\n\n`, ping: undefined };

/** What sse-starlette adds to every EventSourceResponse. */
export const SSE_HEADERS = { "Cache-Control": "no-store", Connection: "keep-alive", "X-Accel-Buffering": "no" };

export const DEFAULT_FAILURE_MESSAGE = "Emulated engine failure";

export function pacedStream(ctx: RouteContext, plan: StreamPlan): StreamReply {
  const state = { released: false, ended: false };
  const release = (): void => {
    if (state.released) return;
    state.released = true;
    plan.release();
  };
  // Generation stops when the connection goes, even before the server started reading the stream.
  const onClose = (): void => {
    if (!state.ended) ctx.record.disconnected = true;
    release();
  };
  if (ctx.signal.aborted) onClose();
  else ctx.signal.addEventListener("abort", onClose, { once: true });
  return {
    status: 200,
    contentType: plan.contentType,
    headers: SSE_HEADERS,
    chunks: run(ctx, plan, release, state),
  };
}

async function* run(
  ctx: RouteContext,
  plan: StreamPlan,
  release: () => void,
  state: { ended: boolean },
): AsyncGenerator<string | Buffer> {
  const { computeDelayMs, tokenDelayMs, pingIntervalMs } = ctx.pacing;
  const start = performance.now();
  const ping = plan.framing.ping;
  let nextPing = ping === undefined ? Number.POSITIVE_INFINITY : start + pingIntervalMs;
  const tokenAt = (count: number): number => (count <= 0 ? start : start + computeDelayMs + (count - 1) * tokenDelayMs);

  /** Waits until `until` (performance time), sending the pings that fall due meanwhile; false once disconnected. */
  async function* idle(until: number): AsyncGenerator<string, boolean> {
    for (;;) {
      if (ctx.signal.aborted) return false;
      const wakeAt = Math.min(until, nextPing);
      const now = performance.now();
      if (wakeAt > now && !(await sleep(wakeAt - now, ctx.signal))) return false;
      if (performance.now() < wakeAt) continue;
      if (nextPing <= until && ping !== undefined) {
        nextPing += pingIntervalMs;
        yield ping();
        continue;
      }
      return true;
    }
  }

  const fault = ctx.fault;
  const faultAfter =
    fault?.kind === "stream-error" || fault?.kind === "stream-reset" || fault?.kind === "stream-stall" ? fault.afterChunks : undefined;
  let sent = 0;
  ctx.record.streamedEvents = 0;
  try {
    let events = plan.events;
    for (let i = 0; i < events.length; i++) {
      if (sent === faultAfter && fault !== undefined) {
        if (fault.kind === "stream-reset") return await ctx.dropConnection("reset");
        if (fault.kind === "stream-stall") {
          yield* idle(Number.POSITIVE_INFINITY);
          return;
        }
        if (fault.kind === "stream-error") {
          const failure = plan.failure(fault.message ?? DEFAULT_FAILURE_MESSAGE);
          if (failure === "drop") return await ctx.dropConnection("close");
          // The error is reported where the engine failed; what follows is the failure's own events.
          events = [...events.slice(0, i), ...failure.map((event) => ({ ...event, afterTokens: events[i]?.afterTokens ?? 0 }))];
        }
      }
      const event = events[i] as PacedEvent;
      if (!(yield* idle(tokenAt(event.afterTokens)))) return;
      yield typeof event.data === "string" ? plan.framing.event(event.data) : event.data;
      sent++;
      ctx.record.streamedEvents = sent;
    }
    state.ended = true;
  } finally {
    release();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (completed: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits out engine time unless the connection closes first; false when it did. */
export function engineSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return ms <= 0 ? Promise.resolve(!signal.aborted) : sleep(ms, signal);
}

/** `str(datetime.now(timezone.utc))`, which sse-starlette's ping comment carries. */
function pythonUtcNow(): string {
  const iso = new Date().toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === "000" ? "" : `.${ms}000`}+00:00`;
}
