/** Rerank: a query and documents, POST /v1/rerank, the documents in the model's order with their scores. */
import { type FormEvent, useState } from "react";
import { MeterBar } from "../components/MeterBar";
import { CallFacts } from "./CallFacts";
import { useCall } from "./call";
import { ModelSelect } from "./ModelSelect";
import type { TabProps } from "./models";

interface RerankAnswer {
  results: Array<{ index: number; relevance_score: number }>;
}

interface Ranked {
  index: number;
  text: string;
  score: number;
}

const SAMPLE_DOCUMENTS = [
  "Paris is the capital and largest city of France.",
  "The Eiffel Tower was finished in 1889.",
  "Berlin is the capital of Germany.",
  "France borders Spain, Italy, Germany and Belgium.",
].join("\n");

export function Rerank({ models, apiKey, blocked }: TabProps) {
  const [model, setModel] = useState("");
  const [query, setQuery] = useState("What is the capital of France?");
  const [input, setInput] = useState(SAMPLE_DOCUMENTS);
  const [topN, setTopN] = useState("");
  const [ranked, setRanked] = useState<Ranked[] | null>(null);
  const call = useCall();
  const documents = input.split("\n").map((line) => line.trim()).filter((line) => line !== "");

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const sent = documents;
    const body = { model, query: query.trim(), documents: sent, ...(topN.trim() !== "" && { top_n: Number(topN) }) };
    const answer = await call.run("/v1/rerank", { key: apiKey, body }, (response) => response.json() as Promise<RerankAnswer>);
    if (!answer) return;
    const rows = answer.results.map((r) => ({ index: r.index, text: sent[r.index] ?? "", score: r.relevance_score }));
    setRanked(rows.sort((a, b) => b.score - a.score));
  };

  const top = Math.max(1, ...(ranked ?? []).map((r) => r.score));
  return (
    <div className="pg-panel">
      <form className="card card-body pg-form" onSubmit={(event) => void submit(event)}>
        <div className="form-grid">
          <ModelSelect models={models} value={model} onChange={setModel} />
          <label className="field">
            <span>Top n</span>
            <input type="number" min={1} step={1} value={topN} onChange={(event) => setTopN(event.target.value)} placeholder="all" />
          </label>
        </div>
        <label className="field">
          <span>Query</span>
          <input value={query} onChange={(event) => setQuery(event.target.value)} />
        </label>
        <label className="field">
          <span>Documents, one per line</span>
          <textarea rows={6} value={input} onChange={(event) => setInput(event.target.value)} />
        </label>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={call.busy || documents.length === 0 || query.trim() === "" || model === "" || blocked !== null} title={blocked ?? undefined}>
            {call.busy ? "Ranking…" : "Rerank"}
          </button>
        </div>
        <CallFacts state={call} />
      </form>
      {ranked && (
        <section className="card" aria-labelledby="pg-rerank-result">
          <div className="card-header">
            <h2 id="pg-rerank-result">Ranked documents</h2>
          </div>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col" className="num pg-rank">
                    Rank
                  </th>
                  <th scope="col">Document</th>
                  <th scope="col" className="num">
                    Score
                  </th>
                </tr>
              </thead>
              <tbody>
                {ranked.map((row, rank) => (
                  <tr key={row.index} data-testid="ranked-document">
                    <td className="num pg-rank">{rank + 1}</td>
                    <td>
                      {row.text}
                      <span className="cell-sub">document {row.index + 1}</span>
                    </td>
                    <td className="num pg-score">
                      <span data-testid="score">{row.score.toFixed(4)}</span>
                      <MeterBar value={row.score} max={top} label={`Score of document ${row.index + 1}`} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
