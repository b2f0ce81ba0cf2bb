import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadRequestError } from "../../src/errors.js";
import { getProvider, listProviders, parseModelString } from "../../src/providers/index.js";

describe("provider registry", () => {
  it("splits model strings at the first '/'", () => {
    assert.deepEqual(parseModelString("xinference/bge-base-en"), { provider: "xinference", uid: "bge-base-en" });
    assert.deepEqual(parseModelString("xinference/stabilityai/stable-diffusion-3.5-large"), {
      provider: "xinference",
      uid: "stabilityai/stable-diffusion-3.5-large",
    });
    assert.deepEqual(parseModelString("xinference/*"), { provider: "xinference", uid: "*" });
  });

  it("refuses model strings without a provider or a uid, saying how to write one", () => {
    for (const model of ["bge-base-en", "/bge", "xinference/", "", 42]) {
      assert.throws(() => parseModelString(model), (err: unknown) => err instanceof BadRequestError && err.param === "model");
    }
    assert.throws(() => parseModelString("bge-base-en"), /write it as 'provider\/model-uid', e\.g\. 'xinference\/bge-base-en'/);
  });

  it("finds each provider, the OpenAI-compatible one under both its names, and lists them for an unknown one", () => {
    assert.deepEqual(listProviders(), ["xinference", "openai", "hosted_vllm"]);
    assert.equal(getProvider("xinference").name, "xinference");
    assert.equal(getProvider("openai").connection.defaultApiBase, undefined);
    assert.equal(getProvider("hosted_vllm").embedding, getProvider("openai").embedding, "one provider, two names");
    assert.throws(() => getProvider("azure"), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.message, "Unknown provider 'azure'. Supported providers: xinference, openai, hosted_vllm.");
      return true;
    });
  });
});
