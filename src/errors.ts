/**
 * The errors xgate raises, one class per HTTP status, shared by the SDK and the proxy.
 *
 * Every error carries `status` (undefined for connection-level failures), a stable string `code`
 * that callers can switch on, `message` (the upstream's own words kept where there were some), and
 * `provider`. The proxy serialises them as `{"error": {"message", "type", "param", "code"}}`.
 */

/**
 * Who raised an error: `upstream` for what a provider answered or how its connection failed, `gateway` for
 * xgate's own (a client's bad input, a limit, a bug). Only upstream errors say anything about a deployment's
 * health: the router retries and cools deployments down on them alone.
 */
export type ErrorOrigin = "upstream" | "gateway";

export interface APIErrorOptions {
  /** Stable machine-readable code; defaults to the class's own. */
  code?: string;
  provider?: string;
  /** The request parameter at fault, when there is one (never a secret's value). */
  param?: string | null;
  /** How long the upstream asked us to wait before retrying, in milliseconds. */
  retryAfterMs?: number;
  /** Default `gateway`. */
  origin?: ErrorOrigin;
  /**
   * The OpenAI error `type`, when it is not the status's own: LiteLLM has words of its own for some cases
   * (`throttling_error` for a rate limit it enforces), which clients coming from it may switch on.
   */
  type?: string;
  cause?: unknown;
}

/** The OpenAI error `type` for a status, as the official clients expect it. */
export function errorTypeForStatus(status: number | undefined): string {
  switch (status) {
    case 400:
    case 404:
    case 409:
    case 413:
    case 414:
    case 415:
    case 417:
    case 422:
    case 431:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 408:
      return "timeout_error";
    case 429:
      return "rate_limit_error";
    default:
      return "api_error";
  }
}

export class APIError extends Error {
  readonly status: number | undefined;
  readonly code: string;
  readonly provider: string | undefined;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;
  readonly origin: ErrorOrigin;
  private readonly ownType: string | undefined;

  constructor(status: number | undefined, message: string, options: APIErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = options.code ?? defaultCode(status);
    this.provider = options.provider;
    this.param = options.param ?? null;
    this.retryAfterMs = options.retryAfterMs;
    this.origin = options.origin ?? "gateway";
    this.ownType = options.type;
  }

  /** The OpenAI error `type`: the one it was given, else the one that goes with its status. */
  get type(): string {
    return this.ownType ?? errorTypeForStatus(this.status);
  }
}

export class BadRequestError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(400, message, { code: "invalid_request", ...options });
  }
}

/** A parameter the provider does not support; `drop_params: true` drops such parameters instead. */
export class UnsupportedParamsError extends BadRequestError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, { code: "unsupported_param", ...options });
  }
}

export class AuthenticationError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(401, message, { code: "invalid_api_key", ...options });
  }
}

export class PermissionDeniedError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(403, message, { code: "permission_denied", ...options });
  }
}

export class NotFoundError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(404, message, { code: "model_not_found", ...options });
  }
}

export class RequestTimeoutError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(408, message, { code: "request_timeout", ...options });
  }
}

export class UnprocessableEntityError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(422, message, { code: "unprocessable_entity", ...options });
  }
}

export class RateLimitError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(429, message, { code: "rate_limited", ...options });
  }
}

export class InternalServerError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(500, message, { code: "upstream_error", ...options });
  }
}

export class BadGatewayError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(502, message, { code: "bad_gateway", ...options });
  }
}

export class ServiceUnavailableError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(503, message, { code: "upstream_unavailable", ...options });
  }
}

/** The upstream could not be reached, or the connection broke before a whole response arrived. */
export class APIConnectionError extends APIError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(undefined, message, { code: "connection_error", ...options });
  }
}

/** The upstream did not answer within the timeout. */
export class APITimeoutError extends APIConnectionError {
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, { code: "upstream_timeout", ...options });
  }
}

function defaultCode(status: number | undefined): string {
  switch (status) {
    case undefined:
      return "connection_error";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    default:
      return status >= 500 ? "upstream_error" : "invalid_request";
  }
}

/**
 * The error class for an HTTP status. Statuses without a class of their own (409, 413, 415, other 5xx…)
 * become a plain APIError that keeps the status.
 */
export function errorFromStatus(status: number, message: string, options: APIErrorOptions = {}): APIError {
  switch (status) {
    case 400:
      return new BadRequestError(message, options);
    case 401:
      return new AuthenticationError(message, options);
    case 403:
      return new PermissionDeniedError(message, options);
    case 404:
      return new NotFoundError(message, options);
    case 408:
      return new RequestTimeoutError(message, options);
    case 422:
      return new UnprocessableEntityError(message, options);
    case 429:
      return new RateLimitError(message, options);
    case 500:
      return new InternalServerError(message, options);
    case 502:
      return new BadGatewayError(message, options);
    case 503:
      return new ServiceUnavailableError(message, options);
    default:
      return new APIError(status, message, options);
  }
}

/** Marks an error as the upstream's: the transport does this for whatever a provider's error mapper returns. */
export function fromUpstream<E extends APIError>(error: E): E {
  (error as { origin: ErrorOrigin }).origin = "upstream";
  return error;
}
