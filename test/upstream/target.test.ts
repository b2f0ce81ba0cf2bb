import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { BadRequestError } from "../../src/errors.js";
import { displayUrl, resolveTarget } from "../../src/upstream/target.js";

const DEFAULTS = {
  provider: "xinference",
  label: "Xinference",
  apiBaseEnv: "XGATE_TEST_API_BASE",
  apiKeyEnv: "XGATE_TEST_API_KEY",
  defaultApiBase: "http://127.0.0.1:9997/v1",
  exampleApiBase: "http://127.0.0.1:9997/v1",
};

/** A provider with no default server, as an OpenAI-compatible one. */
const NO_DEFAULT = { provider: "openai", label: "OpenAI-compatible server", exampleApiBase: "http://127.0.0.1:8000/v1" };

afterEach(() => {
  delete process.env.XGATE_TEST_API_BASE;
  delete process.env.XGATE_TEST_API_KEY;
});

describe("resolveTarget", () => {
  it("takes the call's api_base and api_key, then the environment, then the default base and no key", () => {
    assert.equal(resolveTarget(DEFAULTS, {}, process.env).apiBase, "http://127.0.0.1:9997/v1");
    assert.equal(resolveTarget(DEFAULTS, {}, process.env).apiKey, undefined);
    process.env.XGATE_TEST_API_BASE = "http://env-host:9997/v1/";
    process.env.XGATE_TEST_API_KEY = "xf-env";
    assert.equal(resolveTarget(DEFAULTS, {}, process.env).apiBase, "http://env-host:9997/v1");
    assert.equal(resolveTarget(DEFAULTS, {}, process.env).apiKey, "xf-env");
    const explicit = resolveTarget(DEFAULTS, { api_base: "https://call-host/v1", api_key: "xf-call" }, process.env);
    assert.equal(explicit.apiBase, "https://call-host/v1");
    assert.equal(explicit.apiKey, "xf-call");
  });

  it("treats undefined and empty values as not given (the proxy passes api_base: undefined)", () => {
    process.env.XGATE_TEST_API_BASE = "http://env-host:9997/v1";
    const target = resolveTarget(DEFAULTS, { api_base: undefined, api_key: "" }, process.env);
    assert.equal(target.apiBase, "http://env-host:9997/v1");
    assert.equal(target.apiKey, undefined);
    process.env.XGATE_TEST_API_KEY = "";
    assert.equal(resolveTarget(DEFAULTS, {}, process.env).apiKey, undefined);
  });

  it("defaults to 600 s per attempt and 2 retries; max_retries is an alias", () => {
    const target = resolveTarget(DEFAULTS, {}, process.env);
    assert.equal(target.timeoutMs, 600_000);
    assert.equal(target.numRetries, 2);
    assert.equal(resolveTarget(DEFAULTS, { timeout: 0.25, num_retries: 0 }, process.env).timeoutMs, 250);
    assert.equal(resolveTarget(DEFAULTS, { max_retries: 5 }, process.env).numRetries, 5);
    assert.equal(resolveTarget(DEFAULTS, {}, {}, 0).numRetries, 0);
  });

  it("rejects bad options with a 400 naming the option", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ api_base: "ftp://host/v1" }, "api_base"],
      [{ api_base: "not a url" }, "api_base"],
      [{ api_key: 42 }, "api_key"],
      [{ timeout: 0 }, "timeout"],
      [{ timeout: "10" }, "timeout"],
      [{ num_retries: -1 }, "num_retries"],
      [{ num_retries: 1.5 }, "num_retries"],
      [{ extra_headers: "x" }, "extra_headers"],
      [{ extra_headers: { "x-n": 1 } }, "extra_headers"],
      [{ signal: {} }, "signal"],
    ];
    for (const [options, param] of cases) {
      assert.throws(() => resolveTarget(DEFAULTS, options, process.env), (err: unknown) => err instanceof BadRequestError && err.param === param);
    }
  });
});

describe("resolveTarget for a provider without a default server", () => {
  it("needs the call's api_base, and reads no environment variable", () => {
    process.env.XGATE_TEST_API_BASE = "http://env-host:9997/v1";
    process.env.XGATE_TEST_API_KEY = "xf-env";
    assert.throws(
      () => resolveTarget(NO_DEFAULT, {}, process.env),
      (err: unknown) =>
        err instanceof BadRequestError &&
        err.param === "api_base" &&
        err.message === "api_base is required for openai/ models: the URL of the OpenAI-compatible server's API, e.g. http://127.0.0.1:8000/v1.",
    );
    const target = resolveTarget(NO_DEFAULT, { api_base: "http://vllm:8000/v1/" }, process.env);
    assert.equal(target.apiBase, "http://vllm:8000/v1");
    assert.equal(target.apiKey, undefined);
  });

  it("names the example, not a variable, when api_base is no URL", () => {
    assert.throws(
      () => resolveTarget(NO_DEFAULT, { api_base: "not a url" }, process.env),
      (err: unknown) => err instanceof BadRequestError && err.message === "api_base must be an http(s) URL such as http://127.0.0.1:8000/v1.",
    );
  });
});

describe("displayUrl", () => {
  it("leaves out user info, which may hold a password", () => {
    assert.equal(displayUrl("http://user:pw@host:9997/v1/embeddings"), "http://host:9997/v1/embeddings");
  });
});
