// The soak's clients: a few concurrent loops, each sending one request of the mix after another to xgate, some of
// them abandoned after a short random delay (a client that hangs up mid-upload or mid-answer). Every loop stops
// at the deadline or after its share of the request cap, and every request has a time limit of its own.
import { Agent, FormData, fetch } from "undici";
import type { EmulatorRoute } from "../../../test/support/emulator/index.js";
import { mulberry32 } from "../../../test/support/emulator/random.js";

export type RequestKind = "embed-small" | "embed-batch" | "image-generation" | "image-edit" | "rerank" | "chat-stream";

export const ROUTE_OF: Record<RequestKind, EmulatorRoute> = {
  "embed-small": "embeddings",
  "embed-batch": "embeddings",
  "image-generation": "images/generations",
  "image-edit": "images/edits",
  rerank: "rerank",
  "chat-stream": "chat/completions",
};

/** Relative weights of the mix; large batches are rare on purpose (each is ~4 MB of floats back). */
const WEIGHTS: Record<RequestKind, number> = {
  "embed-small": 40,
  "embed-batch": 2,
  "image-generation": 14,
  "image-edit": 14,
  rerank: 20,
  "chat-stream": 10,
};

export interface Models {
  embedSmall: string;
  embedLarge: string;
  image: string;
  rerank: string;
  chat: string;
}

export interface Outcome {
  kind: RequestKind;
  /** ms since the soak's start. */
  startMs: number;
  endMs: number;
  /** HTTP status; undefined when the client aborted on purpose or the connection failed. */
  status?: number;
  aborted: boolean;
  /** A failure the client did not cause (a reset or a timeout of ours), with its message. */
  error?: string;
}

export interface TrafficOptions {
  baseUrl: string;
  headers: Record<string, string>;
  models: Models;
  kinds: RequestKind[];
  concurrency: number;
  deadlineMs: number;
  maxRequests: number;
  /** Share of requests the client abandons, after 1–`abortMaxDelayMs` ms. */
  abortShare: number;
  abortMaxDelayMs: number;
  /** No request may take longer (the client gives up and records an error). */
  requestTimeoutMs: number;
  png: Buffer;
  t0: number;
  seed: number;
}

const WORDS = "the quick brown fox jumps over a lazy dog near river bank while soft rain falls on old stone".split(" ");

function sentence(random: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

function pick(kinds: RequestKind[], random: () => number): RequestKind {
  const total = kinds.reduce((sum, k) => sum + WEIGHTS[k], 0);
  let r = random() * total;
  for (const kind of kinds) {
    r -= WEIGHTS[kind];
    if (r < 0) return kind;
  }
  return kinds[kinds.length - 1] as RequestKind;
}

function body(kind: RequestKind, models: Models, png: Buffer, random: () => number): { path: string; body: string | FormData } {
  switch (kind) {
    case "embed-small": {
      const n = 1 + Math.floor(random() * 16);
      const input = Array.from({ length: n }, () => sentence(random, 8));
      return { path: "/embeddings", body: JSON.stringify({ model: models.embedSmall, input, encoding_format: "float" }) };
    }
    case "embed-batch": {
      const input = Array.from({ length: 1024 }, () => sentence(random, 12));
      const encoding = random() < 0.5 ? "float" : "base64";
      return { path: "/embeddings", body: JSON.stringify({ model: models.embedLarge, input, encoding_format: encoding }) };
    }
    case "image-generation":
      return {
        path: "/images/generations",
        body: JSON.stringify({ model: models.image, prompt: sentence(random, 6), size: "256x256", response_format: "b64_json" }),
      };
    case "image-edit": {
      const form = new FormData();
      form.set("model", models.image);
      form.set("prompt", sentence(random, 6));
      form.set("size", "256x256");
      form.set("response_format", "b64_json");
      form.set("image", new Blob([png], { type: "image/png" }), "small.png");
      return { path: "/images/edits", body: form };
    }
    case "rerank": {
      const documents = Array.from({ length: 10 }, () => sentence(random, 10));
      return { path: "/rerank", body: JSON.stringify({ model: models.rerank, query: sentence(random, 4), documents }) };
    }
    case "chat-stream":
      return {
        path: "/chat/completions",
        body: JSON.stringify({
          model: models.chat,
          messages: [{ role: "user", content: sentence(random, 8) }],
          stream: true,
          max_tokens: 32,
        }),
      };
  }
}

async function send(options: TrafficOptions, agent: Agent, random: () => number): Promise<Outcome> {
  const kind = pick(options.kinds, random);
  const request = body(kind, options.models, options.png, random);
  const startMs = Date.now() - options.t0;
  const controller = new AbortController();
  const abortAfter = random() < options.abortShare ? 1 + Math.floor(random() * options.abortMaxDelayMs) : undefined;
  let abortedOnPurpose = false;
  const abortTimer =
    abortAfter === undefined
      ? undefined
      : setTimeout(() => {
          abortedOnPurpose = true;
          controller.abort();
        }, abortAfter);
  const limit = setTimeout(() => controller.abort(), options.requestTimeoutMs);
  const headers = { ...options.headers, ...(typeof request.body === "string" ? { "content-type": "application/json" } : {}) };
  try {
    const res = await fetch(`${options.baseUrl}${request.path}`, {
      method: "POST",
      headers,
      body: request.body,
      signal: controller.signal,
      dispatcher: agent,
    });
    // Read the whole answer (a stream to its end): a body left unread would hold the connection.
    await res.arrayBuffer();
    return { kind, startMs, endMs: Date.now() - options.t0, status: res.status, aborted: false };
  } catch (error) {
    const endMs = Date.now() - options.t0;
    if (abortedOnPurpose) return { kind, startMs, endMs, aborted: true };
    const message = controller.signal.aborted
      ? `no answer within ${options.requestTimeoutMs} ms`
      : error instanceof Error
        ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}`
        : String(error);
    return { kind, startMs, endMs, aborted: false, error: message };
  } finally {
    clearTimeout(abortTimer);
    clearTimeout(limit);
  }
}

/** Runs the loops to the deadline (or the request cap); `onOutcome` hears every request as it ends. */
export async function runTraffic(options: TrafficOptions, onOutcome: (outcome: Outcome) => void): Promise<void> {
  const agent = new Agent({ connections: options.concurrency });
  const perLoop = Math.ceil(options.maxRequests / options.concurrency);
  const loop = async (n: number): Promise<void> => {
    const random = mulberry32(options.seed + n);
    for (let i = 0; i < perLoop && Date.now() < options.deadlineMs; i++) onOutcome(await send(options, agent, random));
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, n) => loop(n)));
  } finally {
    // Our keep-alive connections must not count as xgate's sockets at the end.
    await agent.close();
  }
}
