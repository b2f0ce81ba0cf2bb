/**
 * Overview: requests, errors, latency and spend over the chosen range (GET /global/activity), the busiest
 * models (GET /global/activity/model) and the keys that spent most (GET /global/spend/keys), and whether the
 * deployments are ready (GET /health/readiness).
 */
import { type ReactNode, useState } from "react";
import { api } from "../api";
import { FilledArea, Lines, StackedBars } from "../components/Charts";
import { MeterBar } from "../components/MeterBar";
import { type RangeName, RangePicker, rangeQuery } from "../components/Range";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatCompact, formatCount, formatMoney, formatMs, formatPercent, keyLabel } from "../format";
import { Link } from "../router";
import type { Activity, KeySpend, ModelActivity, Readiness } from "../types";
import { useLoad } from "../useLoad";

interface OverviewData {
  activity: Activity;
  models: ModelActivity[];
  keys: KeySpend[];
  readiness: Readiness;
}

const READINESS_TONE: Record<Readiness["status"], string> = { healthy: "ok", degraded: "warn", unhealthy: "bad", starting: "warn" };

function Stat({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {sub && <div className="stat-sub">{sub}</div>}
    </div>
  );
}

function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card">
      <div className="card-header">
        <h2>{title}</h2>
      </div>
      {children}
    </section>
  );
}

export function Overview() {
  const [range, setRange] = useState<RangeName>("24h");
  const loaded = useLoad<OverviewData>(
    async (signal) => {
      const query = rangeQuery(range);
      const [activity, models, keys, readiness] = await Promise.all([
        api<Activity>("/global/activity", { query: { ...query }, signal }),
        api<ModelActivity[]>("/global/activity/model", { query: { ...query, limit: 5 }, signal }),
        api<KeySpend[]>("/global/spend/keys", { query: { start_date: query.start_date, end_date: query.end_date, limit: 5 }, signal }),
        api<Readiness>("/health/readiness", { signal }),
      ]);
      return { activity, models, keys, readiness };
    },
    [range],
  );

  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>Overview</h1>
          <p className="muted">Traffic through the proxy, from its spend log.</p>
        </div>
        <div className="toolbar">
          {loaded.data && (
            <Link to="/models" className={`badge ${READINESS_TONE[loaded.data.readiness.status]}`}>
              Deployments {loaded.data.readiness.status}
            </Link>
          )}
          <RangePicker value={range} onChange={setRange} />
        </div>
      </header>
      {loaded.error !== null && <ErrorNote error={loaded.error} onRetry={loaded.reload} />}
      {loaded.loading && !loaded.data && <Loading />}
      {loaded.data && <OverviewBody data={loaded.data} />}
    </section>
  );
}

function OverviewBody({ data }: { data: OverviewData }) {
  const { activity, models, keys } = data;
  const errorRate = activity.sum_api_requests === 0 ? 0 : activity.sum_failed_requests / activity.sum_api_requests;
  const worstP99 = Math.max(0, ...activity.daily_data.map((d) => d.latency_p99_ms ?? 0));
  const series = activity.daily_data.map((d) => ({ ...d, succeeded: d.api_requests - d.failed_requests, error_rate: d.api_requests === 0 ? null : d.failed_requests / d.api_requests }));
  const topModelRequests = Math.max(0, ...models.map((m) => m.sum_api_requests));
  const topKeySpend = Math.max(0, ...keys.map((k) => k.total_spend));
  return (
    <>
      <div className="grid stats">
        <Stat label="Requests" value={formatCount(activity.sum_api_requests)} sub={`${formatCompact(activity.sum_total_tokens)} tokens`} />
        <Stat label="Error rate" value={formatPercent(errorRate)} sub={`${formatCount(activity.sum_failed_requests)} failed`} />
        <Stat label="Latency p99" value={formatMs(worstP99 || null)} sub="slowest interval" />
        <Stat label="Spend" value={formatMoney(activity.sum_spend)} />
      </div>
      {activity.sum_api_requests === 0 ? (
        <div className="card">
          <Empty title="No requests in this range">
            Requests appear here once clients call the proxy; try a longer range, or <Link to="/keys">create a key</Link> to start.
          </Empty>
        </div>
      ) : (
        <div className="grid two">
          <ChartCard title="Requests">
            <StackedBars
              data={series}
              series={[
                { key: "succeeded", label: "Succeeded", color: "var(--chart-1)" },
                { key: "failed_requests", label: "Failed", color: "var(--bad)" },
              ]}
              format={formatCompact}
              label="Requests per interval, succeeded and failed"
            />
          </ChartCard>
          <ChartCard title="Latency">
            <Lines
              data={series}
              series={[
                { key: "latency_p50_ms", label: "p50", color: "var(--chart-2)" },
                { key: "latency_p99_ms", label: "p99", color: "var(--chart-3)" },
              ]}
              format={formatMs}
              label="Latency p50 and p99 per interval"
            />
          </ChartCard>
          <ChartCard title="Error rate">
            <FilledArea data={series} series={[{ key: "error_rate", label: "Error rate", color: "var(--bad)" }]} format={formatPercent} label="Share of failed requests per interval" />
          </ChartCard>
          <ChartCard title="Spend">
            <FilledArea data={series} series={[{ key: "spend", label: "Spend", color: "var(--chart-4)" }]} format={formatMoney} label="Spend per interval" />
          </ChartCard>
        </div>
      )}
      <div className="grid two">
        <section className="card">
          <div className="card-header">
            <h2>Top models</h2>
            <Link to="/models">All models</Link>
          </div>
          {models.length === 0 ? (
            <Empty title="No model was called in this range" />
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col" className="num">Requests</th>
                    <th scope="col" className="num">Errors</th>
                    <th scope="col" className="num">Spend</th>
                  </tr>
                </thead>
                <tbody>
                  {models.map((m) => (
                    <tr key={m.model}>
                      <td>
                        {m.model}
                        <MeterBar value={m.sum_api_requests} max={topModelRequests} label={`${m.model}: share of requests`} />
                      </td>
                      <td className="num">{formatCount(m.sum_api_requests)}</td>
                      <td className="num">{formatPercent(m.sum_api_requests === 0 ? 0 : m.sum_failed_requests / m.sum_api_requests)}</td>
                      <td className="num">{formatMoney(m.sum_spend)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section className="card">
          <div className="card-header">
            <h2>Top keys</h2>
            <Link to="/keys">All keys</Link>
          </div>
          {keys.length === 0 ? (
            <Empty title="No key spent in this range" />
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col" className="num">Requests</th>
                    <th scope="col" className="num">Spend</th>
                  </tr>
                </thead>
                <tbody>
                  {keys.map((k) => (
                    <tr key={k.api_key}>
                      <td>
                        {keyLabel(k)}
                        <MeterBar value={k.total_spend} max={topKeySpend} label={`${keyLabel(k)}: share of spend`} />
                      </td>
                      <td className="num">{formatCount(k.api_requests)}</td>
                      <td className="num">{formatMoney(k.total_spend)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
