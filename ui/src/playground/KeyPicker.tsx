/**
 * Which key the playground calls the public API with, so that spend lands where it should: the session's
 * master key, or a virtual key the operator pastes. A pasted key lives in this component tree's memory only
 * (never in storage or a URL): it is gone when the page is left.
 */
import { useId } from "react";

export type PlaygroundKey = { kind: "master" } | { kind: "virtual"; value: string };

/** The key to pass to `api`/`apiResponse`: undefined means the signed-in master key. */
export function keyOption(key: PlaygroundKey): string | undefined {
  return key.kind === "master" ? undefined : key.value.trim();
}

/** Why the playground cannot call yet with this key; null when it can. */
export function keyProblem(key: PlaygroundKey): string | null {
  if (key.kind === "master") return null;
  const value = key.value.trim();
  if (value === "") return "Paste a virtual key, or use the master key.";
  if (!value.startsWith("sk-")) return "A virtual key starts with sk-.";
  return null;
}

export function KeyPicker({ value, onChange }: { value: PlaygroundKey; onChange: (next: PlaygroundKey) => void }) {
  const id = useId();
  const problem = keyProblem(value);
  const pasted = value.kind === "virtual" ? value.value : "";
  return (
    <fieldset className="card card-body pg-key">
      <legend>Call with</legend>
      <div className="pg-key-choices">
        <label className="check">
          <input type="radio" name={`${id}-kind`} checked={value.kind === "master"} onChange={() => onChange({ kind: "master" })} />
          The master key (this session&rsquo;s)
        </label>
        <label className="check">
          <input type="radio" name={`${id}-kind`} checked={value.kind === "virtual"} onChange={() => onChange({ kind: "virtual", value: pasted })} />
          A virtual key
        </label>
      </div>
      {value.kind === "virtual" && (
        <div className="field pg-key-field">
          <label htmlFor={`${id}-key`}>Virtual key</label>
          <input
            id={`${id}-key`}
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="sk-…"
            value={value.value}
            onChange={(event) => onChange({ kind: "virtual", value: event.target.value })}
            aria-describedby={`${id}-hint`}
            aria-invalid={problem !== null && value.value !== ""}
          />
          <span className="field-hint" id={`${id}-hint`}>
            {problem ?? "Kept in this page only. Its spend, limits and allowed models apply to every call below."}
          </span>
        </div>
      )}
    </fieldset>
  );
}
