import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NotFoundError } from "../../src/errors.js";
import { ModelResolver } from "../../src/proxy/model-resolver.js";

const entries = [
  { model_name: "embed", litellm_params: { model: "xinference/bge-base-en" } },
  { model_name: "embed", litellm_params: { model: "xinference/bge-base-en" } },
  { model_name: "sd", litellm_params: { model: "xinference/stabilityai/stable-diffusion-3.5-large" } },
  { model_name: "xinference/*", litellm_params: { model: "xinference/*" } },
];

describe("ModelResolver", () => {
  const resolver = new ModelResolver(
    entries,
    new Map([
      ["text-embedding-3-small", { group: "embed", hidden: false }],
      ["legacy-embed", { group: "embed", hidden: true }],
    ]),
  );

  test("a model_name is its own group", () => {
    assert.deepEqual(resolver.resolve("embed"), { group: "embed" });
  });

  test("an alias resolves to its group", () => {
    assert.deepEqual(resolver.resolve("text-embedding-3-small"), { group: "embed" });
  });

  test("the underlying model, with or without its provider prefix, finds its group", () => {
    assert.deepEqual(resolver.resolve("stabilityai/stable-diffusion-3.5-large"), { group: "sd" });
    assert.deepEqual(resolver.resolve("xinference/stabilityai/stable-diffusion-3.5-large"), { group: "sd" });
  });

  test("a wildcard matches and says what the * stood for", () => {
    const resolution = resolver.resolve("xinference/jina-embeddings-v2-small-en");
    assert.deepEqual(resolution, { group: "xinference/*", wildcardMatch: "jina-embeddings-v2-small-en" });
  });

  test("an unknown model is a 404 that lists what exists", () => {
    const strict = new ModelResolver(entries.slice(0, 3));
    assert.throws(
      () => strict.resolve("gpt-4"),
      (err: unknown) =>
        err instanceof NotFoundError &&
        err.status === 404 &&
        err.code === "model_not_found" &&
        err.message.includes("'gpt-4'") &&
        err.message.includes("embed, sd"),
    );
  });

  test("/v1/models lists model names and aliases once each, not wildcards", () => {
    // A hidden alias is served but not listed.
    assert.deepEqual(resolver.publicNames(), ["embed", "sd", "text-embedding-3-small"]);
    assert.equal(resolver.resolve("legacy-embed").group, "embed");
  });
});
