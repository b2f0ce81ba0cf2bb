/**
 * The signed-in master key: kept in sessionStorage (gone when the tab closes, never in a URL or in
 * localStorage), and a small store that components subscribe to with `useSession`.
 */
import { useSyncExternalStore } from "react";

const STORAGE_KEY = "xgate.masterKey";

export interface Session {
  key: string | null;
  /** Why the operator was signed out, shown on the sign-in form. */
  notice: string | null;
}

let current: Session = { key: readStored(), notice: null };
const listeners = new Set<() => void>();

function readStored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function publish(next: Session): void {
  current = next;
  for (const listener of listeners) listener();
}

export function masterKey(): string | null {
  return current.key;
}

export function signIn(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  publish({ key, notice: null });
}

export function signOut(notice: string | null = null): void {
  sessionStorage.removeItem(STORAGE_KEY);
  publish({ key: null, notice });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): Session {
  return useSyncExternalStore(subscribe, () => current);
}
