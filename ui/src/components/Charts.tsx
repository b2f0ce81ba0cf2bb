/**
 * The console's charts (recharts), themed through CSS variables: colours are read from the stylesheet, so
 * the charts follow the light and dark themes without an inline style of their own.
 */
import type { ReactNode } from "react";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { bucketLabel } from "../format";

export interface Series {
  key: string;
  label: string;
  color: string;
}

interface ChartProps {
  data: ReadonlyArray<object>;
  series: readonly Series[];
  format: (value: number) => string;
  /** What the chart shows, for screen readers (the numbers are also in the page's tables and cards). */
  label: string;
}

// The axis line in the border's colour; its labels (which recharts would draw in that colour too, too faint to
// read) in the muted text colour, which keeps 4.5:1 against the page in both themes.
const axis = { stroke: "var(--border)", tick: { fill: "var(--muted)" }, tickLine: false, fontSize: 12 } as const;

function Frame({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="chart" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height="100%">
        {children}
      </ResponsiveContainer>
    </div>
  );
}

function common(format: (value: number) => string) {
  return [
    <CartesianGrid key="grid" vertical={false} strokeDasharray="3 3" />,
    <XAxis key="x" dataKey="date" tickFormatter={bucketLabel} minTickGap={24} {...axis} />,
    <YAxis key="y" tickFormatter={format} width={56} axisLine={false} {...axis} />,
    <Tooltip key="tip" labelFormatter={(value) => bucketLabel(String(value))} formatter={(value) => format(Number(value))} cursor={{ fill: "var(--surface-2)" }} />,
  ];
}

export function StackedBars({ data, series, format, label }: ChartProps) {
  return (
    <Frame label={label}>
      <BarChart data={[...data]} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
        {common(format)}
        {series.length > 1 && <Legend iconType="square" iconSize={8} />}
        {series.map((s) => (
          <Bar key={s.key} dataKey={s.key} name={s.label} stackId="one" fill={s.color} isAnimationActive={false} />
        ))}
      </BarChart>
    </Frame>
  );
}

export function Lines({ data, series, format, label }: ChartProps) {
  return (
    <Frame label={label}>
      <LineChart data={[...data]} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
        {common(format)}
        <Legend iconType="plainline" iconSize={12} />
        {series.map((s) => (
          <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} strokeWidth={2} dot={false} connectNulls isAnimationActive={false} />
        ))}
      </LineChart>
    </Frame>
  );
}

export function FilledArea({ data, series, format, label }: ChartProps) {
  return (
    <Frame label={label}>
      <AreaChart data={[...data]} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
        {common(format)}
        {series.map((s) => (
          <Area key={s.key} dataKey={s.key} name={s.label} stroke={s.color} fill={s.color} fillOpacity={0.18} strokeWidth={2} type="monotone" isAnimationActive={false} />
        ))}
      </AreaChart>
    </Frame>
  );
}
