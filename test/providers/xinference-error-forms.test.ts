// Less common bodies, straight through the mapping: what a proxy or an older server may send.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APIError, InternalServerError, ServiceUnavailableError } from "../../src/errors.js";
import { xinferenceError } from "../../src/providers/xinference/errors.js";
import { CONNECTION } from "../../src/providers/xinference/models.js";
import type { UpstreamFailure } from "../../src/upstream/http.js";
import { resolveTarget } from "../../src/upstream/target.js";

function failure(status: number, body: string, contentType = "application/json", retryAfterMs?: number): UpstreamFailure {
  return {
    status,
    headers: { "content-type": contentType },
    body,
    method: "POST",
    url: "http://127.0.0.1:9997/v1/embeddings",
    retryAfterMs,
    target: resolveTarget(CONNECTION, { api_base: "http://127.0.0.1:9997/v1" }),
  };
}

describe("xinferenceError", () => {
  it("reads a detail that is an object, and OpenAI-style error bodies", () => {
    assert.equal(xinferenceError(failure(500, '{"detail": {"reason": "oom"}}')).message, '{"reason":"oom"}');
    assert.equal(xinferenceError(failure(500, '{"error": {"message": "upstream said no"}}')).message, "upstream said no");
    assert.equal(xinferenceError(failure(500, '{"message": "plain message"}')).message, "plain message");
  });

  it("reads a body labelled JSON that is not, as text", () => {
    const err = xinferenceError(failure(500, "{oops"));
    assert.ok(err instanceof InternalServerError);
    assert.equal(err.message, "{oops");
  });

  it("cuts a very long body", () => {
    const err = xinferenceError(failure(500, "x".repeat(5000), "text/plain"));
    assert.equal(err.message.length, 1001);
  });

  it("keeps statuses without a class of their own, and the wait the upstream asked for", () => {
    const err = xinferenceError(failure(504, '{"detail": "gateway timeout"}'));
    assert.equal(err.constructor, APIError);
    assert.equal(err.status, 504);
    const loading = xinferenceError(failure(503, '{"detail": "Model is loading"}', "application/json", 30_000));
    assert.ok(loading instanceof ServiceUnavailableError);
    assert.equal(loading.retryAfterMs, 30_000);
    assert.equal(loading.provider, "xinference");
  });
});
