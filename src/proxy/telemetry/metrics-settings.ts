/**
 * What `GET /metrics` serves and to whom, resolved once from `general_settings`: whether it needs the master
 * key, and whether spend is labelled per virtual key.
 */
import type { GeneralSettings } from "../config/index.js";

export interface MetricsSettings {
  /** `metrics_public`: served without a key. */
  public: boolean;
  /** `metrics_key_labels`: spend carries a `key_alias` label (a series per key, so off by default). */
  keyLabels: boolean;
}

export function metricsSettingsFrom(general: GeneralSettings): MetricsSettings {
  return { public: general.metrics_public, keyLabels: general.metrics_key_labels };
}
