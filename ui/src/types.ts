/** The shapes of the proxy's answers the console reads (dates arrive as ISO 8601 text). */
export interface KeyInfo {
  token: string;
  key_name: string | null;
  key_alias: string | null;
  models: string[];
  max_budget: number | null;
  soft_budget: number | null;
  spend: number;
  budget_duration: string | null;
  budget_reset_at: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  expires: string | null;
  blocked: boolean;
  team_id: string | null;
  created_at: string;
}

export interface KeyList {
  keys: KeyInfo[];
  total_count: number;
  current_page: number;
  total_pages: number;
}

export interface TeamInfo {
  team_id: string;
  team_alias: string | null;
  models: string[];
  max_budget: number | null;
  spend: number;
  budget_duration: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
}

export interface ActivityBucket {
  date: string;
  api_requests: number;
  failed_requests: number;
  total_tokens: number;
  spend: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

export interface Activity {
  daily_data: ActivityBucket[];
  sum_api_requests: number;
  sum_total_tokens: number;
  sum_failed_requests: number;
  sum_spend: number;
}

export interface ModelActivity {
  model: string;
  sum_api_requests: number;
  sum_failed_requests: number;
  sum_total_tokens: number;
  sum_spend: number;
}

export interface KeySpend {
  api_key: string;
  key_alias: string | null;
  key_name: string | null;
  total_spend: number;
  api_requests: number;
}

export interface SpendLogRow {
  request_id: string;
  call_type: string;
  api_key: string;
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  model: string;
  model_group: string | null;
  model_id: string | null;
  user: string | null;
  team_id: string | null;
  status: "success" | "failure";
  startTime: string;
  endTime: string;
}

export interface DeploymentHealth {
  model_name: string;
  model: string;
  api_base?: string;
  deployment_id: string;
  healthy: boolean;
  error?: string;
  in_flight?: number;
  latency_ms?: number;
  cooldown_until?: string;
  model_type?: string;
  model_ability?: string[];
  launch_state?: "launched" | "not_launched" | "launching";
  last_checked_at?: string;
}

export interface HealthReport {
  healthy_endpoints: DeploymentHealth[];
  unhealthy_endpoints: DeploymentHealth[];
  healthy_count: number;
  unhealthy_count: number;
  checked_at: string | null;
}

export interface Readiness {
  status: "starting" | "healthy" | "degraded" | "unhealthy";
  checked: number;
  pending: number;
  db: string;
}

export interface ModelInfo {
  data: Array<{ model_name: string; litellm_params: { model: string; api_base?: string }; model_info: Record<string, unknown> & { id?: string; mode?: string } }>;
}
