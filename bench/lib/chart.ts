// The results chart as hand-written SVG: first xgate's targets, each met or missed with its measured figure;
// then one row of bars per measured figure, each bar the gateway's ratio to a direct call on a log scale
// (1× = direct), the targets marked; then the gateways' peak RSS in MB.
import { GATEWAY_IDS, TARGET_LABELS } from "./types.js";
import type { Check, MetricRow, TargetId } from "./types.js";

const COLORS: Record<Exclude<TargetId, "direct">, string> = { floor: "#9ca3af", xgate: "#2563eb", portkey: "#ea580c" };
const GATEWAYS = GATEWAY_IDS;

const WIDTH = 980;
const LABEL_W = 330;
const PLOT_X0 = LABEL_W + 10;
const PLOT_X1 = WIDTH - 150;
const BAR_H = 14;
const ROW_GAP = 14;
/** Value labels get a white outline so that a target line crossing them does not hide them. */
const HALO = 'font-size="10" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"';
const TICKS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];
/** Over more than three decades, 2× and 5× ticks would crowd their labels together. */
const DECADES = TICKS.filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmtRatio(r: number): string {
  if (r >= 100) return `${r.toFixed(0)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`;
}

function rowHeight(row: MetricRow): number {
  const bars = GATEWAYS.filter((g) => row.values[g] !== undefined).length;
  return Math.max(1, bars) * (BAR_H + 3) + ROW_GAP;
}

export interface ChartInput {
  title: string;
  subtitle: string;
  rows: MetricRow[];
  checks: Check[];
}

const VERDICTS = {
  met: { label: "MET", fill: "#16a34a" },
  missed: { label: "MISSED", fill: "#dc2626" },
  unmeasured: { label: "N/A", fill: "#9ca3af" },
} as const;

/** One line per target: a coloured verdict, the scenario, the target and the figure measured. */
function targetsPanel(checks: Check[], top: number): { svg: string[]; bottom: number } {
  const out: string[] = [];
  let y = top;
  const met = checks.filter((c) => c.met === true).length;
  const missed = checks.filter((c) => c.met === false).length;
  const unmeasured = checks.length - met - missed;
  const summary = `xgate's targets: ${met} met, ${missed} missed${unmeasured > 0 ? `, ${unmeasured} not measured` : ""}`;
  out.push(text(20, y, summary, 'font-size="13" font-weight="bold"'));
  y += 8;
  for (const c of checks) {
    const verdict = c.met === null ? VERDICTS.unmeasured : c.met ? VERDICTS.met : VERDICTS.missed;
    out.push(`<rect x="20" y="${y + 3}" width="54" height="14" rx="3" fill="${verdict.fill}"/>`);
    out.push(text(47, y + 14, verdict.label, 'font-size="10" font-weight="bold" fill="#fff" text-anchor="middle"'));
    out.push(text(82, y + 14, c.scenario, 'font-size="11" font-weight="bold"'));
    out.push(text(104, y + 14, c.description, 'font-size="11"'));
    out.push(text(TARGET_MEASURED_X, y + 14, c.measured, 'font-size="11" fill="#333"'));
    y += 18;
  }
  return { svg: out, bottom: y + 22 };
}

/** Where the measured figure of each target starts (descriptions are up to ~90 characters of 11 px text). */
const TARGET_MEASURED_X = 610;

export function renderChart(input: ChartInput): string {
  const ratioRows = input.rows.filter((r) => r.chart && r.unit !== "MB" && r.values.direct !== undefined);
  const memoryRows = input.rows.filter((r) => r.chart && r.unit === "MB" && GATEWAYS.some((g) => r.values[g] !== undefined));
  const out: string[] = [];
  let y = 30;
  out.push(text(20, y, input.title, 'font-size="18" font-weight="bold"'));
  y += 20;
  out.push(text(20, y, input.subtitle, 'font-size="12" fill="#555"'));
  y += 30;
  if (input.checks.length > 0) {
    const panel = targetsPanel(input.checks, y);
    out.push(...panel.svg);
    y = panel.bottom;
  }
  // Legend of the bars.
  let lx = 20;
  for (const g of GATEWAYS) {
    out.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLORS[g]}"/>`);
    out.push(text(lx + 17, y, TARGET_LABELS[g], 'font-size="12"'));
    lx += 40 + 7 * TARGET_LABELS[g].length; // ~7 px per character at 12 px
  }
  out.push(`<line x1="${lx}" y1="${y - 12}" x2="${lx}" y2="${y + 2}" stroke="#111" stroke-width="1.5"/>`);
  out.push(text(lx + 6, y, "1× = direct call", 'font-size="12"'));
  lx += 120;
  out.push(`<line x1="${lx}" y1="${y - 12}" x2="${lx}" y2="${y + 2}" stroke="#16a34a" stroke-width="2" stroke-dasharray="4 3"/>`);
  out.push(text(lx + 6, y, "xgate's target", 'font-size="12"'));
  y += 24;

  if (ratioRows.length > 0) {
    const ratios: number[] = [1];
    for (const row of ratioRows) {
      for (const g of GATEWAYS) {
        const v = row.values[g];
        if (v !== undefined && v > 0) ratios.push(v / (row.values.direct as number));
      }
      if (row.ratioTarget !== undefined) ratios.push(row.ratioTarget);
    }
    const lo = [...TICKS].reverse().find((t) => t <= Math.min(...ratios) / 1.15) ?? TICKS[0]!;
    const hi = TICKS.find((t) => t >= Math.max(...ratios) * 1.15) ?? TICKS[TICKS.length - 1]!;
    const x = (r: number): number => {
      const clamped = Math.min(hi, Math.max(lo, r));
      return PLOT_X0 + ((Math.log10(clamped) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (PLOT_X1 - PLOT_X0);
    };
    out.push(text(20, y, "Ratio to direct (log scale) — latency and time: lower is better; requests/s: higher is better", 'font-size="13" font-weight="bold"'));
    y += 12;
    const top = y;
    const height = ratioRows.reduce((sum, r) => sum + rowHeight(r), 0);
    const ticks = Math.log10(hi / lo) > 3 ? DECADES : TICKS;
    for (const t of ticks.filter((t) => t >= lo && t <= hi)) {
      const tx = x(t);
      out.push(`<line x1="${tx.toFixed(1)}" y1="${top}" x2="${tx.toFixed(1)}" y2="${top + height}" stroke="#e5e7eb"/>`);
      out.push(text(tx, top + height + 14, `${t}×`, 'font-size="10" fill="#555" text-anchor="middle"'));
    }
    for (const row of ratioRows) {
      const h = rowHeight(row);
      const direct = row.values.direct as number;
      out.push(text(20, y + 13, `${row.scenario} ${row.label}`, 'font-size="12"'));
      out.push(text(20, y + 27, `${row.better} is better · direct ${formatValue(direct, row.unit)}`, 'font-size="10" fill="#666"'));
      const labels: string[] = [];
      let by = y + 2;
      for (const g of GATEWAYS) {
        const v = row.values[g];
        if (v === undefined) continue;
        const r = v / direct;
        const target = row.ratioTarget;
        const mark =
          g !== "xgate" || target === undefined ? "" : (row.better === "lower" ? r <= target : r >= target) ? " ✓ target" : " ✗ target";
        const x0 = x(1);
        const x1 = x(r);
        const left = Math.min(x0, x1);
        const width = Math.max(1.5, Math.abs(x1 - x0));
        out.push(`<rect x="${left.toFixed(1)}" y="${by}" width="${width.toFixed(1)}" height="${BAR_H}" fill="${COLORS[g]}"/>`);
        const labelX = x1 >= x0 ? Math.max(x1, x0 + 1.5) + 4 : left - 4;
        const anchor = x1 >= x0 ? "start" : "end";
        labels.push(text(labelX, by + 11, `${fmtRatio(r)} (${formatValue(v, row.unit)})${mark}`, `${HALO} text-anchor="${anchor}"`));
        by += BAR_H + 3;
      }
      if (row.ratioTarget !== undefined) {
        const tx = x(row.ratioTarget);
        out.push(
          `<line x1="${tx.toFixed(1)}" y1="${y - 2}" x2="${tx.toFixed(1)}" y2="${y + h - ROW_GAP + 2}" stroke="#16a34a" stroke-width="2" stroke-dasharray="4 3"/>`,
        );
      }
      out.push(...labels);
      y += h;
    }
    const x1 = x(1);
    out.push(`<line x1="${x1.toFixed(1)}" y1="${top - 4}" x2="${x1.toFixed(1)}" y2="${top + height}" stroke="#111" stroke-width="1.5"/>`);
    y += 34;
  }

  if (memoryRows.length > 0) {
    const values: number[] = [];
    for (const row of memoryRows) {
      for (const g of GATEWAYS) if (row.values[g] !== undefined) values.push(row.values[g] as number);
      if (row.limit !== undefined) values.push(row.limit);
    }
    const max = Math.max(...values) * 1.12;
    const step = [10, 20, 50, 100, 200, 250, 500, 1000, 2000].find((s) => max / s <= 8) ?? 5000;
    const x = (mb: number): number => PLOT_X0 + (mb / max) * (PLOT_X1 - PLOT_X0);
    out.push(text(20, y, "Gateway peak RSS (MB) — lower is better", 'font-size="13" font-weight="bold"'));
    y += 12;
    const top = y;
    const height = memoryRows.reduce((sum, r) => sum + rowHeight(r), 0);
    for (let t = 0; t <= max; t += step) {
      out.push(`<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${top + height}" stroke="#e5e7eb"/>`);
      out.push(text(x(t), top + height + 14, String(t), 'font-size="10" fill="#555" text-anchor="middle"'));
    }
    for (const row of memoryRows) {
      const h = rowHeight(row);
      out.push(text(20, y + 13, `${row.scenario} ${row.label}`, 'font-size="12"'));
      const labels: string[] = [];
      let by = y + 2;
      for (const g of GATEWAYS) {
        const v = row.values[g];
        if (v === undefined) continue;
        const mark = g !== "xgate" || row.limit === undefined ? "" : v <= row.limit ? " ✓ target" : " ✗ target";
        out.push(`<rect x="${PLOT_X0}" y="${by}" width="${Math.max(1.5, x(v) - PLOT_X0).toFixed(1)}" height="${BAR_H}" fill="${COLORS[g]}"/>`);
        labels.push(text(x(v) + 4, by + 11, `${v.toFixed(0)} MB${mark}`, HALO));
        by += BAR_H + 3;
      }
      if (row.limit !== undefined) {
        const tx = x(row.limit);
        out.push(
          `<line x1="${tx.toFixed(1)}" y1="${y - 2}" x2="${tx.toFixed(1)}" y2="${y + h - ROW_GAP + 2}" stroke="#16a34a" stroke-width="2" stroke-dasharray="4 3"/>`,
        );
        out.push(text(20, y + 27, `target: xgate ≤ ${row.limit} MB`, 'font-size="10" fill="#666"'));
      }
      out.push(...labels);
      y += h;
    }
    out.push(`<line x1="${PLOT_X0}" y1="${top - 4}" x2="${PLOT_X0}" y2="${top + height}" stroke="#111"/>`);
    y += 30;
  }

  const heightPx = Math.ceil(y);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${heightPx}" viewBox="0 0 ${WIDTH} ${heightPx}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${heightPx}" fill="#fff"/>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}

export function formatValue(value: number, unit: MetricRow["unit"]): string {
  if (!Number.isFinite(value)) return "–";
  switch (unit) {
    case "ms":
      return Math.abs(value) < 10 ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} ms`;
    case "µs":
      return `${value.toFixed(0)} µs`;
    case "×":
      return `${value.toFixed(2)}×`;
    case "req/s":
      return `${value.toFixed(0)} req/s`;
    case "MB":
      return `${value.toFixed(1)} MB`;
  }
}
