/**
 * Models: each model group and its deployments as the health checks found them (GET /health, or
 * GET /health?fresh=true on "Check now") — health, cooldown, what the Xinference server reports of the model
 * (its type and abilities, whether its uid is launched), requests in flight and recent latency.
 */
import { useState } from "react";
import { api } from "../api";
import { Icon } from "../components/Icon";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatMs, formatTime } from "../format";
import type { DeploymentHealth, HealthReport } from "../types";
import { useLoad } from "../useLoad";

const LAUNCH: Record<NonNullable<DeploymentHealth["launch_state"]>, { label: string; tone: string }> = {
  launched: { label: "launched", tone: "ok" },
  launching: { label: "launching", tone: "warn" },
  not_launched: { label: "not launched", tone: "bad" },
};

function HealthBadge({ deployment }: { deployment: DeploymentHealth }) {
  if (deployment.cooldown_until) return <span className="badge warn">cooling down</span>;
  return deployment.healthy ? <span className="badge ok">healthy</span> : <span className="badge bad">unhealthy</span>;
}

function groupsOf(report: HealthReport): Array<[string, DeploymentHealth[]]> {
  const groups = new Map<string, DeploymentHealth[]>();
  for (const d of [...report.unhealthy_endpoints, ...report.healthy_endpoints]) groups.set(d.model_name, [...(groups.get(d.model_name) ?? []), d]);
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

export function Models() {
  const [fresh, setFresh] = useState(0);
  const loaded = useLoad((signal) => api<HealthReport>("/health", { query: { fresh: fresh > 0 ? "true" : undefined }, signal }), [fresh]);
  const report = loaded.data;
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">{report ? `Checked ${formatTime(report.checked_at)} · ${report.healthy_count} healthy, ${report.unhealthy_count} unhealthy` : "Deployments and their health."}</p>
        </div>
        <button type="button" className="button" onClick={() => setFresh((n) => n + 1)} disabled={loaded.loading}>
          <Icon name="refresh" /> {loaded.loading && report ? "Checking…" : "Check now"}
        </button>
      </header>
      {loaded.error !== null && <ErrorNote error={loaded.error} onRetry={loaded.reload} />}
      {loaded.loading && !report && <Loading label="Checking the deployments…" />}
      {report && report.healthy_count + report.unhealthy_count === 0 && (
        <div className="card">
          <Empty title="No deployments">Add models to model_list in the proxy&rsquo;s config.yaml.</Empty>
        </div>
      )}
      {report &&
        groupsOf(report).map(([group, deployments]) => (
          <section className="card" key={group} aria-labelledby={`group-${group}`}>
            <div className="card-header">
              <h2 id={`group-${group}`}>{group}</h2>
              <span className="muted">
                {deployments.filter((d) => d.healthy).length} of {deployments.length} healthy
              </span>
            </div>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Deployment</th>
                    <th scope="col">Health</th>
                    <th scope="col">On its server</th>
                    <th scope="col">Abilities</th>
                    <th scope="col" className="num">In flight</th>
                    <th scope="col" className="num">Latency</th>
                  </tr>
                </thead>
                <tbody>
                  {deployments.map((d) => (
                    <tr key={d.deployment_id}>
                      <td>
                        <span className="mono">{d.deployment_id}</span>
                        <span className="cell-sub">
                          {d.model}
                          {d.api_base ? ` · ${d.api_base}` : ""}
                        </span>
                      </td>
                      <td>
                        <HealthBadge deployment={d} />
                        {d.cooldown_until && <span className="cell-sub">until {formatTime(d.cooldown_until)}</span>}
                        {d.error && <span className="cell-sub">{d.error}</span>}
                      </td>
                      <td>{d.launch_state ? <span className={`badge ${LAUNCH[d.launch_state].tone}`}>{LAUNCH[d.launch_state].label}</span> : <span className="muted">—</span>}</td>
                      <td>
                        <div className="badges">
                          {d.model_type && <span className="badge plain">{d.model_type}</span>}
                          {(d.model_ability ?? []).map((ability) => (
                            <span className="badge plain" key={ability}>
                              {ability}
                            </span>
                          ))}
                          {!d.model_type && !d.model_ability?.length && <span className="muted">—</span>}
                        </div>
                      </td>
                      <td className="num">{d.in_flight ?? 0}</td>
                      <td className="num">{formatMs(d.latency_ms)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))}
    </section>
  );
}
