// The soak's verdicts and its report: RSS over time and whether it stays flat, descriptors and sockets back to
// their baseline, spool files left behind, and 5xx answers no injected fault explains — as markdown and on the
// console.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "../stats.js";
import { toMB } from "../rss.js";
import type { FaultWindow } from "./faults.js";
import type { ProcessSample } from "./probes.js";
import type { RequestKind } from "./traffic.js";

export interface RouteCounts {
  requests: number;
  ok: number;
  status4xx: number;
  /** 5xx a fault window (or its aftermath) explains. */
  status5xxFault: number;
  /** 5xx outside every fault window of the route: xgate's own. */
  status5xxUnexplained: number;
  aborted: number;
  /** Failures the client did not cause, exposed to a fault window or not. */
  errorsFault: number;
  errorsUnexplained: number;
}

export interface SoakCheck {
  name: string;
  ok: boolean;
  figure: string;
}

export interface SoakReport {
  startedAt: string;
  revision: string;
  durationS: number;
  settings: Record<string, string | number>;
  notes: string[];
  samples: ProcessSample[];
  settle: { afterS: number; fds: number; sockets: number; spoolFiles: number };
  windows: FaultWindow[];
  routes: Partial<Record<RequestKind, RouteCounts>>;
  /** 5xx the emulator itself answered outside fault windows (not injected: the upstream's own errors). */
  emulatorUnexplained5xx: Record<string, number>;
  unexplainedErrors: string[];
  rss: { warmupEndS: number; firstThirdMB: number; lastThirdMB: number; change: number };
  checks: SoakCheck[];
}

/** Medians of the first and last third of the samples after warm-up, and the change between them. */
export function rssTrend(samples: ProcessSample[], warmupMs: number): SoakReport["rss"] {
  const after = samples.filter((s) => s.atMs >= warmupMs);
  const third = Math.max(1, Math.floor(after.length / 3));
  const first = median(after.slice(0, third).map((s) => s.rssBytes));
  const last = median(after.slice(-third).map((s) => s.rssBytes));
  return { warmupEndS: warmupMs / 1000, firstThirdMB: toMB(first), lastThirdMB: toMB(last), change: (last - first) / first };
}

export function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
}

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** At most `n` samples, evenly spread, the first and the last included. */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const step = (items.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, i) => items[Math.round(i * step)] as T);
}

function samplesTable(report: SoakReport): string {
  return table(
    ["t (s)", "RSS (MB)", "fds", "sockets", "spool files", "requests"],
    spread(report.samples, 24).map((s) => [(s.atMs / 1000).toFixed(0), toMB(s.rssBytes), s.fds, s.sockets, s.spoolFiles, s.requests]),
  );
}

function routesTable(report: SoakReport): string {
  return table(
    ["requests", "sent", "2xx", "4xx", "5xx (fault)", "5xx (unexplained)", "aborted by client", "errors (fault)", "errors (unexplained)"],
    Object.entries(report.routes).map(([kind, c]) => [
      kind,
      c.requests,
      c.ok,
      c.status4xx,
      c.status5xxFault,
      `**${c.status5xxUnexplained}**`,
      c.aborted,
      c.errorsFault,
      `**${c.errorsUnexplained}**`,
    ]),
  );
}

function checksTable(report: SoakReport): string {
  return table(
    ["check", "verdict", "measured"],
    report.checks.map((c) => [c.name, c.ok ? "**pass**" : "**FAIL**", c.figure]),
  );
}

export function markdown(report: SoakReport): string {
  const settings = Object.entries(report.settings).map(([k, v]) => `- ${k}: ${v}`);
  const byKind = new Map<string, number>();
  for (const w of report.windows) byKind.set(`${w.kind} on ${w.route}`, (byKind.get(`${w.kind} on ${w.route}`) ?? 0) + 1);
  return [
    `# xgate soak, ${report.startedAt}`,
    "",
    `Revision ${report.revision}, ${report.durationS.toFixed(0)} s of mixed traffic against xgate with the emulator as upstream.`,
    "",
    "## Verdicts",
    "",
    checksTable(report),
    "",
    "## xgate's process over time",
    "",
    samplesTable(report),
    "",
    `After ${report.settle.afterS.toFixed(0)} s idle at the end: ${report.settle.fds} fds, ${report.settle.sockets} sockets, ` +
      `${report.settle.spoolFiles} spool files.`,
    "",
    "## Answers per request kind",
    "",
    routesTable(report),
    "",
    "A 5xx (or a failed connection) counts as *fault* when its request overlapped a fault window on its upstream " +
      "route or that window's aftermath (see the settings); every other one is *unexplained*: xgate's own.",
    "",
    `Emulator 5xx outside fault windows (the upstream's own errors): ${JSON.stringify(report.emulatorUnexplained5xx)}.`,
    ...(report.unexplainedErrors.length > 0 ? ["", "Unexplained failures (first ones):", "", ...report.unexplainedErrors.map((e) => `- ${e}`)] : []),
    "",
    "## Fault windows",
    "",
    table(["fault", "windows"], [...byKind.entries()].map(([k, n]) => [k, n])),
    "",
    "## Settings and notes",
    "",
    ...settings,
    ...report.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}

export function writeSoakReport(outDir: string, report: SoakReport): { md: string; json: string } {
  mkdirSync(outDir, { recursive: true });
  const stem = `soak-${report.startedAt.slice(0, 19).replace(/:/g, "-")}`;
  const md = join(outDir, `${stem}.md`);
  const json = join(outDir, `${stem}.json`);
  writeFileSync(md, markdown(report));
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  return { md, json };
}

export function printSoakSummary(report: SoakReport): void {
  console.log(`\n${samplesTable(report)}\n\n${routesTable(report)}\n\n${checksTable(report)}`);
  for (const e of report.unexplainedErrors) console.log(`  unexplained: ${e}`);
  console.log(`\nRSS, first third → last third after warm-up: ${report.rss.firstThirdMB} → ${report.rss.lastThirdMB} MB (${pct(report.rss.change)})`);
}
