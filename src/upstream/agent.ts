/**
 * The HTTP client shared by every call: one undici Agent, which keeps a keep-alive Pool per origin (so per
 * api_base host). undici's own 300 s header and body timeouts are switched off: an image generation can take
 * minutes, and each attempt is bounded by the call's `timeout` instead (see http.ts).
 */
import { Agent } from "undici";

/**
 * 0 disables undici's timeouts. keepAliveTimeout stays at undici's 4 s, below uvicorn's 5 s, so an idle socket
 * is never reused just as Xinference closes it.
 */
export const AGENT_OPTIONS = { headersTimeout: 0, bodyTimeout: 0 } as const;

let agent: Agent | undefined;

export function upstreamAgent(): Agent {
  agent ??= new Agent(AGENT_OPTIONS);
  return agent;
}
