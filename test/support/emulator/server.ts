// The HTTP side: node:http (no framework, it is the benchmarks' direct baseline), routing, the request log,
// fault injection, and writing replies — including the deliberately broken ones.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createSpeech, createTranscription, createTranslation } from "./audio.js";
import { Authenticator } from "./auth.js";
import { createChatCompletion } from "./chat.js";
import { createCompletion } from "./completions.js";
import type { Pacing, Reply, RouteContext, RouteHandler } from "./context.js";
import { createEmbedding } from "./embeddings.js";
import { Engine } from "./engine.js";
import { HttpError, JSON_TYPE, TEXT_TYPE, detailError, uncaughtError } from "./errors.js";
import { FaultTable } from "./faults.js";
import { createImageEdits } from "./image-edits.js";
import { createImages, createInpainting, createVariations } from "./images.js";
import { describeModel, launchModel, listModels, terminateModel } from "./models-routes.js";
import { emptyForm, parseForm, summarizeForm } from "./multipart.js";
import type { MultipartForm } from "./multipart.js";
import { listOpenAIModels, openAIErrorBody, openAIErrorReply, withBase64Embeddings, withVllmRerank } from "./openai-twin.js";
import { ModelRegistry } from "./registry.js";
import { rerank } from "./rerank.js";
import type { Emulator, EmulatorOptions, EmulatorRoute, Fault, Flavor, LaunchSpec, RecordedRequest } from "./types.js";
import { parseJson } from "./validate.js";
import type { ParsedJson } from "./validate.js";

/** "json-or-form" reads a form when the request is one, JSON otherwise (the speech route takes both). */
type BodyKind = "json" | "form" | "json-or-form" | "none";

interface Route {
  route: EmulatorRoute;
  handler: RouteHandler;
  body: BodyKind;
}

const EXACT_ROUTES = new Map<string, Partial<Record<string, Route>>>([
  ["/v1/embeddings", { POST: { route: "embeddings", handler: createEmbedding, body: "json" } }],
  ["/v1/images/generations", { POST: { route: "images/generations", handler: createImages, body: "json" } }],
  ["/v1/images/edits", { POST: { route: "images/edits", handler: createImageEdits, body: "form" } }],
  ["/v1/images/variations", { POST: { route: "images/variations", handler: createVariations, body: "form" } }],
  ["/v1/images/inpainting", { POST: { route: "images/inpainting", handler: createInpainting, body: "form" } }],
  ["/v1/rerank", { POST: { route: "rerank", handler: rerank, body: "json" } }],
  ["/v1/chat/completions", { POST: { route: "chat/completions", handler: createChatCompletion, body: "json" } }],
  ["/v1/completions", { POST: { route: "completions", handler: createCompletion, body: "json" } }],
  ["/v1/audio/transcriptions", { POST: { route: "audio/transcriptions", handler: createTranscription, body: "form" } }],
  ["/v1/audio/translations", { POST: { route: "audio/translations", handler: createTranslation, body: "form" } }],
  ["/v1/audio/speech", { POST: { route: "audio/speech", handler: createSpeech, body: "json-or-form" } }],
  [
    "/v1/models",
    {
      GET: { route: "models", handler: listModels, body: "none" },
      POST: { route: "models", handler: launchModel, body: "json" },
    },
  ],
]);

/** Where the "openai" flavor answers differently. */
const OPENAI_ROUTES = new Map<string, Partial<Record<string, Route>>>([
  ["/v1/embeddings", { POST: { route: "embeddings", handler: withBase64Embeddings(createEmbedding), body: "json" } }],
  ["/v1/rerank", { POST: { route: "rerank", handler: withVllmRerank(rerank), body: "json" } }],
  // vLLM lists its models and has no call to launch one.
  ["/v1/models", { GET: { route: "models", handler: listOpenAIModels, body: "none" } }],
]);

const MODEL_ROUTES: Partial<Record<string, Route>> = {
  GET: { route: "models", handler: describeModel, body: "none" },
  DELETE: { route: "models", handler: terminateModel, body: "none" },
};

const MODELS_PREFIX = "/v1/models/";
/** What models report as their worker's address; nothing listens there. */
const WORKER_ADDRESS = "127.0.0.1:45679";
/** Xinference runs under uvicorn; a client may look at this header, so send it. */
const SERVER_HEADER = "uvicorn";

type Match = { kind: "route"; route: Route; uid: string | undefined } | { kind: "error"; error: HttpError };

function matchRoute(method: string, path: string, flavor: Flavor): Match {
  let methods = (flavor === "openai" ? OPENAI_ROUTES.get(path) : undefined) ?? EXACT_ROUTES.get(path);
  let uid: string | undefined;
  if (methods === undefined && path.startsWith(MODELS_PREFIX) && path.length > MODELS_PREFIX.length) {
    try {
      // The uid is the whole rest of the path: users launch models as e.g. "stabilityai/stable-diffusion-3.5-large".
      uid = decodeURIComponent(path.slice(MODELS_PREFIX.length));
      methods = MODEL_ROUTES;
    } catch {
      methods = undefined;
    }
  }
  if (methods === undefined) return { kind: "error", error: detailError(404, "Not Found") };
  const route = methods[method];
  if (route === undefined) return { kind: "error", error: detailError(405, "Method Not Allowed") };
  return { kind: "route", route, uid };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("aborted")));
  });
}

function errorReply(error: unknown, flavor: Flavor): Reply {
  const http = error instanceof HttpError ? error : uncaughtError(error instanceof Error ? error.message : String(error));
  if (flavor === "openai") return openAIErrorReply(http);
  return { status: http.status, contentType: http.contentType, headers: http.headers, body: http.body };
}

const FORM_TYPE = /^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\b/i;

/** sse-starlette's default (XINFERENCE_SSE_PING_ATTEMPTS_SECONDS): 600 s. */
const DEFAULT_PING_MS = 600_000;

function faultReply(fault: Extract<Fault, { kind: "status" }>, flavor: Flavor): Reply {
  const message = `Emulated fault: HTTP ${fault.status}`;
  const body =
    fault.body === undefined
      ? flavor === "openai"
        ? openAIErrorBody(message, fault.status)
        : JSON.stringify({ detail: message })
      : typeof fault.body === "string"
        ? fault.body
        : JSON.stringify(fault.body);
  const contentType = fault.contentType ?? (typeof fault.body === "string" ? TEXT_TYPE : JSON_TYPE);
  return { status: fault.status, contentType, headers: fault.headers ?? {}, body };
}

const NO_JSON: ParsedJson = { ok: false, message: "Expecting value: line 1 column 1 (char 0)" };

export class EmulatorServer implements Emulator {
  url = "";
  baseUrl = "";
  port = 0;
  readonly requests: RecordedRequest[] = [];

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly registry: ModelRegistry;
  private readonly engine: Engine;
  private readonly faults: FaultTable;
  private readonly auth: Authenticator;
  private readonly record: boolean;
  private readonly flavor: Flavor;
  private readonly pacing: Pacing;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: EmulatorOptions) {
    this.registry = new ModelRegistry(options.legacyNotFound400 === true, WORKER_ADDRESS);
    this.engine = new Engine(this.registry, options.computeDelayMs ?? 0);
    this.faults = new FaultTable(options.seed ?? 1);
    this.auth = new Authenticator(options.apiKeys ?? [], options.adminTokens ?? []);
    this.record = options.recordRequests ?? true;
    this.flavor = options.flavor ?? "xinference";
    this.pacing = {
      computeDelayMs: options.computeDelayMs ?? 0,
      tokenDelayMs: options.tokenDelayMs ?? 0,
      pingIntervalMs: options.ssePingMs ?? DEFAULT_PING_MS,
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => void this.writeReply(res, errorReply(error, this.flavor), undefined));
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    // Clients that vanish mid-request must not take the process down.
    this.server.on("clientError", (_error, socket) => socket.destroy());
  }

  async start(models: readonly LaunchSpec[]): Promise<this> {
    for (const spec of models) await this.launch(spec);
    const host = this.options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    this.url = `http://${urlHost}:${this.port}`;
    this.baseUrl = `${this.url}/v1`;
    return this;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  setFault(route: EmulatorRoute | "*", fault: Fault | null): void {
    this.faults.set(route, fault);
  }

  async launch(spec: LaunchSpec): Promise<string> {
    return asPlainError(() => this.registry.launch(spec).uid);
  }

  terminate(uid: string): void {
    asPlainError(() => this.registry.terminate(uid));
  }

  setLoading(uid: string, loading: boolean): void {
    this.registry.setLoading(uid, loading);
  }

  cancel(requestId: string): number {
    return this.engine.cancel(requestId);
  }

  waitForInFlight(uid: string, count: number): Promise<void> {
    return this.registry.waitForInFlight(uid, count);
  }

  waitForIdle(uid: string): Promise<void> {
    return this.registry.waitForIdle(uid);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.engine.close();
      this.registry.close();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on("error", () => undefined);
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    const match = matchRoute(method, url.pathname, this.flavor);
    // Aborts the route's work (a stream's generation above all) once the connection is gone.
    const disconnected = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) disconnected.abort();
    });

    let json = NO_JSON;
    let form: MultipartForm = emptyForm();
    let body: unknown = null;
    let kind: BodyKind = match.kind === "route" ? match.route.body : "none";
    if (kind === "json-or-form") kind = FORM_TYPE.test(req.headers["content-type"] ?? "") ? "form" : "json";
    try {
      if (kind === "json") {
        const raw = await readBody(req);
        if (raw.length > 0) {
          json = parseJson(raw);
          body = json.ok ? json.value : raw.toString("utf8");
        }
      } else if (kind === "form") {
        form = await parseForm(req);
        body = summarizeForm(form, this.options.recordFileData === true);
      } else {
        await readBody(req);
      }
    } catch {
      req.socket.destroy();
      return;
    }
    if (req.socket.destroyed) return;

    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      status: 0,
      at,
    };
    if (this.record) this.requests.push(record);
    if (match.kind === "error") {
      await this.writeReply(res, errorReply(match.error, this.flavor), record);
      return;
    }

    const fault = this.faults.take(match.route.route);
    if (fault?.kind === "reset") {
      // An RST, so the client sees ECONNRESET rather than a tidy close.
      req.socket.resetAndDestroy();
      this.options.onRequest?.(record);
      return;
    }
    if (fault?.kind === "stall") {
      this.options.onRequest?.(record);
      return;
    }
    if (fault?.kind === "status") {
      await this.writeReply(res, faultReply(fault, this.flavor), record);
      return;
    }
    if (fault?.kind === "latency") await this.sleep(fault.ms);

    let reply: Reply;
    try {
      if (form.error !== undefined) throw detailError(400, "There was an error parsing the body");
      const ctx: RouteContext = {
        registry: this.registry,
        engine: this.engine,
        principal: this.auth.authenticate(req.headers.authorization),
        record,
        query: url.searchParams,
        uid: match.uid,
        json,
        form,
        flavor: this.flavor,
        pacing: this.pacing,
        signal: disconnected.signal,
        fault,
        dropConnection: (how) => dropConnection(req.socket, how),
      };
      reply = await match.route.handler(ctx);
    } catch (error) {
      reply = errorReply(error, this.flavor);
    }
    const bodyFault = fault?.kind === "truncate" || fault?.kind === "stall-body" ? fault.kind : undefined;
    await this.writeReply(res, reply, record, bodyFault);
  }

  private async writeReply(
    res: ServerResponse,
    reply: Reply,
    record: RecordedRequest | undefined,
    bodyFault?: "truncate" | "stall-body",
  ): Promise<void> {
    if (res.destroyed || res.headersSent) return;
    if (record !== undefined) record.status = reply.status;
    const headers: Record<string, string | number> = {
      server: SERVER_HEADER,
      "content-type": reply.contentType,
      ...reply.headers,
    };
    if (record !== undefined && this.options.onRequest !== undefined) {
      const notify = this.options.onRequest;
      // "close", not "finish": a stream the client walked away from is reported too.
      res.on("close", () => notify(record));
    }

    if ("body" in reply) {
      const body = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
      headers["content-length"] = body.length;
      res.writeHead(reply.status, headers);
      if (bodyFault === undefined) {
        res.end(body);
        return;
      }
      // Part of the body, then either hang (stall-body) or end the connection short of Content-Length (truncate).
      const part = body.subarray(0, Math.floor(body.length / 2));
      res.write(part, () => {
        if (bodyFault === "truncate") res.socket?.end();
      });
      return;
    }

    res.writeHead(reply.status, headers);
    for await (const chunk of reply.chunks) {
      if (res.destroyed) return;
      // uvicorn's flow control: a client that does not read makes the generator wait, as at Xinference.
      if (!res.write(chunk)) await drained(res);
      if (bodyFault === "stall-body") return;
      if (bodyFault === "truncate") {
        res.socket?.end();
        return;
      }
    }
    res.end();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Cuts a connection after the bytes already written: http corks a response's writes until the next tick, and an
 * RST would discard whatever has not reached the kernel yet.
 */
function dropConnection(socket: Socket, how: "reset" | "close"): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once("close", () => resolve());
    setImmediate(() => {
      if (socket.destroyed) return;
      if (how === "close") socket.end();
      else socket.write(Buffer.alloc(0), () => socket.resetAndDestroy());
    });
  });
}

/** The programmatic API throws plain Errors carrying the detail the REST API would have answered with. */
function asPlainError<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof HttpError) {
      throw new Error(typeof error.detail === "string" ? error.detail : error.body, { cause: error });
    }
    throw error;
  }
}
