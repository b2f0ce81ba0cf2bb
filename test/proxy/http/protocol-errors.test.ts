/**
 * Requests broken at the protocol level, sent as raw bytes to the built app on a real port: each is answered
 * in the OpenAI error shape with its own status and stable code, and the proxy goes on serving.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { BadRequestError } from "../../../src/errors.js";
import { type TestApp, testApp } from "../../support/app.js";
import { exchange, head, parseResponses, portOf, type RawResponse } from "./raw-http.js";

const KEY = "sk-protocol-test";
const AUTH = { Authorization: `Bearer ${KEY}` };
const CONFIG = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "http://127.0.0.1:9" }
general_settings:
  master_key: ${KEY}
  max_request_size_mb: 1
  request_header_timeout_seconds: 1
  request_body_timeout_seconds: 2
`;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** The one response, asserted to be an error in the OpenAI shape with this status and code. */
function assertError(responses: RawResponse[], status: number, code: string, type = "invalid_request_error"): ErrorBody["error"] {
  assert.equal(responses.length, 1, `one response, got ${JSON.stringify(responses)}`);
  const [response] = responses as [RawResponse];
  assert.equal(response.status, status, response.body);
  assert.match(response.headers["content-type"] ?? "", /^application\/json/);
  const body = JSON.parse(response.body) as ErrorBody;
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.code, code);
  assert.equal(body.error.type, type);
  assert.equal(body.error.param, null);
  assert.ok(body.error.message.length > 20, body.error.message);
  assert.ok(response.headers["x-request-id"], "the answer carries a request id");
  return body.error;
}

let app: TestApp;
let port: number;

before(async () => {
  app = await testApp(CONFIG);
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  port = portOf(app.app);
});
after(async () => app?.dispose());

/** The proxy still answers an ordinary request on a new connection. */
async function assertStillServing(): Promise<void> {
  const [models] = await exchange(port, head("GET /v1/models HTTP/1.1", AUTH));
  assert.equal(models?.status, 200, models?.body);
}

/** The log line with this request id. */
function logLine(requestId: string | undefined): Record<string, unknown> | undefined {
  return app.logLines().find((line) => line.request_id === requestId);
}

const JSON_HEAD = { ...AUTH, "Content-Type": "application/json" };

describe("protocol errors", () => {
  test("a chunked body that stops early is a 400 incomplete_request, logged with the request's id", async () => {
    const responses = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Transfer-Encoding": "chunked" }) + '5\r\n{"mod', {
      end: true,
    });
    const error = assertError(responses, 400, "incomplete_request");
    assert.match(error.message, /connection ended before the request was complete/);
    const line = logLine(responses[0]?.headers["x-request-id"]);
    assert.equal(line?.status, 400);
    assert.equal(line?.error_code, "incomplete_request");
    await assertStillServing();
  });

  test("Content-Length with Transfer-Encoding, or two Content-Lengths, is a 400 ambiguous_body_length", async () => {
    const both = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": 5, "Transfer-Encoding": "chunked" }) + "0\r\n\r\n");
    assert.match(assertError(both, 400, "ambiguous_body_length").message, /Content-Length.*Transfer-Encoding: chunked, never both/);
    const twice = await exchange(
      port,
      "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    );
    assert.match(assertError(twice, 400, "ambiguous_body_length").message, /Duplicate Content-Length/);
    const line = logLine(twice[0]?.headers["x-request-id"]);
    assert.equal(line?.error_code, "ambiguous_body_length");
    assert.equal(line?.cause, "HPE_UNEXPECTED_CONTENT_LENGTH");
    await assertStillServing();
  });

  test("a bad chunk size is a 400 malformed_chunked_body", async () => {
    const responses = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Transfer-Encoding": "chunked" }) + "zz\r\n{}\r\n0\r\n\r\n");
    assert.match(assertError(responses, 400, "malformed_chunked_body").message, /size in hex/);
    assert.equal(logLine(responses[0]?.headers["x-request-id"])?.error_code, "malformed_chunked_body");
    await assertStillServing();
  });

  test("headers that do not arrive in time are a 408 naming request_header_timeout_seconds", async () => {
    const responses = await exchange(port, "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const error = assertError(responses, 408, "request_timeout", "timeout_error");
    assert.match(error.message, /within 1 s \(general_settings\.request_header_timeout_seconds\)/);
    await assertStillServing();
  });

  test("a body that does not arrive in time is a 408 naming request_body_timeout_seconds", async () => {
    const responses = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": 100 }) + '{"model":');
    const error = assertError(responses, 408, "request_timeout", "timeout_error");
    assert.match(error.message, /within 2 s \(general_settings\.request_body_timeout_seconds\)/);
    const line = logLine(responses[0]?.headers["x-request-id"]);
    assert.equal(line?.status, 408, "the request's own log line says what it was answered");
    assert.equal(line?.route, "/v1/embeddings");
    await assertStillServing();
  });

  test("64 KB of headers is a 431 headers_too_large", async () => {
    const responses = await exchange(port, head("GET /v1/models HTTP/1.1", { ...AUTH, "X-Big": "a".repeat(64 * 1024) }));
    assert.match(assertError(responses, 431, "headers_too_large").message, /larger than 16 KB/);
    await assertStillServing();
  });

  test("an over-long hosted image name is a 414 uri_too_long", async () => {
    const responses = await exchange(port, head(`GET /v1/files/images/${"a".repeat(200)}.png HTTP/1.1`));
    assert.match(assertError(responses, 414, "uri_too_long").message, /longer than 100 characters/);
    const line = logLine(responses[0]?.headers["x-request-id"]);
    assert.equal(line?.status, 414);
    assert.equal(line?.error_code, "uri_too_long");
    await assertStillServing();
  });

  test("a bad percent-encoding is a 400 invalid_url", async () => {
    const responses = await exchange(port, head("GET /v1/files/images/%E0%A4%A HTTP/1.1"));
    assert.match(assertError(responses, 400, "invalid_url").message, /percent-encoding/);
    await assertStillServing();
  });

  test("an HTTP/1.1 request without Host is a 400 missing_host", async () => {
    const responses = await exchange(port, `GET /v1/models HTTP/1.1\r\nAuthorization: Bearer ${KEY}\r\nConnection: close\r\n\r\n`);
    assert.match(assertError(responses, 400, "missing_host").message, /Host header/);
    await assertStillServing();
  });

  test("an unsupported Expect is a 417 expectation_failed", async () => {
    const responses = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": 2, Expect: "200-ok" }) + "{}");
    assert.match(assertError(responses, 417, "expectation_failed").message, /Expect: 200-ok/);
    await assertStillServing();
  });

  test("Expect: 100-continue gets no 100 when the headers are refused, and a 100 before the body when they pass", async () => {
    const body = JSON.stringify({ model: "embed", input: [] });
    const refused = await exchange(
      port,
      head("POST /v1/embeddings HTTP/1.1", { "Content-Type": "application/json", "Content-Length": body.length, Expect: "100-continue" }),
    );
    assertError(refused, 401, "missing_api_key", "authentication_error");
    const accepted = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": body.length, Expect: "100-continue" }), {
      afterContinue: body,
    });
    assert.equal(accepted[0]?.status, 100);
    const answer = accepted.slice(1);
    assert.equal((JSON.parse(answer[0]?.body ?? "{}") as ErrorBody).error.param, "input", "the body was read after the 100");
    assert.equal(answer[0]?.status, 400);
  });

  test("Expect: 100-continue with a declared length over the limit gets the 413 instead of a 100: the body is never sent", async () => {
    const json = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": 2 * 1024 * 1024, Expect: "100-continue" }));
    assert.match(assertError(json, 413, "payload_too_large").message, /limit of 1 MB \(general_settings\.max_request_size_mb\)/);
    // A form may carry framing beyond its content's limit; one declaring far more than any form it could accept is refused.
    const formHead = { ...AUTH, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": 500 * 1024 * 1024, Expect: "100-continue" };
    const form = await exchange(port, head("POST /v1/images/edits HTTP/1.1", formHead));
    assert.match(assertError(form, 413, "payload_too_large").message, /form is larger than the proxy's limit of 1 MB/);
    await assertStillServing();
  });

  test("a request that is not HTTP is a 400 malformed_request", async () => {
    const responses = await exchange(port, "HELLO\r\n\r\n");
    assertError(responses, 400, "malformed_request");
    await assertStillServing();
  });

  test("a JSON body over the limit is a 413 giving the limit in MB and the setting", async () => {
    const responses = await exchange(port, head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, "Content-Length": 2 * 1024 * 1024 }));
    const error = assertError(responses, 413, "payload_too_large");
    assert.match(error.message, /limit of 1 MB \(general_settings\.max_request_size_mb\)/);
    await assertStillServing();
  });

});

/** A point a request waits at until the test lets it go. */
function gate(): { entered: Promise<void>; enter: () => void; release: () => void; released: Promise<void> } {
  let enter = (): void => undefined;
  let release = (): void => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { entered, enter, released, release };
}

describe("stopping", () => {
  test("a request that arrives while the proxy stops is a 503 shutting_down", async () => {
    const held = gate();
    const stopping = await testApp(CONFIG, {
      admit: [
        async () => {
          held.enter();
          await held.released;
          throw new BadRequestError("Released by the test.", { code: "released" });
        },
      ],
    });
    await stopping.app.listen({ port: 0, host: "127.0.0.1" });
    const body = JSON.stringify({ model: "embed", input: "x" });
    const request = (connection: string): string =>
      head("POST /v1/embeddings HTTP/1.1", { ...JSON_HEAD, Connection: connection, "Content-Length": body.length }) + body;
    // The first request is held in flight; the second, pipelined on its connection, arrives during the stop.
    const socket = connect(portOf(stopping.app), "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(request("keep-alive"));
    await held.entered;
    const closing = stopping.dispose();
    socket.write(request("close"));
    while (stopping.activeRequests() < 2) await new Promise((resolve) => setImmediate(resolve));
    held.release();
    await closed;
    await closing;
    const [first, late] = parseResponses(received);
    assert.equal(first?.status, 400);
    assert.ok(late !== undefined, received);
    assertError([late], 503, "shutting_down", "api_error");
  });
});
