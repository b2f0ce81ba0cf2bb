/** Under each result: the error in the API's own words, the latency, and where the call went and what it cost. */
import { ErrorNote } from "../components/States";
import { formatMs } from "../format";
import type { CallState } from "./call";

export function CallFacts({ state }: { state: CallState }) {
  const { error, report } = state;
  return (
    <>
      {error !== null && <ErrorNote error={error} />}
      {report && (
        <dl className="pg-facts" aria-label="Call details">
          {report.status !== null && (
            <div>
              <dt>Status</dt>
              <dd>{report.status}</dd>
            </div>
          )}
          <div>
            <dt>Latency</dt>
            <dd data-testid="latency">{formatMs(report.latencyMs)}</dd>
          </div>
          {report.firstTokenMs !== undefined && (
            <div>
              <dt>First token</dt>
              <dd>{formatMs(report.firstTokenMs)}</dd>
            </div>
          )}
          {report.facts.map((fact) => (
            <div key={fact.label}>
              <dt>{fact.label}</dt>
              <dd className={fact.label === "Deployment" ? "mono" : undefined}>{fact.value}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}
