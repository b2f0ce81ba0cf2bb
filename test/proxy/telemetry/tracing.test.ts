/**
 * Traces as a collector sees them: the proxy built on the emulator, exporting to a local OTLP receiver. Each
 * test closes its app before reading the spans: a graceful stop must export what is still batched.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { testApp, type TestApp } from "../../support/app.js";
import { startSilentServer } from "../../support/silent-server.js";
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, startOtlpReceiver, STATUS_ERROR } from "../../support/otlp-receiver.js";

const CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;
/** Nothing listens there: a deployment on it fails at once with connection_error. */
const DEAD = "http://127.0.0.1:9";

let emulator: Emulator;
let receiver: OtlpReceiver;
before(async () => {
  emulator = await startEmulator();
  receiver = await startOtlpReceiver();
});
after(async () => {
  await emulator?.close();
  await receiver?.close();
});

function tracedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, ...extra };
}

/** The spans of the request with this x-request-id's trace, once the app has stopped (and so exported). */
async function spansOfTrace(app: TestApp, traceId: string): Promise<{ request: ReceivedSpan; attempts: ReceivedSpan[] }> {
  await app.dispose();
  const spans = await receiver.spansWhere((all) => all.some((s) => s.traceId === traceId && s.kind === SPAN_KIND_SERVER));
  const ofTrace = spans.filter((s) => s.traceId === traceId);
  const request = ofTrace.find((s) => s.kind === SPAN_KIND_SERVER);
  assert.ok(request, "the request has a span");
  const attempts = ofTrace.filter((s) => s.kind === SPAN_KIND_CLIENT && s.parentSpanId === request.spanId).sort((a, b) => Number(a.attributes["xgate.attempt"]) - Number(b.attributes["xgate.attempt"]));
  return { request, attempts };
}

/** A fresh client trace id per test, so that tests never read each other's spans. */
function clientTrace(n: number): { traceId: string; traceparent: string } {
  const traceId = CLIENT_TRACE_ID.slice(0, -2) + String(n).padStart(2, "0");
  return { traceId, traceparent: `00-${traceId}-${CLIENT_SPAN_ID}-01` };
}

describe("traces of an embedding request", () => {
  test("the request joins the client's trace, its attempt is its child, and the upstream call is the attempt's child", async () => {
    const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
    model_info: { id: embed-1 }
general_settings: { master_key: sk-the-master-key-1234 }
`;
    const app = await testApp(config, {}, tracedEnv({
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20collector-token",
        OTEL_SERVICE_NAME: "gateway-eu",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=staging",
      }));
    emulator.clearRequests();
    const res = await app.app.inject({
      method: "POST",
      url: "/v1/embeddings?api_key=sk-in-the-query",
      headers: { authorization: "Bearer sk-the-master-key-1234", traceparent: TRACEPARENT, tracestate: "vendor=opaque" },
      payload: { model: "embed", input: "a private sentence about otters" },
    });
    assert.equal(res.statusCode, 200, res.body);
    const { request, attempts } = await spansOfTrace(app, CLIENT_TRACE_ID);

    assert.equal(request.parentSpanId, CLIENT_SPAN_ID);
    assert.equal(request.name, "embeddings embed");
    assert.deepEqual(
      {
        method: request.attributes["http.request.method"],
        route: request.attributes["http.route"],
        status: request.attributes["http.response.status_code"],
        operation: request.attributes["gen_ai.operation.name"],
        model: request.attributes["gen_ai.request.model"],
        responseModel: request.attributes["gen_ai.response.model"],
        group: request.attributes["xgate.model_group"],
        deployment: request.attributes["xgate.deployment"],
      },
      { method: "POST", route: "/v1/embeddings", status: 200, operation: "embeddings", model: "embed", responseModel: "bge-base-en", group: "embed", deployment: "embed-1" },
    );
    assert.ok(Number(request.attributes["gen_ai.usage.input_tokens"]) > 0);
    assert.equal(request.attributes["gen_ai.usage.output_tokens"], undefined, "embeddings have no output tokens");
    assert.equal(request.resource["service.name"], "gateway-eu");
    assert.equal(request.resource["deployment.environment"], "staging");

    assert.equal(attempts.length, 1);
    const [attempt] = attempts;
    assert.equal(attempt!.name, "embeddings bge-base-en");
    const upstream = new URL(emulator.baseUrl);
    assert.deepEqual(
      [attempt!.attributes["server.address"], attempt!.attributes["server.port"], attempt!.attributes["gen_ai.provider.name"], attempt!.attributes["xgate.deployment"]],
      [upstream.hostname, Number(upstream.port), "xinference", "embed-1"],
    );
    assert.equal(attempt!.attributes["gen_ai.usage.input_tokens"], request.attributes["gen_ai.usage.input_tokens"]);

    const seen = emulator.requests.find((r) => r.path === "/v1/embeddings");
    assert.equal(seen?.headers.traceparent, `00-${CLIENT_TRACE_ID}-${attempt!.spanId}-01`);
    assert.equal(seen?.headers.tracestate, "vendor=opaque");

    assert.equal(receiver.headers.at(-1)?.authorization, "Bearer collector-token");
    const exported = receiver.bodies.join("\n");
    for (const secret of ["a private sentence", "otters", "sk-the-master-key-1234", "sk-in-the-query", "api_key"]) {
      assert.ok(!exported.includes(secret), `the export holds no '${secret}'`);
    }
  });

  test("a client's own api_base and api_key: the attempt names the host and port alone", async () => {
    const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${DEAD}" }
general_settings: { allow_client_side_credentials: true }
`;
    const app = await testApp(config, {}, tracedEnv());
    const { traceId, traceparent } = clientTrace(1);
    const upstream = new URL(emulator.baseUrl);
    const apiBase = `http://client-user:client-password-9@${upstream.host}/v1`;
    await app.app.inject({
      method: "POST",
      url: "/v1/embeddings",
      headers: { traceparent },
      payload: { model: "embed", input: "hi", api_base: apiBase, api_key: "sk-client-own-key" },
    });
    const { attempts } = await spansOfTrace(app, traceId);
    assert.ok(attempts.length > 0);
    assert.deepEqual([attempts[0]!.attributes["server.address"], attempts[0]!.attributes["server.port"]], [upstream.hostname, Number(upstream.port)]);
    const exported = receiver.bodies.join("\n");
    for (const secret of ["client-user", "client-password-9", "sk-client-own-key"]) assert.ok(!exported.includes(secret), `the export holds no '${secret}'`);
  });

  test("a retry on the group's other deployment: two attempt spans, the failed one in error, and a retry event", async () => {
    const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${DEAD}", order: 1 }
    model_info: { id: embed-dead }
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}", order: 2 }
    model_info: { id: embed-live }
`;
    const app = await testApp(config, {}, tracedEnv());
    const { traceId, traceparent } = clientTrace(2);
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent }, payload: { model: "embed", input: "hi" } });
    assert.equal(res.statusCode, 200, res.body);
    const { request, attempts } = await spansOfTrace(app, traceId);
    assert.deepEqual(
      attempts.map((a) => [a.attributes["xgate.deployment"], a.attributes["xgate.attempt"], a.statusCode, a.attributes["error.type"]]),
      [
        ["embed-dead", 1, STATUS_ERROR, "connection_error"],
        ["embed-live", 2, 0, undefined],
      ],
    );
    assert.equal(attempts[0]!.attributes["server.port"], 9);
    assert.deepEqual(request.events, [{ name: "xgate.retry", attributes: { "xgate.attempt": 2, "xgate.deployment": "embed-live", "error.type": "connection_error" } }]);
    assert.equal(request.attributes["xgate.attempts"], 2);
    assert.equal(request.statusCode, 0);
  });

  test("a fallback to another group is an event naming both groups", async () => {
    const config = `
model_list:
  - model_name: broken
    litellm_params: { model: xinference/bge-base-en, api_base: "${DEAD}" }
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
router_settings: { num_retries: 0, fallbacks: [{ broken: [embed] }] }
`;
    const app = await testApp(config, {}, tracedEnv());
    const { traceId, traceparent } = clientTrace(3);
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent }, payload: { model: "broken", input: "hi" } });
    assert.equal(res.statusCode, 200, res.body);
    const { request, attempts } = await spansOfTrace(app, traceId);
    assert.deepEqual(
      request.events.map((e) => [e.name, e.attributes["xgate.fallback.from"], e.attributes["xgate.fallback.to"], e.attributes["error.type"]]),
      [["xgate.fallback", "broken", "embed", "connection_error"]],
    );
    assert.deepEqual(attempts.map((a) => a.attributes["xgate.model_group"]), ["broken", "embed"]);
    assert.equal(request.attributes["xgate.model_group"], "embed");
  });

  test("a failure: the request and its attempt in error, with the stable error code as error.type", async () => {
    const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
router_settings: { num_retries: 0 }
`;
    const app = await testApp(config, {}, tracedEnv());
    emulator.setFault("embeddings", { kind: "status", status: 500, body: { detail: "the engine is out of memory" }, times: 1 });
    const { traceId, traceparent } = clientTrace(4);
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent }, payload: { model: "embed", input: "hi" } });
    assert.ok(res.statusCode >= 500, res.body);
    const code = (res.json() as { error: { code: string } }).error.code;
    const { request, attempts } = await spansOfTrace(app, traceId);
    assert.equal(request.statusCode, STATUS_ERROR);
    assert.equal(request.attributes["error.type"], code);
    assert.equal(request.attributes["http.response.status_code"], res.statusCode);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]!.statusCode, STATUS_ERROR);
    assert.equal(attempts[0]!.attributes["http.response.status_code"], 500);
    assert.equal(typeof attempts[0]!.attributes["error.type"], "string");
    assert.ok(!receiver.bodies.join("\n").includes("out of memory"), "an error's message is not exported");
  });
});

describe("traces of a streamed chat", () => {
  test("the request and its attempt end with the stream, carrying its usage", async () => {
    const config = `
model_list:
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: "${emulator.baseUrl}" }
`;
    const app = await testApp(config, {}, tracedEnv());
    const { traceId, traceparent } = clientTrace(5);
    const res = await app.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { traceparent },
      payload: { model: "chat", messages: [{ role: "user", content: "tell me a secret about badgers" }], stream: true, stream_options: { include_usage: true } },
    });
    assert.equal(res.statusCode, 200, res.body);
    const events = res.body.split("\n").filter((line) => line.startsWith("data: ") && line !== "data: [DONE]");
    const usage = (JSON.parse(events.at(-1)!.slice("data: ".length)) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const { request, attempts } = await spansOfTrace(app, traceId);
    assert.equal(request.name, "chat chat");
    assert.equal(attempts.length, 1);
    const [attempt] = attempts;
    assert.equal(attempt!.name, "chat qwen2.5-instruct");
    // Tokens are known only once the stream has ended: a span ended with the headers could not carry them.
    for (const span of [request, attempt!]) {
      assert.equal(span.attributes["gen_ai.usage.output_tokens"], usage.completion_tokens);
      assert.equal(span.attributes["gen_ai.usage.input_tokens"], usage.prompt_tokens);
    }
    assert.ok(attempt!.endNs <= request.endNs, "the attempt ends within the request");
    assert.ok(!receiver.bodies.join("\n").includes("badgers"), "no prompt is exported");
    const reply = events.map((e) => (JSON.parse(e.slice("data: ".length)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "").join("");
    assert.ok(reply.length > 0 && !receiver.bodies.join("\n").includes(reply.trim().split(" ").slice(0, 4).join(" ")), "no output is exported");
  });
});

describe("spans of other routes", () => {
  test("a route without a model is named by its method and pattern; an unmatched path by its method alone", async () => {
    const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
`;
    const app = await testApp(config, {}, tracedEnv());
    const health = clientTrace(6);
    const missing = clientTrace(7);
    await app.app.inject({ method: "GET", url: "/health/liveliness", headers: { traceparent: health.traceparent } });
    const res = await app.app.inject({ method: "GET", url: "/v1/no/such/secret-path", headers: { traceparent: missing.traceparent } });
    assert.equal(res.statusCode, 404);
    await app.dispose();
    const spans = await receiver.spansWhere((all) => all.some((s) => s.traceId === missing.traceId));
    const healthSpan = spans.find((s) => s.traceId === health.traceId);
    assert.equal(healthSpan?.name, "GET /health/liveliness");
    assert.equal(healthSpan?.attributes["http.route"], "/health/liveliness");
    const missingSpan = spans.find((s) => s.traceId === missing.traceId);
    assert.equal(missingSpan?.name, "GET");
    assert.equal(missingSpan?.attributes["http.route"], undefined);
    assert.equal(missingSpan?.attributes["error.type"], "route_not_found");
    assert.equal(missingSpan?.statusCode, 0, "a 4xx leaves a server span's status unset");
    assert.ok(!receiver.bodies.join("\n").includes("secret-path"));
  });
});

describe("traces off", () => {
  const config = () => `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
`;

  test("by default: no span hook, no traceparent upstream, even when the client sent one", async () => {
    const app = await testApp(config(), {}, { OTEL_SERVICE_NAME: "not-enough" });
    try {
      assert.equal(app.settings.tracing, undefined);
      await app.app.ready();
      assert.doesNotMatch(app.app.printRoutes({ includeHooks: true }), /startRequestSpan/);
      emulator.clearRequests();
      const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent: TRACEPARENT }, payload: { model: "embed", input: "hi" } });
      assert.equal(res.statusCode, 200, res.body);
      const seen = emulator.requests.find((r) => r.path === "/v1/embeddings");
      assert.ok(seen !== undefined);
      assert.equal(seen.headers.traceparent, undefined);
    } finally {
      await app.dispose();
    }
  });

  test("general_settings.otel: false keeps them off though an endpoint is set: nothing is exported", async () => {
    const posts = receiver.bodies.length;
    const app = await testApp(`${config()}general_settings: { otel: false }\n`, {}, tracedEnv());
    assert.equal(app.settings.tracing, undefined);
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent: TRACEPARENT }, payload: { model: "embed", input: "hi" } });
    assert.equal(res.statusCode, 200, res.body);
    await app.dispose();
    assert.equal(receiver.bodies.length, posts);
  });

  test("OTEL_TRACES_SAMPLER=always_off: not even a client's sampled trace is exported", async () => {
    const posts = receiver.bodies.length;
    const app = await testApp(config(), {}, tracedEnv({ OTEL_TRACES_SAMPLER: "always_off" }));
    const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", headers: { traceparent: TRACEPARENT }, payload: { model: "embed", input: "hi" } });
    assert.equal(res.statusCode, 200, res.body);
    await app.dispose();
    assert.equal(receiver.bodies.length, posts);
  });

  test("on, the hook is there (so the check above can fail)", async () => {
    const app = await testApp(config(), {}, tracedEnv());
    try {
      await app.app.ready();
      assert.match(app.app.printRoutes({ includeHooks: true }), /startRequestSpan/);
    } finally {
      await app.dispose();
    }
  });
});

describe("a collector that never answers", () => {
  test("the stop still ends, having tried to export, and says the spans were dropped", async () => {
    const collector = await startSilentServer();
    try {
      const config = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}" }
`;
      const app = await testApp(config, {}, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url() });
      const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hi" } });
      assert.equal(res.statusCode, 200, res.body);
      await app.dispose();
      assert.ok(collector.connections > 0, "the stop tried to export");
      assert.ok(app.logLines().some((l) => l.level === 40 && /traces not exported .* were dropped/.test(String(l.msg))));
    } finally {
      await collector.close();
    }
  });
});
