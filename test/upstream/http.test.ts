import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  BadGatewayError,
  BadRequestError,
  errorFromStatus,
  ServiceUnavailableError,
} from "../../src/errors.js";
import { AGENT_OPTIONS } from "../../src/upstream/agent.js";
import { createUpstreamClient } from "../../src/upstream/client.js";
import { fileSource } from "../../src/upstream/files.js";
import { type ErrorMapper, openStream } from "../../src/upstream/http.js";
import { encodeMultipart } from "../../src/upstream/multipart.js";
import { resolveTarget } from "../../src/upstream/target.js";
import type { UpstreamTarget } from "../../src/upstream/target.js";
import { parseMultipart, tinyServer } from "./helpers.js";
import type { TinyServer } from "./helpers.js";

const DEFAULTS = {
  provider: "test",
  label: "Test upstream",
  apiBaseEnv: "XGATE_TEST_UNUSED_BASE",
  apiKeyEnv: "XGATE_TEST_UNUSED_KEY",
  defaultApiBase: "http://127.0.0.1:9/v1",
  exampleApiBase: "http://127.0.0.1:9/v1",
};

const toError: ErrorMapper = (failure) =>
  errorFromStatus(failure.status, failure.body, { provider: "test", retryAfterMs: failure.retryAfterMs });

function target(server: TinyServer, options: Record<string, unknown> = {}): UpstreamTarget {
  return resolveTarget(DEFAULTS, { api_base: server.baseUrl, num_retries: 0, ...options });
}

interface Seen {
  url: string;
  headers: IncomingMessage["headers"];
}

let server: TinyServer;
const seen: Seen[] = [];
let attemptsByPath = new Map<string, number>();

before(async () => {
  server = await tinyServer((req, res) => {
    const url = req.url ?? "";
    seen.push({ url, headers: req.headers });
    const attempt = (attemptsByPath.get(url) ?? 0) + 1;
    attemptsByPath.set(url, attempt);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    switch (url) {
      case "/v1/ok":
        return json(200, { ok: true });
      case "/v1/stall":
        return; // never answers
      case "/v1/stall-body":
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"ok":');
        return;
      case "/v1/truncate":
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"ok":', () => res.socket?.end());
        return;
      case "/v1/reset":
        req.socket.resetAndDestroy();
        return;
      case "/v1/html":
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>Welcome to nginx!</body></html>");
        return;
      case "/v1/echo-auth":
        res.writeHead(401, { "content-type": "text/plain" });
        res.end(`bad credentials: ${req.headers.authorization ?? ""}`);
        return;
      case "/v1/busy-once":
        if (attempt === 1) return json(503, { detail: "busy" }, { "retry-after-ms": "0" });
        return json(200, { attempt });
      case "/v1/upload": {
        const type = req.headers["content-type"] ?? "";
        void parseMultipart(type, req).then((parts) => {
          if (attempt === 1) json(503, { detail: "busy" }, { "retry-after-ms": "0" });
          else json(200, { attempt, parts: parts.map((p) => ({ name: p.name, size: p.data?.length, value: p.value })) });
        });
        return;
      }
      default:
        return json(404, { detail: "Not Found" });
    }
  });
});

after(async () => {
  await server.close();
});

describe("upstream requests", () => {
  it("sends Authorization: Bearer only when a key is set, and extra_headers", async () => {
    seen.length = 0;
    await createUpstreamClient(target(server), toError).send({ method: "GET", path: "/ok" });
    await createUpstreamClient(target(server, { api_key: "xf-secret", extra_headers: { "X-Trace": "t1" } }), toError).send({
      method: "GET",
      path: "/ok",
    });
    assert.equal(seen[0]?.headers.authorization, undefined);
    assert.equal(seen[1]?.headers.authorization, "Bearer xf-secret");
    assert.equal(seen[1]?.headers["x-trace"], "t1");
  });

  it("times out an attempt that gets no answer, or a body that stops, with APITimeoutError", async () => {
    for (const path of ["/stall", "/stall-body"]) {
      const client = createUpstreamClient(target(server, { timeout: 0.2 }), toError);
      await assert.rejects(client.send({ method: "POST", path, json: {} }), (err: unknown) => {
        assert.ok(err instanceof APITimeoutError, String(err));
        assert.match(err.message, /within the timeout of 0\.2 s/);
        assert.equal(err.status, undefined);
        return true;
      });
    }
  });

  it("turns a reset connection or a truncated body into APIConnectionError", async () => {
    for (const path of ["/reset", "/truncate"]) {
      const client = createUpstreamClient(target(server), toError);
      await assert.rejects(client.send({ method: "GET", path }), (err: unknown) => {
        assert.ok(err instanceof APIConnectionError && !(err instanceof APITimeoutError), String(err));
        assert.equal(err.provider, "test");
        return true;
      });
    }
  });

  it("turns a refused connection into APIConnectionError naming where it tried", async () => {
    const closed = await tinyServer(() => undefined);
    await closed.close();
    const client = createUpstreamClient(resolveTarget(DEFAULTS, { api_base: closed.baseUrl, api_key: "xf-k", num_retries: 0 }), toError);
    await assert.rejects(client.send({ method: "GET", path: "/ok" }), (err: unknown) => {
      assert.ok(err instanceof APIConnectionError);
      assert.match(err.message, /Could not get a response from Test upstream at http:\/\/127\.0\.0\.1:\d+\/v1\/ok \(ECONNREFUSED\)/);
      return true;
    });
  });

  it("refuses a 2xx body that is not JSON as a bad gateway, hinting at api_base", async () => {
    const client = createUpstreamClient(target(server), toError);
    await assert.rejects(client.send({ method: "GET", path: "/html" }), (err: unknown) => {
      assert.ok(err instanceof BadGatewayError);
      assert.match(err.message, /not JSON .*check api_base/);
      return true;
    });
  });

  it("never lets the api key through in an error, even when the upstream echoes it", async () => {
    const client = createUpstreamClient(target(server, { api_key: "xf-topsecret-123" }), toError);
    const err = await client.send({ method: "GET", path: "/echo-auth" }).catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal(String(err).includes("xf-topsecret-123"), false);
    assert.equal(JSON.stringify(err).includes("xf-topsecret-123"), false);
    assert.match(err.message, /Bearer \*\*\*/);
  });

  it("rejects with the caller's reason when the signal aborts, before or during a request", async () => {
    seen.length = 0;
    const aborted = createUpstreamClient(target(server, { signal: AbortSignal.abort(new Error("never mind")) }), toError);
    await assert.rejects(aborted.send({ method: "GET", path: "/ok" }), { message: "never mind" });
    assert.equal(seen.length, 0, "nothing was sent");

    const controller = new AbortController();
    const stalled = createUpstreamClient(target(server, { signal: controller.signal }), toError).send({ method: "GET", path: "/stall" });
    await new Promise<void>((resolve) => {
      const wait = (): void => void (seen.length > 0 ? resolve() : setImmediate(wait));
      wait();
    });
    controller.abort(new Error("user cancelled"));
    await assert.rejects(stalled, { message: "user cancelled" });
  });

  it("retries with the upstream's retry-after-ms", async () => {
    attemptsByPath = new Map();
    const client = createUpstreamClient(target(server, { num_retries: 2 }), toError);
    assert.deepEqual(await client.send({ method: "GET", path: "/busy-once" }), { attempt: 2 });
  });

  it("sends a multipart upload again on retry when its files can be re-read", async () => {
    attemptsByPath = new Map();
    const file = fileSource(Buffer.alloc(1000, 1), "image");
    const body = encodeMultipart([
      { name: "prompt", value: "p" },
      { name: "images", file },
    ]);
    const client = createUpstreamClient(target(server, { num_retries: 2 }), toError);
    const result = await client.send({ method: "POST", path: "/upload", multipart: body }, [file]);
    assert.deepEqual(result, {
      attempt: 2,
      parts: [
        { name: "prompt", value: "p" },
        { name: "images", size: 1000 },
      ],
    });
  });

  it("does not retry after a one-shot stream was sent: it could not be sent again", async () => {
    attemptsByPath = new Map();
    const file = fileSource(Readable.from([Buffer.alloc(1000, 1)]), "image");
    const client = createUpstreamClient(target(server, { num_retries: 2 }), toError);
    await assert.rejects(
      client.send({ method: "POST", path: "/upload", multipart: encodeMultipart([{ name: "images", file }]) }, [file]),
      ServiceUnavailableError,
    );
    assert.equal(attemptsByPath.get("/v1/upload"), 1);
  });

  it("fails with a 400, not retried, when a file to upload cannot be read", async () => {
    attemptsByPath = new Map();
    const broken = new Readable({
      read() {
        this.destroy(new Error("EIO: disk on fire"));
      },
    });
    const file = fileSource({ data: broken, filename: "x.png" }, "image");
    const client = createUpstreamClient(target(server, { num_retries: 2 }), toError);
    await assert.rejects(
      client.send({ method: "POST", path: "/upload", multipart: encodeMultipart([{ name: "images", file }]) }, [file]),
      (err: unknown) => err instanceof BadRequestError && /Could not read a file to upload: EIO: disk on fire/.test(err.message),
    );
  });

  it("waits past undici's 300 s defaults: only the call's own timeout limits an attempt", async () => {
    // undici would cut a slow upstream at 300 s (headersTimeout/bodyTimeout); 0 disables both.
    // Waiting 300 s in a test is not an option, so this checks the settings the shared agent is built with.
    assert.equal(AGENT_OPTIONS.headersTimeout, 0);
    assert.equal(AGENT_OPTIONS.bodyTimeout, 0);
  });
});

describe("streamed upstream answers", () => {
  let streaming: TinyServer;
  let closedEarly = 0;
  before(async () => {
    streaming = await tinyServer((req, res) => {
      if (req.url === "/v1/chunks") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: 1\n\n");
        setImmediate(() => res.end("data: 2\n\n"));
        return;
      }
      if (req.url === "/v1/endless") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const timer = setInterval(() => res.write("data: more\n\n"), 5);
        res.on("close", () => {
          clearInterval(timer);
          closedEarly++;
        });
        return;
      }
      if (req.url === "/v1/break") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: 1\n\n", () => req.socket.resetAndDestroy());
        return;
      }
      res.writeHead(429, { "content-type": "application/json", "retry-after": "2" });
      res.end(JSON.stringify({ detail: "Rate limit reached for the model" }));
    });
  });
  after(async () => streaming.close());

  const streamTarget = (): ReturnType<typeof target> => target(streaming);

  it("resolves at the headers and hands over the body as it arrives", async () => {
    const answer = await openStream(streamTarget(), { method: "POST", path: "/chunks", json: {} }, toError, undefined);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "text/event-stream");
    const chunks: string[] = [];
    for await (const chunk of answer.body) chunks.push(String(chunk));
    assert.equal(chunks.join(""), "data: 1\n\ndata: 2\n\n");
  });

  it("rejects a non-2xx answer with the provider's error, marked as the upstream's", async () => {
    await assert.rejects(openStream(streamTarget(), { method: "POST", path: "/limited", json: {} }, toError, undefined), (err: unknown) => {
      assert.ok(err instanceof APIError);
      assert.equal(err.status, 429);
      assert.equal(err.origin, "upstream");
      assert.equal(err.retryAfterMs, 2000);
      return true;
    });
  });

  it("cancels the upstream request when the reader destroys the body", async () => {
    const before = closedEarly;
    const answer = await openStream(streamTarget(), { method: "POST", path: "/endless", json: {} }, toError, undefined);
    for await (const _chunk of answer.body) break; // leaving the loop destroys the stream
    await new Promise<void>((resolve) => {
      const check = (): void => (closedEarly > before ? resolve() : void setImmediate(check));
      check();
    });
    assert.equal(closedEarly, before + 1);
  });

  it("errors the body with an upstream connection error when the connection breaks mid-body", async () => {
    const answer = await openStream(streamTarget(), { method: "POST", path: "/break", json: {} }, toError, undefined);
    await assert.rejects(
      (async () => {
        for await (const _chunk of answer.body) void _chunk;
      })(),
      (err: unknown) => err instanceof APIConnectionError && err.origin === "upstream" && /broke before the whole response/.test(err.message),
    );
  });

  it("a deadline covers the whole body, and a body that cannot be serialised is the gateway's error", async () => {
    const client = createUpstreamClient(target(streaming, { timeout: 0.05 }), toError);
    const answer = await client.stream({ method: "POST", path: "/endless", json: {} });
    await assert.rejects(
      (async () => {
        for await (const _chunk of answer.body) void _chunk;
      })(),
      (err: unknown) => err instanceof APITimeoutError && /within the timeout of 0\.05 s/.test(err.message),
    );
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { nested: deep };
    await assert.rejects(createUpstreamClient(target(streaming), toError).send({ method: "POST", path: "/chunks", json: deep }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError, String(err));
      assert.equal(err.origin, "gateway");
      return true;
    });
  });
});
