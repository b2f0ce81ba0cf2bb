/** Embeddings: a few texts, one call to /v1/embeddings, and how alike the model finds them (a heatmap). */
import { type FormEvent, useState } from "react";
import { CallFacts } from "./CallFacts";
import { useCall } from "./call";
import { cosineMatrix } from "./cosine";
import { Heatmap } from "./Heatmap";
import { ModelSelect } from "./ModelSelect";
import type { TabProps } from "./models";

interface EmbeddingAnswer {
  data: Array<{ index: number; embedding: number[] }>;
  usage?: { prompt_tokens?: number };
}

interface Result {
  texts: string[];
  matrix: number[][];
  dimensions: number;
  tokens: number | undefined;
}

const SAMPLE = ["The cat sat on the mat", "A kitten naps on the rug", "Shares fell sharply in early trading", "The central bank kept rates unchanged"].join("\n");
const MAX_TEXTS = 16;

export function Embeddings({ models, apiKey, blocked }: TabProps) {
  const [model, setModel] = useState("");
  const [input, setInput] = useState(SAMPLE);
  const [result, setResult] = useState<Result | null>(null);
  const call = useCall();
  const texts = input.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const tooMany = texts.length > MAX_TEXTS;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const sent = texts;
    // Floats asked for plainly: the proxy encodes base64 only when a client asks for it.
    const answer = await call.run("/v1/embeddings", { key: apiKey, body: { model, input: sent, encoding_format: "float" } }, (response) => response.json() as Promise<EmbeddingAnswer>);
    if (!answer) return;
    const vectors = [...answer.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    setResult({ texts: sent, matrix: cosineMatrix(vectors), dimensions: vectors[0]?.length ?? 0, tokens: answer.usage?.prompt_tokens });
  };

  return (
    <div className="pg-panel">
      <form className="card card-body pg-form" onSubmit={(event) => void submit(event)}>
        <div className="form-grid">
          <ModelSelect models={models} value={model} onChange={setModel} />
        </div>
        <label className="field">
          <span>Texts, one per line</span>
          <textarea rows={6} value={input} onChange={(event) => setInput(event.target.value)} aria-describedby="pg-embed-hint" />
          <span className="field-hint" id="pg-embed-hint">
            {tooMany ? `At most ${MAX_TEXTS} texts: ${texts.length} now.` : `${texts.length} text${texts.length === 1 ? "" : "s"}; each is compared with every other.`}
          </span>
        </label>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={call.busy || texts.length === 0 || tooMany || model === "" || blocked !== null} title={blocked ?? undefined}>
            {call.busy ? "Embedding…" : "Compare texts"}
          </button>
        </div>
        <CallFacts state={call} />
      </form>
      {result && (
        <section className="card card-body" aria-labelledby="pg-embed-result">
          <div className="pg-result-header">
            <h2 id="pg-embed-result">Similarity</h2>
            <span className="muted">
              {result.dimensions} dimensions{result.tokens !== undefined ? ` · ${result.tokens} tokens` : ""}
            </span>
          </div>
          <Heatmap texts={result.texts} matrix={result.matrix} />
        </section>
      )}
    </div>
  );
}
