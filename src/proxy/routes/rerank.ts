import type { RerankCall } from "../../operations/index.js";
import { rerank } from "../../operations/index.js";
import type { RerankResponse } from "../../types.js";
import { asObject, type OperationRoute } from "../pipeline/index.js";

export const rerankRoute: OperationRoute<RerankCall, RerankResponse> = {
  urls: ["/v1/rerank", "/rerank", "/v2/rerank"],
  operation: rerank,
  read: (request) => ({ fields: asObject(request.body, "POST /v1/rerank") }),
  estimate: () => ({ queries: 1 }),
  respond: (result, _parsed, _request, _reply, account) => {
    // The tokens Xinference reports for a rerank (xgate asks for them) are what `input_cost_per_token` prices.
    const tokens = result.meta?.tokens;
    account.finish({
      promptTokens: tokens?.input_tokens ?? result.meta?.billed_units?.total_tokens ?? 0,
      completionTokens: tokens?.output_tokens ?? 0,
      queries: 1,
    });
    return result;
  },
};
