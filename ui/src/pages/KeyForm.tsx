/** The form for a key's settings, on create (POST /key/generate) and edit (POST /key/update). */
import { type FormEvent, useState } from "react";
import { ErrorNote } from "../components/States";
import type { KeyInfo, TeamInfo } from "../types";

export interface KeySettings {
  key_alias: string | null;
  team_id: string | null;
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
}

const numberOrNull = (text: string): number | null => (text.trim() === "" ? null : Number(text));
const textOrNull = (text: string): string | null => (text.trim() === "" ? null : text.trim());
const shown = (value: number | null | undefined): string => (value === null || value === undefined ? "" : String(value));

export function KeyForm({
  initial,
  teams,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial?: KeyInfo;
  teams: readonly TeamInfo[];
  submitLabel: string;
  onSubmit: (settings: KeySettings & { duration: string | null }) => Promise<void>;
  onCancel: () => void;
}) {
  const [alias, setAlias] = useState(initial?.key_alias ?? "");
  const [team, setTeam] = useState(initial?.team_id ?? "");
  const [models, setModels] = useState((initial?.models ?? []).join(", "));
  const [budget, setBudget] = useState(shown(initial?.max_budget));
  const [period, setPeriod] = useState(initial?.budget_duration ?? "");
  const [rpm, setRpm] = useState(shown(initial?.rpm_limit));
  const [tpm, setTpm] = useState(shown(initial?.tpm_limit));
  const [parallel, setParallel] = useState(shown(initial?.max_parallel_requests));
  const [duration, setDuration] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit({
        key_alias: textOrNull(alias),
        team_id: textOrNull(team),
        models: models.split(",").map((m) => m.trim()).filter((m) => m !== ""),
        max_budget: numberOrNull(budget),
        budget_duration: textOrNull(period),
        rpm_limit: numberOrNull(rpm),
        tpm_limit: numberOrNull(tpm),
        max_parallel_requests: numberOrNull(parallel),
        duration: textOrNull(duration),
      });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      <div className="form-grid">
        <label className="field">
          <span>Alias</span>
          <input value={alias} onChange={(e) => setAlias(e.target.value)} placeholder="search-app" />
        </label>
        <label className="field">
          <span>Team</span>
          <select value={team} onChange={(e) => setTeam(e.target.value)}>
            <option value="">No team</option>
            {teams.map((t) => (
              <option key={t.team_id} value={t.team_id}>
                {t.team_alias ?? t.team_id}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Models</span>
          <input value={models} onChange={(e) => setModels(e.target.value)} placeholder="all models" aria-describedby="models-hint" />
          <span className="field-hint" id="models-hint">
            Comma-separated; empty allows every model
          </span>
        </label>
        <label className="field">
          <span>Budget (USD)</span>
          <input type="number" min="0" step="any" inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="no budget" />
        </label>
        <label className="field">
          <span>Budget period</span>
          <input value={period} onChange={(e) => setPeriod(e.target.value)} placeholder="never resets (e.g. 30d)" />
        </label>
        <label className="field">
          <span>Requests per minute</span>
          <input type="number" min="0" step="1" value={rpm} onChange={(e) => setRpm(e.target.value)} placeholder="no limit" />
        </label>
        <label className="field">
          <span>Tokens per minute</span>
          <input type="number" min="0" step="1" value={tpm} onChange={(e) => setTpm(e.target.value)} placeholder="no limit" />
        </label>
        <label className="field">
          <span>Requests at once</span>
          <input type="number" min="0" step="1" value={parallel} onChange={(e) => setParallel(e.target.value)} placeholder="no limit" />
        </label>
        <label className="field">
          <span>{initial ? "Expires in (from now)" : "Expires in"}</span>
          <input value={duration} onChange={(e) => setDuration(e.target.value)} placeholder={initial?.expires ? "unchanged" : "never (e.g. 90d)"} />
        </label>
      </div>
      {error !== null && <ErrorNote error={error} />}
      <div className="form-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
