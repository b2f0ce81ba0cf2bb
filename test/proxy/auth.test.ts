import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthenticationError, BadRequestError } from "../../src/errors.js";
import { rejectClientCredentials } from "../../src/proxy/auth/client-credentials.js";
import { keyFromHeaders, masterKeyCheck } from "../../src/proxy/auth/master-key.js";

describe("master key", () => {
  const check = masterKeyCheck("sk-master-1234");

  test("is read from Authorization: Bearer, x-api-key, api-key and x-litellm-api-key", () => {
    assert.equal(keyFromHeaders({ authorization: "Bearer sk-a" }), "sk-a");
    assert.equal(keyFromHeaders({ authorization: "bearer  sk-a " }), "sk-a");
    assert.equal(keyFromHeaders({ "x-api-key": "sk-b" }), "sk-b");
    assert.equal(keyFromHeaders({ "api-key": "sk-c" }), "sk-c");
    assert.equal(keyFromHeaders({ "x-litellm-api-key": "sk-d" }), "sk-d");
    assert.equal(keyFromHeaders({}), undefined);
  });

  test("accepts the master key and refuses others without echoing them", () => {
    check.verify({ authorization: "Bearer sk-master-1234" });
    check.verify({ "x-api-key": "sk-master-1234" });
    assert.throws(
      () => check.verify({ authorization: "Bearer sk-wrong-secret" }),
      (err: unknown) => err instanceof AuthenticationError && err.code === "invalid_api_key" && !err.message.includes("sk-wrong-secret"),
    );
    assert.throws(
      () => check.verify({}),
      (err: unknown) => err instanceof AuthenticationError && err.code === "missing_api_key",
    );
  });

  test("without a master key everything passes (open mode)", () => {
    const open = masterKeyCheck(undefined);
    assert.equal(open.enabled, false);
    open.verify({});
  });
});

describe("client-side credentials", () => {
  const refused = (body: unknown, path: string) =>
    assert.throws(
      () => rejectClientCredentials(body),
      (err: unknown) =>
        err instanceof BadRequestError &&
        err.param === path &&
        err.message.includes("allow_client_side_credentials") &&
        !err.message.includes("http://evil"),
    );

  test("are refused at the top level and at any depth", () => {
    refused({ model: "m", api_base: "http://evil" }, "api_base");
    refused({ model: "m", extra_body: { base_url: "http://evil" } }, "extra_body.base_url");
    refused({ model: "m", metadata: { nested: [{ API_KEY: "x" }] } }, "metadata.nested[0].API_KEY");
  });

  test("ordinary bodies pass", () => {
    rejectClientCredentials({ model: "m", input: ["a", "b"], encoding_format: "base64", user: "u" });
  });
});
