/** When traces are on and where they go: `general_settings.otel` and the standard OpenTelemetry variables. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../../../src/proxy/config/index.js";
import { resolveSettings, SettingsError } from "../../../src/proxy/settings.js";
import { tracingSettingsFrom } from "../../../src/proxy/telemetry/tracing-settings.js";
import { failure } from "../config/helpers.js";

const MINIMAL = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n";

describe("tracing settings", () => {
  test("off without an endpoint or otel: true, whatever else is set", () => {
    assert.equal(tracingSettingsFrom(undefined, {}), undefined);
    assert.equal(tracingSettingsFrom(undefined, { OTEL_SERVICE_NAME: "gw", OTEL_EXPORTER_OTLP_HEADERS: "a=b" }), undefined);
    assert.equal(resolveSettings(parseConfig(MINIMAL, "config.yaml", {}).config, {}).tracing, undefined);
  });

  test("OTEL_EXPORTER_OTLP_ENDPOINT turns them on, the traces path added to it; the service is xgate", () => {
    assert.deepEqual(tracingSettingsFrom(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }), {
      url: "http://collector:4318/v1/traces",
      headers: {},
      serviceName: "xgate",
      resourceAttributes: {},
      // A client's sampling decision stands; xgate traces every trace it starts.
      sampler: { root: "always_on", parentBased: true, ratio: 1 },
    });
  });

  test("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is, before the general endpoint", () => {
    const settings = tracingSettingsFrom(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/otlp/spans" });
    assert.equal(settings?.url, "https://b/otlp/spans");
  });

  test("otel: true without an endpoint exports to the OTLP default", () => {
    assert.equal(tracingSettingsFrom(true, {})?.url, "http://localhost:4318/v1/traces");
    const config = parseConfig(`${MINIMAL}general_settings:\n  otel: true\n`, "config.yaml", {}).config;
    assert.equal(resolveSettings(config, {}).tracing?.url, "http://localhost:4318/v1/traces");
  });

  test("otel: false and OTEL_SDK_DISABLED keep them off though an endpoint is set", () => {
    assert.equal(tracingSettingsFrom(false, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), undefined);
    assert.equal(tracingSettingsFrom(true, { OTEL_SDK_DISABLED: "true" }), undefined);
  });

  test("headers: the general ones, then the traces' own; values percent-decoded; the service name from OTEL_SERVICE_NAME", () => {
    const settings = tracingSettingsFrom(true, {
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abc, x-team=ml",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=search",
      OTEL_SERVICE_NAME: "gateway-eu",
    });
    assert.deepEqual(settings?.headers, { authorization: "Bearer abc", "x-team": "search" });
    assert.equal(settings?.serviceName, "gateway-eu");
  });

  test("OTEL_RESOURCE_ATTRIBUTES adds to the resource, names kept as written; OTEL_SERVICE_NAME wins over its service.name", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,service.name=gw,Team=ML%20search" };
    const settings = tracingSettingsFrom(undefined, env);
    assert.deepEqual(settings?.resourceAttributes, { "deployment.environment": "prod", "service.name": "gw", Team: "ML search" });
    assert.equal(settings?.serviceName, "gw");
    assert.equal(tracingSettingsFrom(undefined, { ...env, OTEL_SERVICE_NAME: "gateway-eu" })?.serviceName, "gateway-eu");
  });

  test("OTEL_TRACES_SAMPLER and its ratio, as the specification names them; anything else is refused with the choices", () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    assert.deepEqual(tracingSettingsFrom(undefined, { ...on, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })?.sampler, {
      root: "traceidratio",
      parentBased: false,
      ratio: 0.25,
    });
    assert.deepEqual(tracingSettingsFrom(undefined, { ...on, OTEL_TRACES_SAMPLER: "parentbased_always_off" })?.sampler, {
      root: "always_off",
      parentBased: true,
      ratio: 1,
    });
    assert.throws(
      () => tracingSettingsFrom(undefined, { ...on, OTEL_TRACES_SAMPLER: "sometimes" }),
      (error: unknown) => error instanceof SettingsError && /OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on/.test(error.message),
    );
    assert.throws(
      () => tracingSettingsFrom(undefined, { ...on, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "25%" }),
      (error: unknown) => error instanceof SettingsError && /OTEL_TRACES_SAMPLER_ARG must be the share of traces to keep, a number from 0 to 1/.test(error.message),
    );
  });

  test("a bad endpoint or header list is refused, naming the variable and not quoting its value", () => {
    assert.throws(
      () => tracingSettingsFrom(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "collector-with-token-s3cr3t:4318" }),
      (error: unknown) => error instanceof SettingsError && /OTEL_EXPORTER_OTLP_ENDPOINT must be an http/.test(error.message) && !error.message.includes("s3cr3t"),
    );
    assert.throws(
      () => tracingSettingsFrom(true, { OTEL_EXPORTER_OTLP_HEADERS: "authorization" }),
      (error: unknown) => error instanceof SettingsError && /OTEL_EXPORTER_OTLP_HEADERS must be a list of name=value pairs/.test(error.message),
    );
  });
});

describe("general_settings.otel in config.yaml", () => {
  test("anything but true or false is an error that says what the key does", () => {
    for (const value of ['"yes"', "yes", "1", "[true]"]) {
      const error = failure(`${MINIMAL}general_settings:\n  otel: ${value}\n`);
      assert.match(error.message, /general_settings\.otel must be true or false: true sends OpenTelemetry traces/, value);
    }
  });

  test("true or false from os.environ/ loads", () => {
    const { config } = parseConfig(`${MINIMAL}general_settings:\n  otel: os.environ/TRACES_ON\n`, "config.yaml", { TRACES_ON: "true" });
    assert.equal(config.general_settings.otel, true);
  });

  test("a misspelt or misplaced otel is a warning naming the right key", () => {
    const misspelt = parseConfig(`${MINIMAL}general_settings:\n  otle: true\n`, "config.yaml", {});
    assert.match(misspelt.warnings.join("\n"), /general_settings\.otle .*did you mean otel\?/);
    const misplaced = parseConfig(`${MINIMAL}litellm_settings:\n  otel: true\n`, "config.yaml", {});
    assert.match(misplaced.warnings.join("\n"), /litellm_settings\.otel .*did you mean general_settings\.otel\?/);
  });
});
