/**
 * The console's one way to the proxy: the same HTTP API a script calls, with the signed-in master key (or a
 * key the caller names: the Playground calls /v1/* with a virtual key). A refusal in xgate's error shape,
 * `{"error": {"message", "type", "param", "code"}}`, is thrown as an `ApiError` that pages show as it is.
 *
 * @example
 * const keys = await api<KeyList>("/key/list", { query: { return_full_object: true } });
 * const reply = await apiResponse("/v1/chat/completions", { method: "POST", key: virtualKey, body });
 */
import { masterKey, signOut } from "./session";

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly type: string | null = null,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  /** Values left undefined or null are not sent. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON; a `FormData` is sent as it is (multipart). */
  body?: unknown;
  /** The key to send instead of the signed-in master key. */
  key?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

interface ErrorBody {
  error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown };
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : value == null ? null : String(value));

/** The thrown error for a response that was not 2xx: xgate's own words when it sent its error shape. */
export async function errorOf(response: Response): Promise<ApiError> {
  let parsed: ErrorBody | undefined;
  try {
    parsed = (await response.json()) as ErrorBody;
  } catch {
    parsed = undefined;
  }
  const error = parsed?.error;
  if (error && typeof error === "object" && typeof error.message === "string") {
    return new ApiError(response.status, error.message, text(error.type), text(error.code), text(error.param));
  }
  return new ApiError(response.status, `The proxy answered ${response.status} ${response.statusText || ""}`.trim());
}

export function urlOf(path: string, query: RequestOptions["query"] = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(name, String(value));
  const search = params.toString();
  return search === "" ? path : `${path}?${search}`;
}

/** The response of a 2xx call, its body unread (a stream, a CSV, a header the caller wants); else throws. */
export async function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const key = options.key ?? masterKey();
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(urlOf(path, options.query), { method: options.method ?? (body === undefined ? "GET" : "POST"), headers, body, signal: options.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "The proxy could not be reached: check that it is running and that this page's address is the proxy's.");
  }
  if (!response.ok) {
    const error = await errorOf(response);
    // The master key no longer works (changed in the config, say): back to the sign-in form.
    if (error.status === 401 && options.key === undefined) signOut("The master key was refused: sign in again with the proxy's current master key.");
    throw error;
  }
  return response;
}

/** A call answered with JSON: its parsed body. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiResponse(path, options);
  return (await response.json()) as T;
}
