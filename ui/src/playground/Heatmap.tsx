/**
 * The similarity heatmap: a real table (texts as row and column headers, the value in each cell), so that a
 * screen reader reads the numbers; the colour only repeats them. Positive values shade towards the accent,
 * negative ones towards amber, through the theme's surface colour, so both themes keep the text readable.
 */
import type { CSSProperties } from "react";
import { formatSimilarity } from "./cosine";

const truncate = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** How strongly a cell is shaded (0–100), and whether its text must turn light on dark (or the reverse). */
function shade(value: number): { percent: number; strong: boolean } {
  const percent = Math.round(Math.min(1, Math.abs(value)) * 85);
  return { percent, strong: percent >= 50 };
}

export function Heatmap({ texts, matrix }: { texts: readonly string[]; matrix: readonly (readonly number[])[] }) {
  return (
    <div className="table-wrap">
      <table className="pg-heatmap">
        <caption>Cosine similarity of each pair of texts (1.00: same direction, 0: unrelated, −1.00: opposite)</caption>
        <thead>
          <tr>
            <td />
            {texts.map((text, j) => (
              <th scope="col" key={j} title={text}>
                <span className="pg-heat-index">{j + 1}</span> {truncate(text, 18)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={i}>
              <th scope="row" title={texts[i]}>
                <span className="pg-heat-index">{i + 1}</span> {truncate(texts[i] ?? "", 28)}
              </th>
              {row.map((value, j) => {
                const { percent, strong } = shade(value);
                return (
                  <td
                    key={j}
                    className={`pg-heat-cell ${value < 0 ? "negative" : "positive"}${strong ? " strong" : ""}`}
                    // The shade comes through a custom property (CSSOM, allowed by the CSP): the colours stay in the stylesheet.
                    style={{ "--heat": `${percent}%` } as CSSProperties}
                    data-row={i}
                    data-col={j}
                  >
                    {formatSimilarity(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pg-heat-legend" aria-hidden="true">
        <span>−1</span>
        <span className="pg-heat-scale" />
        <span>1</span>
      </div>
    </div>
  );
}
