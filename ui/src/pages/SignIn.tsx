/**
 * Sign-in with the proxy's master key. The key is checked with a master-only call before it is kept (in
 * sessionStorage, for this tab only); it is never put in a URL.
 */
import { type FormEvent, useState } from "react";
import { api, ApiError } from "../api";
import { ErrorNote } from "../components/States";
import { signIn } from "../session";

export function SignIn({ notice }: { notice: string | null }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/global/spend", { key: key.trim() });
      signIn(key.trim());
    } catch (caught) {
      setError(caught instanceof ApiError && caught.code === "admin_only" ? new ApiError(403, "This is a virtual key: sign in with the proxy's master key (general_settings.master_key).") : caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <form className="card signin-card" onSubmit={(event) => void submit(event)}>
        <div className="brand signin-brand">
          <span className="brand-mark" aria-hidden="true" />
          xgate <span className="brand-sub">console</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">Use the proxy&rsquo;s master key. It is kept in this tab only, until you sign out or close it.</p>
        {notice && <p className="note warning" role="status">{notice}</p>}
        <label className="field">
          <span>Master key</span>
          <input type="password" name="master-key" autoComplete="current-password" required placeholder="sk-…" value={key} onChange={(event) => setKey(event.target.value)} />
        </label>
        {error !== null && <ErrorNote error={error} />}
        <button type="submit" className="button primary wide" disabled={busy || key.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
