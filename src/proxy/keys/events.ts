/**
 * What the admin routes tell the rest of the proxy after a write: which keys or teams changed (created,
 * updated, blocked, regenerated, deleted, spend reset). The key cache drops them here and on every other
 * instance (through Redis when there is one); budgets forget what they counted for them.
 */
export interface KeyChangeNotifier {
  /** The keys with these tokens (hashes) changed; a regenerate names the old token and the new. */
  keysChanged(tokens: readonly string[]): void;
  /** The team changed: every key in it is re-read. */
  teamChanged(teamId: string): void;
}

/** For a proxy without a store, and for tests that need none. */
export const NO_KEY_CHANGES: KeyChangeNotifier = { keysChanged: () => undefined, teamChanged: () => undefined };
