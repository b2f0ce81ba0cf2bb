// The run's report: <date>.json (everything), <date>.md (the tables) and <date>.svg (the chart).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { formatValue, renderChart } from "./chart.js";
import type { Check, MetricRow, ScenarioResult, TargetId } from "./types.js";
import { GATEWAY_IDS, TARGET_IDS, TARGET_LABELS } from "./types.js";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

export function gitRevision(root: string): string {
  try {
    const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root, encoding: "utf8" }).trim() !== "";
    return dirty ? `${rev} (src/ has uncommitted changes)` : rev;
  } catch {
    return "unknown";
  }
}

export function packageVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return "unknown";
  }
}

export interface Report {
  date: string;
  startedAt: string;
  durationS: number;
  machine: Machine;
  revision: string;
  tools: Record<string, string>;
  targets: Record<TargetId, string>;
  scenarios: ScenarioResult[];
  checks: Check[];
}

function ratio(row: MetricRow, id: TargetId): string {
  const v = row.values[id];
  const d = row.values.direct;
  if (v === undefined || d === undefined || row.unit === "MB" || row.noRatio === true) return "";
  return `${(v / d).toFixed(2)}×`;
}

function cell(row: MetricRow, id: TargetId): string {
  const v = row.values[id];
  return v === undefined ? "–" : formatValue(v, row.unit);
}

function metLabel(met: boolean | null): string {
  if (met === null) return "not measured";
  return met ? "**met**" : "**missed**";
}

export function markdown(report: Report, chartFile: string): string {
  const m = report.machine;
  const lines: string[] = [
    `# xgate benchmark, ${report.date}`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ` +
      `load average at start ${m.loadAverageAtStart.join(" / ")}. Revision ${report.revision}. ` +
      `Run took ${Math.round(report.durationS)} s.`,
    "",
    `Targets: ${TARGET_IDS.map((id) => `${TARGET_LABELS[id]} = ${report.targets[id]}`).join("; ")}.`,
    "",
    `Tools: ${Object.entries(report.tools)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    "## xgate's targets",
    "",
    `${report.checks.filter((c) => c.met === true).length} met, ${report.checks.filter((c) => c.met === false).length} missed` +
      `${report.checks.some((c) => c.met === null) ? `, ${report.checks.filter((c) => c.met === null).length} not measured` : ""}.`,
    "",
    "| Scenario | Target for xgate | Measured | Verdict |",
    "|---|---|---|---|",
    ...report.checks.map((c) => `| ${c.scenario} | ${c.description} | ${c.measured} | ${metLabel(c.met)} |`),
    "",
    "## Figures",
    "",
    `![ratio to direct per scenario](${chartFile})`,
    "",
    `| Scenario | Figure | direct | ${GATEWAY_IDS.map((id) => TARGET_LABELS[id]).join(" | ")} | ` +
      `${GATEWAY_IDS.map((id) => `${TARGET_LABELS[id]} ÷ direct`).join(" | ")} |`,
    `|---|---|---:|${GATEWAY_IDS.map(() => "---:|---:|").join("")}`,
  ];
  for (const s of report.scenarios) {
    for (const row of s.rows) {
      lines.push(
        `| ${s.id} | ${row.label} | ${cell(row, "direct")} | ${GATEWAY_IDS.map((id) => cell(row, id)).join(" | ")} | ` +
          `${GATEWAY_IDS.map((id) => ratio(row, id)).join(" | ")} |`,
      );
    }
  }
  lines.push("", "## How each scenario was measured", "");
  for (const s of report.scenarios) {
    lines.push(`- **${s.id}: ${s.title}.** ${s.method}`);
    for (const note of s.notes) lines.push(`  - ${note}`);
  }
  lines.push("");
  return lines.join("\n");
}

export function writeReport(outDir: string, report: Report): { json: string; md: string; svg: string } {
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, `${report.date}.json`);
  const md = join(outDir, `${report.date}.md`);
  const svg = join(outDir, `${report.date}.svg`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report, `${report.date}.svg`));
  const m = report.machine;
  writeFileSync(
    svg,
    renderChart({
      title: `xgate, Portkey and a bare Node pass-through against a direct call, ${report.date}`,
      subtitle: `${m.cores} × ${m.cpu}, Node ${m.node}; emulated Xinference with zero compute delay (S6: 20 ms); revision ${report.revision}`,
      rows: report.scenarios.flatMap((s) => s.rows),
      checks: report.checks,
    }),
  );
  return { json, md, svg };
}

/** The console summary: each figure's ratios, then each of xgate's targets. */
export function printSummary(report: Report): void {
  console.log("\n=== Ratios to direct ===");
  for (const s of report.scenarios) {
    for (const row of s.rows) {
      const parts = TARGET_IDS.filter((id) => row.values[id] !== undefined).map((id) => {
        const r = ratio(row, id);
        return `${TARGET_LABELS[id]} ${cell(row, id)}${r && id !== "direct" ? ` (${r})` : ""}`;
      });
      console.log(`${s.id} ${row.label.padEnd(34)} ${parts.join("  |  ")}`);
    }
  }
  console.log("\n=== xgate's targets ===");
  for (const c of report.checks) {
    const verdict = c.met === null ? "NOT MEASURED" : c.met ? "MET" : "MISSED";
    console.log(`${verdict.padEnd(12)} ${c.scenario} ${c.description}: ${c.measured}`);
  }
}
