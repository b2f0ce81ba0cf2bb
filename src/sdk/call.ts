/**
 * The SDK's side of every call: the provider from the model string, and the target from the call options
 * and the environment (read at call time, so XINFERENCE_API_BASE set after import still counts). Then the
 * operation itself, shared with the proxy: parse, run, release.
 */
import { BadRequestError } from "../errors.js";
import type { Operation, OperationTarget } from "../operations/index.js";
import { resolveModel } from "../providers/index.js";
import type { CallOptions } from "../types.js";
import { resolveTarget } from "../upstream/target.js";

/** What an SDK function takes: the call options, the model string, and the operation's own parameters. */
type CallParams = CallOptions & { model: unknown; readonly [param: string]: unknown };

/** The target of one SDK call. */
export function callTarget(params: CallParams): OperationTarget {
  const { provider, uid } = resolveModel(params.model);
  const dropParams: unknown = params.drop_params;
  if (dropParams !== undefined && dropParams !== null && typeof dropParams !== "boolean") {
    throw new BadRequestError("drop_params must be true or false.", { param: "drop_params" });
  }
  return { provider, uid, upstream: resolveTarget(provider.connection, params, process.env), params: {}, dropParams: dropParams === true };
}

/** Parses, resolves the target, runs, and releases what parsing took hold of. */
export async function callOperation<Request, Result>(
  operation: Operation<Request, Result>,
  params: CallParams,
): Promise<Result> {
  const request = operation.parse(params);
  try {
    return await operation.run(request, callTarget(params));
  } finally {
    operation.dispose?.(request);
  }
}
