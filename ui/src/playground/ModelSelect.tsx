/** A tab's model picker: the models of its kind, the first chosen until the operator picks another. */
import { useEffect } from "react";
import type { PlaygroundModel } from "./models";

export function ModelSelect({ models, value, onChange, label = "Model" }: { models: readonly PlaygroundModel[]; value: string; onChange: (id: string) => void; label?: string }) {
  const first = models[0]?.id ?? "";
  const known = models.some((m) => m.id === value);
  useEffect(() => {
    if (!known) onChange(first);
  }, [known, first, onChange]);
  return (
    <label className="field">
      <span>{label}</span>
      <select value={known ? value : first} onChange={(event) => onChange(event.target.value)} disabled={models.length === 0}>
        {models.length === 0 && <option value="">No model of this kind</option>}
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.id}
          </option>
        ))}
      </select>
    </label>
  );
}
