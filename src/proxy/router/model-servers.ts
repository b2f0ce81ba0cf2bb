/**
 * What health checks need from a model server that lists and launches its models (Xinference): injected, so
 * that tests can use the emulator or fakes, and so that the router does not depend on any one provider.
 */

/** Where a deployment's server is; `apiBase` undefined means the provider's default base. */
export interface ServerTarget {
  apiBase: string | undefined;
  apiKey: string | undefined;
}

/** One entry of the server's model list (Xinference `GET /v1/models`). */
export interface ServedModel {
  id: string;
  model_type?: string;
  model_ability?: readonly string[];
}

/** `model_info.auto_launch`, with the uid to launch under: Xinference's `POST /v1/models` body. */
export interface LaunchRequest {
  model_uid: string;
  model_name: string;
  /** `embedding`, `image`, `rerank`…: required, since Xinference would otherwise assume an LLM. */
  model_type: string;
  readonly [option: string]: unknown;
}

export interface ModelServerClient {
  /** Names the kind of server in messages, e.g. "Xinference". */
  readonly name: string;
  /**
   * The model uid a deployment's `model` names on a server this client can list, or undefined when the model
   * belongs to another provider (or is a wildcard).
   */
  uidOf(model: string): string | undefined;
  /**
   * Whether a wildcard deployment's model (`xinference/*`) is served by servers this client can list: their
   * model lists then tell which models the wildcard reaches, and what each can do.
   */
  servesWildcard?(model: string): boolean;
  /** One request, without retries; `signal` bounds it. */
  listModels(target: ServerTarget, signal: AbortSignal): Promise<readonly ServedModel[]>;
  /** Launches the model and resolves once it is ready to serve. */
  launchModel(target: ServerTarget, request: LaunchRequest, signal: AbortSignal): Promise<void>;
}

/** The SDK's provider functions, as far as the health checks use them. */
export interface ProviderTarget {
  api_base?: string;
  api_key?: string;
  num_retries?: number;
  signal?: AbortSignal;
}

export interface ModelListingProvider {
  listModels?(target: ProviderTarget): Promise<readonly ServedModel[]>;
  launchModel?(target: ProviderTarget, spec: LaunchRequest): Promise<unknown>;
}

export interface ProviderRegistry {
  parseModelString(model: string): { provider: string; uid: string };
  getProvider(name: string): ModelListingProvider | undefined;
}

/**
 * Health checks never retry: a retry would wait out the Retry-After of a model still loading (30 s at
 * Xinference), and the next pass asks again anyway. The signal bounds the call.
 */
function providerTarget(target: ServerTarget, signal: AbortSignal): ProviderTarget {
  return {
    ...(target.apiBase === undefined ? {} : { api_base: target.apiBase }),
    ...(target.apiKey === undefined ? {} : { api_key: target.apiKey }),
    num_retries: 0,
    signal,
  };
}

/**
 * The client health checks use in production: the SDK's `xinference` provider (or another provider that can
 * list its models), reached through the SDK's registry.
 */
export function modelServerClient(registry: ProviderRegistry, providerName = "xinference", name = "Xinference"): ModelServerClient {
  const provider = (): ModelListingProvider => {
    const found = registry.getProvider(providerName);
    if (found === undefined) throw new Error(`provider '${providerName}' is not registered`);
    return found;
  };
  return {
    name,
    uidOf(model) {
      try {
        const parsed = registry.parseModelString(model);
        return parsed.provider === providerName && !parsed.uid.includes("*") ? parsed.uid : undefined;
      } catch {
        return undefined;
      }
    },
    servesWildcard(model) {
      try {
        const parsed = registry.parseModelString(model);
        return parsed.provider === providerName && parsed.uid.includes("*");
      } catch {
        return false;
      }
    },
    async listModels(target, signal) {
      const sdk = provider();
      if (sdk.listModels === undefined) throw new Error(`provider '${providerName}' cannot list its models`);
      return sdk.listModels(providerTarget(target, signal));
    },
    async launchModel(target, request, signal) {
      const sdk = provider();
      if (sdk.launchModel === undefined) throw new Error(`provider '${providerName}' cannot launch models`);
      await sdk.launchModel(providerTarget(target, signal), request);
    },
  };
}
