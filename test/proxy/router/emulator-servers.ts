// A ModelServerClient that talks to Xinference (the emulator) over HTTP, as the SDK's provider will:
// health tests run against real servers without depending on the SDK.
import type { LaunchRequest, ModelServerClient, ServedModel, ServerTarget } from "../../../src/proxy/router/model-servers.js";

function headers(target: ServerTarget): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(target.apiKey === undefined ? {} : { authorization: `Bearer ${target.apiKey}` }),
  };
}

async function detail(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as { detail?: unknown };
    return typeof parsed.detail === "string" ? parsed.detail : text;
  } catch {
    return text;
  }
}

export const xinferenceOverHttp: ModelServerClient = {
  name: "Xinference",
  uidOf(model) {
    const slash = model.indexOf("/");
    if (slash === -1 || model.slice(0, slash) !== "xinference") return undefined;
    const uid = model.slice(slash + 1);
    return uid.includes("*") ? undefined : uid;
  },
  async listModels(target, signal): Promise<readonly ServedModel[]> {
    const response = await fetch(`${target.apiBase}/models`, { headers: headers(target), signal });
    if (!response.ok) throw new Error(`GET /models answered ${response.status}: ${await detail(response)}`);
    return ((await response.json()) as { data: ServedModel[] }).data;
  },
  async launchModel(target, request: LaunchRequest, signal): Promise<void> {
    const response = await fetch(`${target.apiBase}/models`, {
      method: "POST",
      headers: headers(target),
      body: JSON.stringify(request),
      signal,
    });
    if (!response.ok) throw new Error(`POST /models answered ${response.status}: ${await detail(response)}`);
  },
};
