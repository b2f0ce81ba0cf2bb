/** Teams (GET /team/list): their spend against their budget and their keys; create and edit (POST /team/new|update), delete (POST /team/delete). */
import { type FormEvent, useState } from "react";
import { api } from "../api";
import { MeterBar } from "../components/MeterBar";
import { Confirm, Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatMoney } from "../format";
import type { TeamInfo } from "../types";
import { useLoad } from "../useLoad";

type TeamRow = TeamInfo & { keys: unknown[] };

function TeamForm({ initial, onSubmit, onCancel }: { initial?: TeamInfo; onSubmit: (body: Record<string, unknown>) => Promise<void>; onCancel: () => void }) {
  const [alias, setAlias] = useState(initial?.team_alias ?? "");
  const [budget, setBudget] = useState(initial?.max_budget?.toString() ?? "");
  const [period, setPeriod] = useState(initial?.budget_duration ?? "");
  const [rpm, setRpm] = useState(initial?.rpm_limit?.toString() ?? "");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    try {
      await onSubmit({
        team_alias: alias.trim() || null,
        max_budget: budget.trim() === "" ? null : Number(budget),
        budget_duration: period.trim() || null,
        rpm_limit: rpm.trim() === "" ? null : Number(rpm),
      });
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <div className="form-grid">
        <label className="field">
          <span>Name</span>
          <input value={alias} onChange={(e) => setAlias(e.target.value)} placeholder="Search" />
        </label>
        <label className="field">
          <span>Budget (USD)</span>
          <input type="number" min="0" step="any" value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="no budget" />
        </label>
        <label className="field">
          <span>Budget period</span>
          <input value={period} onChange={(e) => setPeriod(e.target.value)} placeholder="never resets (e.g. 30d)" />
        </label>
        <label className="field">
          <span>Requests per minute</span>
          <input type="number" min="0" step="1" value={rpm} onChange={(e) => setRpm(e.target.value)} placeholder="no limit" />
        </label>
      </div>
      {error !== null && <ErrorNote error={error} />}
      <div className="form-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary">
          {initial ? "Save" : "Create team"}
        </button>
      </div>
    </form>
  );
}

export function Teams() {
  const loaded = useLoad((signal) => api<TeamRow[]>("/team/list", { signal }), []);
  const [editing, setEditing] = useState<{ kind: "create" } | { kind: "edit" | "delete"; team: TeamInfo } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const done = (): void => {
    setEditing(null);
    loaded.reload();
  };
  const name = (team: TeamInfo): string => team.team_alias ?? team.team_id;
  return (
    <>
      <div className="toolbar">
        <button type="button" className="button primary" onClick={() => setEditing({ kind: "create" })}>
          <Icon name="plus" /> Create team
        </button>
      </div>
      {error !== null && <ErrorNote error={error} />}
      {loaded.error !== null && <ErrorNote error={loaded.error} onRetry={loaded.reload} />}
      {loaded.loading && !loaded.data && <Loading />}
      {loaded.data && (
        <section className="card" aria-label="Teams">
          {loaded.data.length === 0 ? (
            <Empty title="No teams yet">A team shares a budget and limits among its keys.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col" className="num">Keys</th>
                    <th scope="col">Spend</th>
                    <th scope="col" className="actions">
                      <span className="hide-narrow">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {loaded.data.map((team) => (
                    <tr key={team.team_id}>
                      <td>
                        {name(team)}
                        <span className="cell-sub mono">{team.team_id}</span>
                      </td>
                      <td className="num">{team.keys.length}</td>
                      <td>
                        {formatMoney(team.spend)}
                        {team.max_budget !== null ? (
                          <>
                            {" "}
                            <span className="muted">of {formatMoney(team.max_budget)}</span>
                            <MeterBar value={team.spend} max={team.max_budget} label={`${name(team)}: spend of budget`} />
                          </>
                        ) : (
                          <span className="cell-sub">no budget</span>
                        )}
                      </td>
                      <td className="actions">
                        <button type="button" className="button small ghost" aria-label={`Edit ${name(team)}`} onClick={() => setEditing({ kind: "edit", team })}>
                          Edit
                        </button>
                        <button type="button" className="button small ghost danger" aria-label={`Delete ${name(team)}`} onClick={() => setEditing({ kind: "delete", team })}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {editing?.kind === "create" && (
        <Dialog title="Create team" onClose={() => setEditing(null)}>
          <TeamForm
            onSubmit={async (body) => {
              await api("/team/new", { body: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) });
              done();
            }}
            onCancel={() => setEditing(null)}
          />
        </Dialog>
      )}
      {editing?.kind === "edit" && (
        <Dialog title={`Edit ${name(editing.team)}`} onClose={() => setEditing(null)}>
          <TeamForm
            initial={editing.team}
            onSubmit={async (body) => {
              await api("/team/update", { body: { team_id: editing.team.team_id, ...body } });
              done();
            }}
            onCancel={() => setEditing(null)}
          />
        </Dialog>
      )}
      {editing?.kind === "delete" && (
        <Confirm
          title={`Delete ${name(editing.team)}?`}
          message="The team and its keys are deleted: clients using them are refused from now on."
          action="Delete team"
          danger
          onConfirm={() => {
            const team = editing.team;
            setEditing(null);
            setError(null);
            api("/team/delete", { body: { team_ids: [team.team_id] } }).then(loaded.reload, setError);
          }}
          onClose={() => setEditing(null)}
        />
      )}
    </>
  );
}
