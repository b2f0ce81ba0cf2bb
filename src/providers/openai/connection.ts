/**
 * Where an OpenAI-compatible server is: only where the call (or the deployment) says. There is no default
 * server, and no environment variable is read: OPENAI_API_KEY is usually a key for OpenAI's own API, and
 * sending it to whichever server an api_base names would hand it to that server.
 */
import type { ConnectionDefaults } from "../../upstream/target.js";

/** How messages name the upstream. */
export const LABEL = "OpenAI-compatible server";

/** What messages show as an api_base: vLLM's default port. */
export const EXAMPLE_API_BASE = "http://127.0.0.1:8000/v1";

export function connectionOf(provider: string): ConnectionDefaults {
  return { provider, label: LABEL, exampleApiBase: EXAMPLE_API_BASE };
}
