/**
 * What a request costs, priced as LiteLLM prices it from a deployment's `model_info` and `litellm_params`
 * (LiteLLM reads both; `model_info` wins, price by price):
 * - tokens × `input_cost_per_token` and `output_cost_per_token`;
 * - images by `input_cost_per_pixel` × width × height × n when that is set, else `output_cost_per_image` × n;
 *   a size unknown is LiteLLM's default, 1024×1024; sizes are read as `1024x1024` (OpenAI's way) and
 *   `1024*1024` (Xinference's, which LiteLLM misses and so prices at 0);
 * - rerank queries × `input_cost_per_query` (LiteLLM's search units: one per request).
 * A deployment without prices costs 0. Prices are checked once, at load (`checkPricing`), so that a bad one
 * is reported with its place in the file rather than charged as 0.
 */

/** A deployment's prices, in USD; a price not set charges nothing. */
export interface Pricing {
  inputCostPerToken?: number;
  outputCostPerToken?: number;
  outputCostPerImage?: number;
  inputCostPerPixel?: number;
  inputCostPerQuery?: number;
}

/** How each price is spelled in a config. */
export const PRICE_KEYS = {
  inputCostPerToken: "input_cost_per_token",
  outputCostPerToken: "output_cost_per_token",
  outputCostPerImage: "output_cost_per_image",
  inputCostPerPixel: "input_cost_per_pixel",
  inputCostPerQuery: "input_cost_per_query",
} as const satisfies Record<keyof Pricing, string>;

export interface ImageSize {
  width: number;
  height: number;
}

/** What LiteLLM assumes when a request names no size. */
export const DEFAULT_IMAGE_SIZE: ImageSize = { width: 1024, height: 1024 };

export interface ImageUsage {
  count: number;
  /** Without them, `DEFAULT_IMAGE_SIZE`. */
  width?: number;
  height?: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  images?: ImageUsage;
  /** Rerank queries (one a request). */
  queries?: number;
}

export interface UsageEstimate {
  promptTokens: number;
  /** The request's `max_tokens` (or `max_completion_tokens`); none: no output is reserved. */
  maxCompletionTokens?: number;
  images?: ImageUsage;
  queries?: number;
}

/** A bad price, with its place in the deployment: `["model_info", "input_cost_per_token"]`. */
export interface PriceIssue {
  path: [string, string];
  message: string;
}

type Section = "model_info" | "litellm_params";
type PriceSource = Readonly<Record<string, unknown>> | undefined;

export class PricingError extends Error {
  override readonly name = "PricingError";

  constructor(readonly issue: PriceIssue) {
    super(issue.message);
  }
}

/** The schema's own spelling of a number (values from `os.environ/` arrive as text). */
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const SIZE = /^\s*(\d+)\s*[x*]\s*(\d+)\s*$/i;

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "a map";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** A price as written: undefined when not set; an issue when it is not a number of at least 0. */
function readPrice(source: PriceSource, section: Section, key: string): { price: number | undefined } | { issue: PriceIssue } {
  const value = source?.[key];
  if (value === undefined || value === null) return { price: undefined };
  const price = typeof value === "string" && NUMERIC.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof price === "number" && Number.isFinite(price) && price >= 0) return { price };
  return {
    issue: {
      path: [section, key],
      message: `${section}.${key} must be a price in USD: a number of at least 0, such as 0.0000002; got ${describe(value)}.`,
    },
  };
}

function readPricing(modelInfo: PriceSource, litellmParams: PriceSource): { pricing: Pricing; issues: PriceIssue[] } {
  const pricing: Pricing = {};
  const issues: PriceIssue[] = [];
  for (const [field, key] of Object.entries(PRICE_KEYS) as [keyof Pricing, string][]) {
    let chosen: number | undefined;
    for (const [section, source] of [["model_info", modelInfo], ["litellm_params", litellmParams]] as const) {
      const read = readPrice(source, section, key);
      if ("issue" in read) issues.push(read.issue);
      else chosen ??= read.price;
    }
    if (chosen !== undefined) pricing[field] = chosen;
  }
  return { pricing, issues };
}

/** The deployment's bad prices, for the config loader to report (prefix the paths with the entry's). */
export function checkPricing(modelInfo: PriceSource, litellmParams: PriceSource): PriceIssue[] {
  return readPricing(modelInfo, litellmParams).issues;
}

/** The deployment's prices; throws PricingError for a bad one (`checkPricing` reports them all at load). */
export function pricingOf(modelInfo: PriceSource, litellmParams: PriceSource): Pricing {
  const { pricing, issues } = readPricing(modelInfo, litellmParams);
  if (issues[0] !== undefined) throw new PricingError(issues[0]);
  return pricing;
}

/** `1024x1024` or `1024*1024`; undefined for anything else (`auto`, none). */
export function parseImageSize(size: string | undefined): ImageSize | undefined {
  const match = size === undefined ? null : SIZE.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

/** A count as charged: negative or not a number is nothing. */
function counted(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}

function imageCost(pricing: Pricing, images: ImageUsage | undefined): number {
  const count = counted(images?.count);
  if (count === 0) return 0;
  if (pricing.inputCostPerPixel !== undefined) {
    const width = images?.width ?? DEFAULT_IMAGE_SIZE.width;
    const height = images?.height ?? DEFAULT_IMAGE_SIZE.height;
    return pricing.inputCostPerPixel * counted(width) * counted(height) * count;
  }
  return (pricing.outputCostPerImage ?? 0) * count;
}

/** What a request that used `usage` costs, in USD. */
export function costOf(pricing: Pricing, usage: Usage): number {
  return (
    (pricing.inputCostPerToken ?? 0) * counted(usage.promptTokens) +
    (pricing.outputCostPerToken ?? 0) * counted(usage.completionTokens) +
    imageCost(pricing, usage.images) +
    (pricing.inputCostPerQuery ?? 0) * counted(usage.queries)
  );
}

/** What a request is expected to cost before it is sent: its prompt, and at most its `max_tokens` of output. */
export function estimatedCost(pricing: Pricing, estimate: UsageEstimate): number {
  return costOf(pricing, {
    promptTokens: estimate.promptTokens,
    completionTokens: estimate.maxCompletionTokens ?? 0,
    ...(estimate.images && { images: estimate.images }),
    ...(estimate.queries !== undefined && { queries: estimate.queries }),
  });
}
