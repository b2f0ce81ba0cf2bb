/** Image generation: a prompt, a size and a count, POST /v1/images/generations, the images shown. */
import { type FormEvent, useState } from "react";
import { CallFacts } from "./CallFacts";
import { useCall } from "./call";
import { type ImageAnswer } from "./images";
import { ImageOptions, type ImageOptionValues } from "./ImageOptions";
import { ImageResults } from "./ImageResults";
import { ModelSelect } from "./ModelSelect";
import type { TabProps } from "./models";

export function ImageGenerate({ models, apiKey, blocked }: TabProps) {
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("A lighthouse on a cliff at dusk, watercolour");
  const [options, setOptions] = useState<ImageOptionValues>({ size: "512x512", n: 1, format: "b64_json" });
  const { size, n, format } = options;
  const [result, setResult] = useState<{ prompt: string; answer: ImageAnswer } | null>(null);
  const call = useCall();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const sent = prompt.trim();
    const answer = await call.run("/v1/images/generations", { key: apiKey, body: { model, prompt: sent, size, n, response_format: format } }, (response) => response.json() as Promise<ImageAnswer>);
    if (answer) setResult({ prompt: sent, answer });
  };

  return (
    <section className="card card-body pg-form" aria-labelledby="pg-generate">
      <h2 id="pg-generate">Generate</h2>
      <form onSubmit={(event) => void submit(event)} className="pg-form">
        <label className="field">
          <span>Prompt</span>
          <textarea rows={3} value={prompt} onChange={(event) => setPrompt(event.target.value)} />
        </label>
        <div className="form-grid">
          <ModelSelect models={models} value={model} onChange={setModel} />
          <ImageOptions values={options} onChange={setOptions} />
        </div>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={call.busy || prompt.trim() === "" || model === "" || blocked !== null} title={blocked ?? undefined}>
            {call.busy ? "Generating…" : "Generate"}
          </button>
        </div>
      </form>
      <CallFacts state={call} />
      {result && (
        <div className="pg-gallery" role="group" aria-label="Generated images">
          <ImageResults items={result.answer.data} prompt={result.prompt} />
        </div>
      )}
    </section>
  );
}
