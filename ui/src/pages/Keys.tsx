/**
 * Keys and teams: the keys (GET /key/list?return_full_object=true) with their spend against their budget,
 * searched by the proxy over every key (alias, name or team); create (POST /key/generate — the new key shown
 * once), edit limits and budgets (POST /key/update), block and unblock (POST /key/block|unblock), regenerate
 * (POST /key/regenerate) and delete (POST /key/delete). Teams (GET /team/list): create, edit budgets
 * (POST /team/new|update), delete.
 */
import { useState } from "react";
import { api } from "../api";
import { MeterBar } from "../components/MeterBar";
import { Confirm, Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { SecretOnce } from "../components/SecretOnce";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatMoney, formatTime } from "../format";
import type { KeyInfo, KeyList, TeamInfo } from "../types";
import { useDebounced } from "../useDebounced";
import { useLoad } from "../useLoad";
import { KeyForm, type KeySettings } from "./KeyForm";
import { Teams } from "./Teams";

/** Keys shown at once: the rest are found by searching. */
const PAGE_SIZE = 100;
const SEARCH_DELAY_MS = 250;

type Editing = { kind: "create" } | { kind: "edit"; key: KeyInfo } | { kind: "confirm"; key: KeyInfo; action: "regenerate" | "delete" } | null;

function keyName(key: KeyInfo): string {
  return key.key_alias ?? key.key_name ?? key.token.slice(0, 10);
}

function status(key: KeyInfo, now: number): { label: string; tone: string } {
  if (key.blocked) return { label: "blocked", tone: "bad" };
  if (key.expires && Date.parse(key.expires) <= now) return { label: "expired", tone: "warn" };
  return { label: "active", tone: "ok" };
}

function BudgetCell({ spend, budget, name }: { spend: number; budget: number | null; name: string }) {
  if (budget === null) {
    return (
      <>
        {formatMoney(spend)}
        <span className="cell-sub">no budget</span>
      </>
    );
  }
  const share = budget === 0 ? 1 : spend / budget;
  return (
    <>
      {formatMoney(spend)} <span className="muted">of {formatMoney(budget)}</span>
      <MeterBar value={spend} max={budget} label={`${name}: spend of budget`} tone={share >= 1 ? "bad" : share >= 0.8 ? "warn" : undefined} />
    </>
  );
}

function limitsOf(key: KeyInfo): string {
  const parts = [key.rpm_limit !== null && `${key.rpm_limit} rpm`, key.tpm_limit !== null && `${key.tpm_limit} tpm`, key.max_parallel_requests !== null && `${key.max_parallel_requests} at once`];
  const shown = parts.filter((p): p is string => typeof p === "string");
  return shown.length === 0 ? "no limits" : shown.join(" · ");
}

export function Keys() {
  const [tab, setTab] = useState<"keys" | "teams">("keys");
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>Keys and teams</h1>
          <p className="muted">Virtual keys, their limits and budgets, and the teams they belong to.</p>
        </div>
      </header>
      <div className="tabs" role="tablist" aria-label="Keys and teams">
        <button type="button" role="tab" className="tab" id="tab-keys" aria-selected={tab === "keys"} aria-controls="panel-keys" onClick={() => setTab("keys")}>
          Keys
        </button>
        <button type="button" role="tab" className="tab" id="tab-teams" aria-selected={tab === "teams"} aria-controls="panel-teams" onClick={() => setTab("teams")}>
          Teams
        </button>
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="page">
        {tab === "keys" ? <KeysPanel /> : <Teams />}
      </div>
    </section>
  );
}

function KeysPanel() {
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState<Editing>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  // The proxy searches every key (not only the page shown), a moment after the typing stops.
  const needle = useDebounced(search.trim(), SEARCH_DELAY_MS);
  const loaded = useLoad(
    async (signal) => {
      const [keys, teams] = await Promise.all([
        api<KeyList>("/key/list", { query: { return_full_object: true, size: PAGE_SIZE, ...(needle !== "" && { search: needle }) }, signal }),
        api<TeamInfo[]>("/team/list", { signal }),
      ]);
      return { keys: keys.keys, total: keys.total_count, teams };
    },
    [needle],
  );
  const teams = loaded.data?.teams ?? [];
  const teamName = (id: string | null): string => (id === null ? "—" : (teams.find((t) => t.team_id === id)?.team_alias ?? id));
  const shown = loaded.data?.keys ?? [];

  const act = async (run: () => Promise<unknown>): Promise<void> => {
    setActionError(null);
    try {
      await run();
      loaded.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  const create = async (settings: KeySettings & { duration: string | null }): Promise<void> => {
    const body = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)));
    const created = await api<{ key: string }>("/key/generate", { body });
    setEditing(null);
    setNewKey(created.key);
    loaded.reload();
  };

  const update = (key: KeyInfo) => async (settings: KeySettings & { duration: string | null }): Promise<void> => {
    const { duration, ...rest } = settings;
    await api("/key/update", { body: { key: key.token, ...rest, ...(duration !== null && { duration }) } });
    setEditing(null);
    loaded.reload();
  };

  const confirmed = async (key: KeyInfo, action: "regenerate" | "delete"): Promise<void> => {
    setEditing(null);
    if (action === "delete") await act(() => api("/key/delete", { body: { keys: [key.token] } }));
    else
      await act(async () => {
        const regenerated = await api<{ key: string }>("/key/regenerate", { body: { key: key.token } });
        setNewKey(regenerated.key);
      });
  };

  const now = Date.now();
  return (
    <>
      <div className="toolbar">
        <label className="field">
          <span>Search keys</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="alias, name or team" />
        </label>
        <button type="button" className="button primary" onClick={() => setEditing({ kind: "create" })}>
          <Icon name="plus" /> Create key
        </button>
      </div>
      {newKey !== null && <SecretOnce value={newKey} onDone={() => setNewKey(null)} />}
      {actionError !== null && <ErrorNote error={actionError} />}
      {loaded.error !== null && <ErrorNote error={loaded.error} onRetry={loaded.reload} />}
      {loaded.loading && !loaded.data && <Loading />}
      {loaded.data && (
        <section className="card" aria-label="Keys">
          {shown.length === 0 ? (
            search === "" ? (
              <Empty title="No keys yet">Create a key for each app or person that calls the proxy.</Empty>
            ) : (
              <Empty title={`No key matches “${needle}”`} />
            )
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Status</th>
                    <th scope="col">Team</th>
                    <th scope="col">Spend</th>
                    <th scope="col">Limits</th>
                    <th scope="col" className="actions">
                      <span className="hide-narrow">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((key) => {
                    const state = status(key, now);
                    const name = keyName(key);
                    return (
                      <tr key={key.token}>
                        <td>
                          {name}
                          <span className="cell-sub mono">
                            {key.key_name}
                            {key.models.length > 0 ? ` · ${key.models.join(", ")}` : ""}
                          </span>
                        </td>
                        <td>
                          <span className={`badge ${state.tone}`}>{state.label}</span>
                          {key.expires && <span className="cell-sub">expires {formatTime(key.expires)}</span>}
                        </td>
                        <td>{teamName(key.team_id)}</td>
                        <td>
                          <BudgetCell spend={key.spend} budget={key.max_budget} name={name} />
                        </td>
                        <td className="muted">{limitsOf(key)}</td>
                        <td className="actions">
                          <button type="button" className="button small ghost" aria-label={`Edit ${name}`} onClick={() => setEditing({ kind: "edit", key })}>
                            Edit
                          </button>
                          <button
                            type="button"
                            className="button small ghost"
                            aria-label={`${key.blocked ? "Unblock" : "Block"} ${name}`}
                            onClick={() => void act(() => api(key.blocked ? "/key/unblock" : "/key/block", { body: { key: key.token } }))}
                          >
                            {key.blocked ? "Unblock" : "Block"}
                          </button>
                          <button type="button" className="button small ghost" aria-label={`Regenerate ${name}`} onClick={() => setEditing({ kind: "confirm", key, action: "regenerate" })}>
                            Regenerate
                          </button>
                          <button type="button" className="button small ghost danger" aria-label={`Delete ${name}`} onClick={() => setEditing({ kind: "confirm", key, action: "delete" })}>
                            Delete
                          </button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {loaded.data && loaded.data.total > loaded.data.keys.length && (
        <p className="muted">
          Showing the first {loaded.data.keys.length} of {loaded.data.total} {needle === "" ? "keys" : "matching keys"}; search to find any of them.
        </p>
      )}
      {editing?.kind === "create" && (
        <Dialog title="Create key" onClose={() => setEditing(null)}>
          <KeyForm teams={teams} submitLabel="Create key" onSubmit={create} onCancel={() => setEditing(null)} />
        </Dialog>
      )}
      {editing?.kind === "edit" && (
        <Dialog title={`Edit ${keyName(editing.key)}`} onClose={() => setEditing(null)}>
          <KeyForm initial={editing.key} teams={teams} submitLabel="Save" onSubmit={update(editing.key)} onCancel={() => setEditing(null)} />
        </Dialog>
      )}
      {editing?.kind === "confirm" && (
        <Confirm
          title={editing.action === "delete" ? `Delete ${keyName(editing.key)}?` : `Regenerate ${keyName(editing.key)}?`}
          message={
            editing.action === "delete"
              ? "Clients using this key are refused from now on. Its spend log rows stay."
              : "The key gets a new value, shown once; the old value stops working now. Its limits, budget and spend are kept."
          }
          action={editing.action === "delete" ? "Delete key" : "Regenerate key"}
          danger={editing.action === "delete"}
          onConfirm={() => void confirmed(editing.key, editing.action)}
          onClose={() => setEditing(null)}
        />
      )}
    </>
  );
}
