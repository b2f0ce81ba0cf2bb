import type { EmbeddingAnswer, EmbeddingsRequest, StreamedEmbeddings } from "../../operations/index.js";
import { embeddingsAnswer } from "../../operations/index.js";
import { Readable } from "node:stream";
import { asObject, beforeEnd, type CacheStage, type OperationRoute, type RequestAccount } from "../pipeline/index.js";

/** An embedding call's usage: its input tokens (those of the inputs the cache did not answer). */
function embeddingUsage(tokens: number | undefined) {
  return { promptTokens: tokens ?? 0, completionTokens: 0 };
}

/** The answer's bytes, its account finished before the last of them. */
function accountedBody(result: EmbeddingAnswer, model: string, account: RequestAccount): Buffer | Readable {
  const body = result.body(model);
  if (!(body instanceof Readable)) {
    account.finish(embeddingUsage(result.tokens));
    return body;
  }
  // A streamed answer's tokens are known once its last chunk is in, which is before its end.
  let tokens = result.tokens;
  void result.done?.then((used) => (tokens = used), () => undefined);
  return beforeEnd(body, () => account.finish(embeddingUsage(tokens)));
}

/** `cache`: the embedding cache's stage, when the config turns the cache on. */
export function embeddingsRoute(
  cache: CacheStage<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer> | undefined,
): OperationRoute<EmbeddingsRequest, StreamedEmbeddings, EmbeddingAnswer> {
  return {
    urls: ["/v1/embeddings", "/embeddings"],
    operation: embeddingsAnswer,
    read: (request) => ({ fields: asObject(request.body, "POST /v1/embeddings") }),
    ...(cache !== undefined && { cache }),
    // Clients expect the model name they asked for, not the upstream uid. Written as bytes, not returned as
    // objects: serialising a batch's floats again was the largest cost of an embedding request.
    respond: (result, parsed, _request, reply, account) =>
      reply.type("application/json; charset=utf-8").send(accountedBody(result, parsed.model, account)),
  };
}
