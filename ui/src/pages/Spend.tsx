/**
 * Spend and logs: spend by day (GET /global/activity?interval=day), by key (GET /global/spend/keys), by model
 * (GET /global/spend/models) and by team (GET /global/spend/report?group_by=team), and the spend-log rows
 * (GET /spend/logs?summarize=false, paged by its x-xgate-total-count header) filtered by key, model and
 * request id, exported as CSV.
 */
import { type FormEvent, useState } from "react";
import { api, apiResponse } from "../api";
import { StackedBars } from "../components/Charts";
import { MeterBar } from "../components/MeterBar";
import { Icon } from "../components/Icon";
import { type RangeName, RangePicker, rangeQuery } from "../components/Range";
import { Empty, ErrorNote, Loading } from "../components/States";
import { download, toCsv } from "../csv";
import { formatCount, formatMoney, formatMs, formatTime, keyLabel } from "../format";
import type { Activity, KeyInfo, KeyList, KeySpend, SpendLogRow } from "../types";
import { useLoad } from "../useLoad";

const PAGE_SIZE = 50;
/** The most rows one export holds: /spend/logs answers at most 1000 a page. */
const EXPORT_ROWS = 1000;
const CSV_COLUMNS = ["request_id", "startTime", "endTime", "status", "call_type", "model", "model_group", "model_id", "api_key", "team_id", "user", "prompt_tokens", "completion_tokens", "total_tokens", "spend"];

interface TeamDay {
  group_by_day: string;
  teams: Array<{ team_name: string; total_spend: number }>;
}

interface Breakdown {
  label: string;
  spend: number;
  requests?: number;
}

function BreakdownCard({ title, rows, empty }: { title: string; rows: Breakdown[]; empty: string }) {
  const top = Math.max(0, ...rows.map((r) => r.spend));
  return (
    <section className="card">
      <div className="card-header">
        <h2>{title}</h2>
      </div>
      {rows.length === 0 ? (
        <Empty title={empty} />
      ) : (
        <div className="table-wrap">
          <table>
            <tbody>
              {rows.map((row) => (
                <tr key={row.label}>
                  <td>
                    {row.label}
                    <MeterBar value={row.spend} max={top} label={`${row.label}: share of spend`} />
                  </td>
                  <td className="num">{formatMoney(row.spend)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function teamTotals(days: TeamDay[]): Breakdown[] {
  const totals = new Map<string, number>();
  for (const day of days) for (const team of day.teams) totals.set(team.team_name, (totals.get(team.team_name) ?? 0) + team.total_spend);
  return [...totals].map(([label, spend]) => ({ label, spend })).sort((a, b) => b.spend - a.spend);
}

interface Filters {
  api_key: string;
  model: string;
  request_id: string;
}

export function Spend() {
  const [range, setRange] = useState<RangeName>("30d");
  const days = rangeQuery(range === "24h" ? "7d" : range);
  const summary = useLoad(
    async (signal) => {
      const dates = { start_date: days.start_date, end_date: days.end_date };
      const [activity, keys, models, teams] = await Promise.all([
        api<Activity>("/global/activity", { query: { ...dates, interval: "day" }, signal }),
        api<KeySpend[]>("/global/spend/keys", { query: { ...dates, limit: 10 }, signal }),
        api<Array<{ model: string; total_spend: number; api_requests: number }>>("/global/spend/models", { query: { ...dates, limit: 10 }, signal }),
        api<TeamDay[]>("/global/spend/report", { query: { ...dates, group_by: "team" }, signal }),
      ]);
      return { activity, keys, models, teams: teamTotals(teams) };
    },
    [days.start_date, days.end_date],
  );

  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>Spend and logs</h1>
          <p className="muted">What requests cost, by day, key, model and team; and every request&rsquo;s row.</p>
        </div>
        <RangePicker value={range} onChange={setRange} />
      </header>
      {summary.error !== null && <ErrorNote error={summary.error} onRetry={summary.reload} />}
      {summary.loading && !summary.data && <Loading />}
      {summary.data && (
        <>
          <section className="card">
            <div className="card-header">
              <h2>Spend by day</h2>
              <span className="muted">{formatMoney(summary.data.activity.sum_spend)} in total</span>
            </div>
            <StackedBars data={summary.data.activity.daily_data} series={[{ key: "spend", label: "Spend", color: "var(--chart-1)" }]} format={formatMoney} label="Spend per day" />
          </section>
          <div className="grid two">
            <BreakdownCard title="By key" rows={summary.data.keys.map((k) => ({ label: keyLabel(k), spend: k.total_spend }))} empty="No key spent in this range" />
            <BreakdownCard title="By model" rows={summary.data.models.map((m) => ({ label: m.model, spend: m.total_spend }))} empty="No model was called in this range" />
            <BreakdownCard title="By team" rows={summary.data.teams} empty="No team spent in this range" />
          </div>
        </>
      )}
      <Logs start={days.start_date} end={days.end_date} />
    </section>
  );
}

function Logs({ start, end }: { start: string; end: string }) {
  const [draft, setDraft] = useState<Filters>({ api_key: "", model: "", request_id: "" });
  const [filters, setFilters] = useState<Filters>(draft);
  const [page, setPage] = useState(1);
  const [exportError, setExportError] = useState<unknown>(null);
  const keys = useLoad((signal) => api<KeyList>("/key/list", { query: { return_full_object: true, size: 100 }, signal }), []);
  const query = (size: number, at: number) => ({
    summarize: false,
    start_date: start,
    end_date: end,
    page: at,
    size,
    api_key: filters.api_key || undefined,
    model: filters.model.trim() || undefined,
    request_id: filters.request_id.trim() || undefined,
  });
  const rows = useLoad(
    async (signal) => {
      const response = await apiResponse("/spend/logs", { query: query(PAGE_SIZE, page), signal });
      return { rows: (await response.json()) as SpendLogRow[], total: Number(response.headers.get("x-xgate-total-count") ?? 0) };
    },
    [start, end, filters, page],
  );
  const nameOf = (token: string): string => {
    if (token === "") return "master key";
    const key = keys.data?.keys.find((k: KeyInfo) => k.token === token);
    return key ? (key.key_alias ?? key.key_name ?? token.slice(0, 10)) : `${token.slice(0, 10)}…`;
  };
  const apply = (event: FormEvent): void => {
    event.preventDefault();
    setPage(1);
    setFilters(draft);
  };
  const exportCsv = async (): Promise<void> => {
    setExportError(null);
    try {
      const all = await api<SpendLogRow[]>("/spend/logs", { query: query(EXPORT_ROWS, 1) });
      download(`xgate-spend-logs-${start.slice(0, 10)}-to-${end.slice(0, 10)}.csv`, toCsv(CSV_COLUMNS, all as unknown as Array<Record<string, unknown>>));
    } catch (error) {
      setExportError(error);
    }
  };
  const pages = rows.data ? Math.max(1, Math.ceil(rows.data.total / PAGE_SIZE)) : 1;
  return (
    <section className="card" aria-labelledby="logs-title">
      <div className="card-header">
        <h2 id="logs-title">Request log</h2>
        <button type="button" className="button small" onClick={() => void exportCsv()} disabled={!rows.data || rows.data.total === 0}>
          <Icon name="download" size={14} /> Export CSV
        </button>
      </div>
      <form className="card-body toolbar" onSubmit={apply} aria-label="Filter the request log">
        <label className="field">
          <span>Key</span>
          <select value={draft.api_key} onChange={(e) => setDraft({ ...draft, api_key: e.target.value })}>
            <option value="">Every key</option>
            {(keys.data?.keys ?? []).map((k) => (
              <option key={k.token} value={k.token}>
                {k.key_alias ?? k.key_name ?? k.token.slice(0, 10)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Model</span>
          <input value={draft.model} onChange={(e) => setDraft({ ...draft, model: e.target.value })} placeholder="any model" />
        </label>
        <label className="field">
          <span>Request id</span>
          <input value={draft.request_id} onChange={(e) => setDraft({ ...draft, request_id: e.target.value })} placeholder="x-request-id" />
        </label>
        <button type="submit" className="button">
          <Icon name="search" size={14} /> Apply
        </button>
      </form>
      {exportError !== null && <ErrorNote error={exportError} />}
      {rows.error !== null && <ErrorNote error={rows.error} onRetry={rows.reload} />}
      {rows.loading && !rows.data && <Loading />}
      {rows.data &&
        (rows.data.rows.length === 0 ? (
          <Empty title="No requests match">Widen the range or clear the filters.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Status</th>
                    <th scope="col">Model</th>
                    <th scope="col">Key</th>
                    <th scope="col" className="num">Tokens</th>
                    <th scope="col" className="num">Latency</th>
                    <th scope="col" className="num">Spend</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.data.rows.map((row) => (
                    <tr key={row.request_id}>
                      <td>
                        {formatTime(row.startTime)}
                        <span className="cell-sub mono">{row.request_id}</span>
                      </td>
                      <td>
                        <span className={`badge ${row.status === "success" ? "ok" : "bad"}`}>{row.status}</span>
                      </td>
                      <td>
                        {row.model}
                        <span className="cell-sub">{row.call_type}</span>
                      </td>
                      <td>{nameOf(row.api_key)}</td>
                      <td className="num">{formatCount(row.total_tokens)}</td>
                      <td className="num">{formatMs(Date.parse(row.endTime) - Date.parse(row.startTime))}</td>
                      <td className="num">{formatMoney(row.spend)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="card-body toolbar">
              <span className="muted">
                {formatCount(rows.data.total)} requests · page {page} of {pages}
              </span>
              <button type="button" className="button small" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <button type="button" className="button small" disabled={page >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </div>
          </>
        ))}
    </section>
  );
}
