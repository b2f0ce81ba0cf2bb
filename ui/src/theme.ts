/**
 * Light or dark: the system's choice (prefers-color-scheme) unless the operator picked one with the toggle,
 * which is remembered in localStorage (it is no secret). The CSS reads `data-theme` on <html>.
 */
import { useSyncExternalStore } from "react";

export type ThemeChoice = "light" | "dark";

const STORAGE_KEY = "xgate.theme";
const listeners = new Set<() => void>();
const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

function chosen(): ThemeChoice | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

/** The theme shown now. */
function effective(): ThemeChoice {
  return chosen() ?? (darkQuery.matches ? "dark" : "light");
}

function apply(): void {
  document.documentElement.dataset.theme = effective();
  for (const listener of listeners) listener();
}

export function initTheme(): void {
  apply();
  darkQuery.addEventListener("change", apply);
}

export function toggleTheme(): void {
  localStorage.setItem(STORAGE_KEY, effective() === "dark" ? "light" : "dark");
  apply();
}

export function useTheme(): ThemeChoice {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    effective,
  );
}
