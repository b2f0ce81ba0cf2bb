import type { RerankCall } from "../../operations/index.js";
import { rerank } from "../../operations/index.js";
import type { RerankResponse } from "../../types.js";
import { asObject, type OperationRoute } from "../pipeline/index.js";

export const rerankRoute: OperationRoute<RerankCall, RerankResponse> = {
  urls: ["/v1/rerank", "/rerank", "/v2/rerank"],
  operation: rerank,
  read: (request) => ({ fields: asObject(request.body, "POST /v1/rerank") }),
  respond: (result) => result,
};
