/** A horizontal bar in a table cell: a share of the largest, or spend against a budget. */
export function MeterBar({ value, max, label, tone }: { value: number; max: number; label: string; tone?: "warn" | "bad" }) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div className={tone ? `bar ${tone}` : "bar"} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}>
      {/* React sets style through the CSSOM, which the CSP's style-src 'self' allows (only style attributes in markup are refused). */}
      <span style={{ width: `${(share * 100).toFixed(1)}%` }} />
    </div>
  );
}
