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
  /** The resource's `service.name`. */
  serviceName: string;
}

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

/** `name=value,name2=value2`, values percent-encoded, as the specification writes OTEL_EXPORTER_OTLP_HEADERS. */
function parseHeaders(value: string | undefined, variable: string, into: Record<string, string>): void {
  if (value === undefined) return;
  for (const entry of value.split(",")) {
    if (entry.trim() === "") continue;
    const equals = entry.indexOf("=");
    const name = equals === -1 ? "" : entry.slice(0, equals).trim().toLowerCase();
    let decoded: string | undefined;
    try {
      decoded = equals === -1 ? undefined : decodeURIComponent(entry.slice(equals + 1).trim());
    } catch {
      decoded = undefined;
    }
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || decoded === undefined) {
      throw new SettingsError(`${variable} must be a list of name=value pairs separated by commas (values percent-encoded), such as authorization=Bearer%20TOKEN,x-team=ml.`);
    }
    into[name] = decoded;
  }
}

/**
 * @example
 * tracingSettingsFrom(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });
 * // → { url: "http://collector:4318/v1/traces", headers: {}, serviceName: "xgate" }
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
  parseHeaders(nonEmpty(env.OTEL_EXPORTER_OTLP_HEADERS), "OTEL_EXPORTER_OTLP_HEADERS", headers);
  parseHeaders(nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS), "OTEL_EXPORTER_OTLP_TRACES_HEADERS", headers);
  return { url, headers, serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? "xgate" };
}
