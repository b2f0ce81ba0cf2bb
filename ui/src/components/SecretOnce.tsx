/** A new key, shown once: kept only in this component's state, so it is gone when the operator leaves the page. */
import { useState } from "react";
import { Icon } from "./Icon";

export function SecretOnce({ value, onDone }: { value: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    await navigator.clipboard.writeText(value);
    setCopied(true);
  };
  return (
    <div className="card card-body" role="region" aria-label="New key">
      <p className="note success">Copy the key now: it is shown this once, and xgate keeps only its hash.</p>
      <div className="secret">
        <code data-testid="new-key">{value}</code>
        <button type="button" className="button small" onClick={() => void copy()}>
          <Icon name="copy" size={14} /> {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
