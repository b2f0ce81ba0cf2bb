/**
 * Whether the proxy exports traces, and where: resolved once from `general_settings.otel` and the standard
 * OpenTelemetry variables, so that nothing else reads them. Off unless an OTLP endpoint is set or `otel: true`
 * asks for the default one; `otel: false` (or OTEL_SDK_DISABLED=true) keeps it off whatever the environment.
 */
import type { Environment } from "../../upstream/target.js";
import { SettingsError } from "../settings.js";

export interface TracingSettings {
  /** The OTLP/HTTP traces URL spans are posted to (JSON). */
  url: string;
  /** Sent with every export: a collector's token, often. */
  headers: Readonly<Record<string, string>>;
  /** The resource's `service.name`: OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES's, else `xgate`. */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES: the resource's other attributes (`deployment.environment=prod`…). */
  resourceAttributes: Readonly<Record<string, string>>;
  sampler: SamplerSettings;
}

/**
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, as the specification names them. `parentBased`: a client's
 * `traceparent` decides, the root sampler only traces that start here. Default: parentbased_always_on.
 */
export interface SamplerSettings {
  root: "always_on" | "always_off" | "traceidratio";
  parentBased: boolean;
  /** For `traceidratio`: the share of traces kept, 0 to 1. */
  ratio: number;
}

const SAMPLERS: Readonly<Record<string, Omit<SamplerSettings, "ratio">>> = {
  always_on: { root: "always_on", parentBased: false },
  always_off: { root: "always_off", parentBased: false },
  traceidratio: { root: "traceidratio", parentBased: false },
  parentbased_always_on: { root: "always_on", parentBased: true },
  parentbased_always_off: { root: "always_off", parentBased: true },
  parentbased_traceidratio: { root: "traceidratio", parentBased: true },
};

/** The OTLP/HTTP default, as the specification gives it. */
const DEFAULT_ENDPOINT = "http://localhost:4318";
const TRACES_PATH = "/v1/traces";

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/** The URL, checked; its value is never quoted back, since it may carry credentials. */
function httpUrl(value: string, variable: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new SettingsError(`${variable} must be an http:// or https:// URL: the collector's OTLP/HTTP address, such as ${DEFAULT_ENDPOINT}.`);
  }
  return value;
}

/**
 * `name=value,name2=value2`, values percent-encoded, as the specification writes OTEL_EXPORTER_OTLP_HEADERS
 * and OTEL_RESOURCE_ATTRIBUTES; `example` is shown when it is not that.
 */
function parsePairs(value: string | undefined, variable: string, example: string, into: Record<string, string>, lowerCase: boolean): void {
  if (value === undefined) return;
  for (const entry of value.split(",")) {
    if (entry.trim() === "") continue;
    const equals = entry.indexOf("=");
    const raw = equals === -1 ? "" : entry.slice(0, equals).trim();
    const name = lowerCase ? raw.toLowerCase() : raw;
    let decoded: string | undefined;
    try {
      decoded = equals === -1 ? undefined : decodeURIComponent(entry.slice(equals + 1).trim());
    } catch {
      decoded = undefined;
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || decoded === undefined) {
      throw new SettingsError(`${variable} must be a list of name=value pairs separated by commas (values percent-encoded), such as ${example}.`);
    }
    into[name] = decoded;
  }
}

function samplerFrom(env: Environment): SamplerSettings {
  const name = nonEmpty(env.OTEL_TRACES_SAMPLER)?.toLowerCase() ?? "parentbased_always_on";
  const sampler = SAMPLERS[name];
  if (sampler === undefined) {
    throw new SettingsError(`OTEL_TRACES_SAMPLER must be one of ${Object.keys(SAMPLERS).join(", ")} (got '${name.slice(0, 40)}').`);
  }
  const arg = nonEmpty(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = sampler.root !== "traceidratio" || arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new SettingsError(`OTEL_TRACES_SAMPLER_ARG must be the share of traces to keep, a number from 0 to 1, such as 0.25 (got '${arg?.slice(0, 40)}').`);
  }
  return { ...sampler, ratio };
}

/**
 * @example
 * tracingSettingsFrom(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });
 * // → { url: "http://collector:4318/v1/traces", headers: {}, serviceName: "xgate", resourceAttributes: {},
// //   sampler: { root: "always_on", parentBased: true, ratio: 1 } }
 */
export function tracingSettingsFrom(otel: boolean | undefined, env: Environment): TracingSettings | undefined {
  if (otel === false || nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === "true") return undefined;
  const tracesEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const endpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (otel !== true && tracesEndpoint === undefined && endpoint === undefined) return undefined;
  // The signal's own endpoint is used as it is; the general one is a base the signal's path is added to.
  const url =
    tracesEndpoint !== undefined
      ? httpUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
      : `${httpUrl(endpoint ?? DEFAULT_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT").replace(/\/+$/, "")}${TRACES_PATH}`;
  const headers: Record<string, string> = {};
  const headerExample = "authorization=Bearer%20TOKEN,x-team=ml";
  parsePairs(nonEmpty(env.OTEL_EXPORTER_OTLP_HEADERS), "OTEL_EXPORTER_OTLP_HEADERS", headerExample, headers, true);
  parsePairs(nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS), "OTEL_EXPORTER_OTLP_TRACES_HEADERS", headerExample, headers, true);
  const resourceAttributes: Record<string, string> = {};
  parsePairs(nonEmpty(env.OTEL_RESOURCE_ATTRIBUTES), "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.namespace=ml", resourceAttributes, false);
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? resourceAttributes["service.name"] ?? "xgate";
  return { url, headers, serviceName, resourceAttributes, sampler: samplerFrom(env) };
}
