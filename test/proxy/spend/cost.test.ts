// Pricing as LiteLLM reads it from model_info and litellm_params, every form a deployment can be priced by,
// and the check the config loader runs to report a bad price at its place in the file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkPricing, costOf, estimatedCost, parseImageSize, PricingError, pricingOf } from "../../../src/proxy/spend/cost.js";

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

test("a deployment without prices costs nothing, whatever it used", () => {
  const pricing = pricingOf({}, { model: "xinference/bge" });
  assert.deepEqual(pricing, {});
  assert.equal(costOf(pricing, { promptTokens: 1000, completionTokens: 500, images: { count: 4 }, queries: 1 }), 0);
});

test("tokens: prompt × input_cost_per_token + completion × output_cost_per_token", () => {
  const pricing = pricingOf({ input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }, undefined);
  close(costOf(pricing, { promptTokens: 1000, completionTokens: 250 }), 0.0015);
});

test("model_info wins over litellm_params price by price; litellm_params fills what model_info leaves out", () => {
  const pricing = pricingOf({ input_cost_per_token: 0.000003 }, { input_cost_per_token: 0.5, output_cost_per_token: 0.000004 });
  assert.deepEqual(pricing, { inputCostPerToken: 0.000003, outputCostPerToken: 0.000004 });
});

test("prices written as text (from os.environ/) are numbers", () => {
  assert.deepEqual(pricingOf(undefined, { input_cost_per_pixel: " 1.9e-8 " }), { inputCostPerPixel: 1.9e-8 });
});

test("images per image: output_cost_per_image × n, whatever their size", () => {
  const pricing = pricingOf({ output_cost_per_image: 0.04 }, undefined);
  close(costOf(pricing, { promptTokens: 0, completionTokens: 0, images: { count: 3, width: 512, height: 512 } }), 0.12);
});

test("images per pixel: input_cost_per_pixel × width × height × n, and it is chosen over a per-image price", () => {
  const pricing = pricingOf({ input_cost_per_pixel: 1e-8, output_cost_per_image: 5 }, undefined);
  close(costOf(pricing, { promptTokens: 0, completionTokens: 0, images: { count: 2, width: 512, height: 256 } }), 2 * 512 * 256 * 1e-8);
});

test("a per-pixel price with no size known charges LiteLLM's default 1024×1024", () => {
  const pricing = pricingOf({ input_cost_per_pixel: 1e-8 }, undefined);
  close(costOf(pricing, { promptTokens: 0, completionTokens: 0, images: { count: 1 } }), 1024 * 1024 * 1e-8);
});

test("sizes are read as 1024x1024 and as Xinference's 1024*1024; anything else is not a size", () => {
  assert.deepEqual(parseImageSize("1024x768"), { width: 1024, height: 768 });
  assert.deepEqual(parseImageSize("1024*1024"), { width: 1024, height: 1024 });
  assert.deepEqual(parseImageSize(" 512 X 512 "), { width: 512, height: 512 });
  assert.equal(parseImageSize("auto"), undefined);
  assert.equal(parseImageSize("1024"), undefined);
  assert.equal(parseImageSize(undefined), undefined);
});

test("rerank queries: input_cost_per_query per query", () => {
  close(costOf(pricingOf({ input_cost_per_query: 0.002 }, undefined), { promptTokens: 100, completionTokens: 0, queries: 1 }), 0.002);
});

test("tokens and images add up on one request", () => {
  const pricing = pricingOf({ input_cost_per_token: 0.00001, output_cost_per_image: 0.02 }, undefined);
  close(costOf(pricing, { promptTokens: 10, completionTokens: 0, images: { count: 2 } }), 0.0001 + 0.04);
});

test("negative or non-numeric usage counts charge nothing", () => {
  const pricing = pricingOf({ input_cost_per_token: 1, output_cost_per_image: 1 }, undefined);
  assert.equal(costOf(pricing, { promptTokens: -5, completionTokens: Number.NaN, images: { count: -1 } }), 0);
});

test("the estimate reserves the prompt and at most max_tokens of output; without max_tokens, the prompt alone", () => {
  const pricing = pricingOf({ input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }, undefined);
  close(estimatedCost(pricing, { promptTokens: 1000, maxCompletionTokens: 500 }), 0.002);
  close(estimatedCost(pricing, { promptTokens: 1000 }), 0.001);
  close(estimatedCost(pricingOf({ output_cost_per_image: 0.04 }, undefined), { promptTokens: 12, images: { count: 2 } }), 0.08);
});

test("checkPricing reports every bad price with its place, and says what a price must be", () => {
  const issues = checkPricing(
    { input_cost_per_token: -0.1, output_cost_per_image: "cheap" },
    { input_cost_per_pixel: Number.POSITIVE_INFINITY, output_cost_per_token: [1], input_cost_per_query: 0 },
  );
  assert.deepEqual(
    issues.map((issue) => issue.path),
    [
      ["model_info", "input_cost_per_token"],
      ["litellm_params", "output_cost_per_token"],
      ["model_info", "output_cost_per_image"],
      ["litellm_params", "input_cost_per_pixel"],
    ],
  );
  assert.equal(issues[0]?.message, "model_info.input_cost_per_token must be a price in USD: a number of at least 0, such as 0.0000002; got -0.1.");
  assert.match(issues[1]?.message ?? "", /got a list\.$/);
  assert.match(issues[2]?.message ?? "", /got "cheap"\.$/);
  assert.deepEqual(checkPricing({ input_cost_per_token: "0.000001" }, { output_cost_per_token: 0 }), []);
});

test("pricingOf refuses a bad price rather than charging it as 0", () => {
  assert.throws(() => pricingOf({ input_cost_per_token: "free" }, undefined), (error: unknown) => {
    assert.ok(error instanceof PricingError);
    assert.deepEqual(error.issue.path, ["model_info", "input_cost_per_token"]);
    return true;
  });
});
