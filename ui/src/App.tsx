/**
 * The shell: a skip link, the navigation (a sidebar, collapsed behind a menu button at phone width), the
 * theme toggle and sign-out, and the page for the path. Without a master key in this tab: the sign-in form.
 */
import { type ComponentType, lazy, Suspense, useEffect, useRef, useState } from "react";
import { Icon, type IconName } from "./components/Icon";
import { Keys } from "./pages/Keys";
import { Models } from "./pages/Models";
import { SignIn } from "./pages/SignIn";
import { Playground } from "./playground/Playground";
import { Loading } from "./components/States";
import { Link, usePath } from "./router";
import { signOut, useSession } from "./session";
import { toggleTheme, useTheme } from "./theme";

// The pages with charts load recharts, the bulk of the bundle, only when they are opened.
const Overview = lazy(() => import("./pages/Overview").then((m) => ({ default: m.Overview })));
const Spend = lazy(() => import("./pages/Spend").then((m) => ({ default: m.Spend })));

interface PageEntry {
  path: string;
  label: string;
  icon: IconName;
  component: ComponentType;
}

export const PAGES: readonly PageEntry[] = [
  { path: "/", label: "Overview", icon: "overview", component: Overview },
  { path: "/models", label: "Models", icon: "models", component: Models },
  { path: "/keys", label: "Keys and teams", icon: "keys", component: Keys },
  { path: "/spend", label: "Spend and logs", icon: "spend", component: Spend },
  { path: "/playground", label: "Playground", icon: "playground", component: Playground },
];

function NotFound({ path }: { path: string }) {
  return (
    <section className="page">
      <h1>Not found</h1>
      <p className="muted">
        The console has no page at <code>/ui{path}</code>. <Link to="/">Go to the Overview</Link>.
      </p>
    </section>
  );
}

function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" className="button ghost icon-button" onClick={toggleTheme} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`}>
      <Icon name={theme === "dark" ? "sun" : "moon"} />
    </button>
  );
}

export function App() {
  const session = useSession();
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const page = PAGES.find((entry) => entry.path === path);

  // The page first shown keeps the browser's own focus; after a move to another, focus goes to its content,
  // as a full page load would put it, so that keyboard and screen-reader users start there, not in the menu.
  const shownPath = useRef(path);
  useEffect(() => {
    document.title = `${page?.label ?? "Not found"} · xgate console`;
    setMenuOpen(false);
    if (shownPath.current === path) return;
    shownPath.current = path;
    main.current?.focus();
  }, [page, path]);

  if (session.key === null) return <SignIn notice={session.notice} />;

  const Page = page?.component;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="button ghost icon-button menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          aria-label={menuOpen ? "Close navigation" : "Open navigation"}
          onClick={() => setMenuOpen((open) => !open)}
        >
          <Icon name={menuOpen ? "close" : "menu"} />
        </button>
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          xgate <span className="brand-sub">console</span>
        </Link>
        <div className="topbar-actions">
          <ThemeToggle />
          <button type="button" className="button ghost" aria-label="Sign out" onClick={() => signOut()}>
            <Icon name="signOut" /> <span className="hide-narrow">Sign out</span>
          </button>
        </div>
      </header>
      <nav id="nav" className={menuOpen ? "nav open" : "nav"} aria-label="Console">
        <ul>
          {PAGES.map((entry) => (
            <li key={entry.path}>
              <Link to={entry.path} aria-current={entry.path === path ? "page" : undefined} className="nav-link">
                <Icon name={entry.icon} /> {entry.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<Loading />}>{Page ? <Page /> : <NotFound path={path} />}</Suspense>
      </main>
    </div>
  );
}
