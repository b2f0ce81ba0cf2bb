import type { Dispatcher } from "./dispatch.js";
import type { ImageStore } from "./files/image-store.js";
import type { UploadLimits } from "./files/uploads.js";
import type { ModelResolver } from "./model-resolver.js";

/** What the routes need from the assembled proxy. */
export interface ProxyContext {
  dispatcher: Dispatcher;
  resolver: ModelResolver;
  images: ImageStore;
  /** `litellm_settings.drop_params`: drop unsupported parameters instead of failing. */
  dropParams: boolean;
  allowClientCredentials: boolean;
  /** Base of the hosted image URLs; without it, the URL is built from the request's Host. */
  publicBaseUrl: string | undefined;
  uploadLimits: UploadLimits;
}

/** What a request did, for its log line and response headers. */
export interface RequestTrace {
  model?: string;
  group?: string;
  deployment?: string;
  upstreamMs?: number;
}

declare module "fastify" {
  interface FastifyRequest {
    trace: RequestTrace | null;
  }
}
