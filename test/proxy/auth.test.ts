import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BadRequestError } from "../../src/errors.js";
import { rejectClientCredentials } from "../../src/proxy/auth/client-credentials.js";
import { keyDigest, keyFromHeaders, masterKeyMatch } from "../../src/proxy/auth/master-key.js";

describe("master key", () => {
  const isMaster = masterKeyMatch("sk-master-1234");

  test("is read from Authorization: Bearer, x-api-key, api-key and x-litellm-api-key", () => {
    assert.equal(keyFromHeaders({ authorization: "Bearer sk-a" }), "sk-a");
    assert.equal(keyFromHeaders({ authorization: "bearer  sk-a " }), "sk-a");
    assert.equal(keyFromHeaders({ "x-api-key": "sk-b" }), "sk-b");
    assert.equal(keyFromHeaders({ "api-key": "sk-c" }), "sk-c");
    assert.equal(keyFromHeaders({ "x-litellm-api-key": "sk-d" }), "sk-d");
    assert.equal(keyFromHeaders({}), undefined);
  });

  test("matches the master key's digest only, whatever the other value's length", () => {
    assert.equal(isMaster(keyDigest("sk-master-1234")), true);
    assert.equal(isMaster(keyDigest("sk-master-123")), false);
    assert.equal(isMaster(keyDigest("sk-master-1234-and-more")), false);
    assert.equal(isMaster(keyDigest("")), false);
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
