/**
 * Image edit: upload an image, paint the area to change, POST /v1/images/edits (multipart: image, mask and the
 * fields), and the original, the mask and the results side by side. Without paint the edit goes without a
 * mask (image-to-image); with it, the mask is encoded as mask-png.ts says.
 */
import { type ChangeEvent, type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { CallFacts } from "./CallFacts";
import { useCall } from "./call";
import { type ImageAnswer } from "./images";
import { ImageOptions, type ImageOptionValues } from "./ImageOptions";
import { ImageResults } from "./ImageResults";
import { MaskCanvas } from "./MaskCanvas";
import { maskPng } from "./mask-png";
import { ModelSelect } from "./ModelSelect";
import type { TabProps } from "./models";

interface Upload {
  file: File;
  src: string;
  width: number;
  height: number;
  name: string;
}

interface Result {
  prompt: string;
  original: string;
  mask: string | null;
  answer: ImageAnswer;
}

/** The image's size, read by the browser (which also says when the file is no image it can show). */
function loadUpload(file: File): Promise<Upload> {
  const src = URL.createObjectURL(file);
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve({ file, src, width: img.naturalWidth, height: img.naturalHeight, name: file.name });
    img.onerror = () => {
      URL.revokeObjectURL(src);
      reject(new Error(`${file.name} is not an image this browser can show: use a PNG, JPEG or WebP file.`));
    };
    img.src = src;
  });
}

async function maskOf(canvas: HTMLCanvasElement): Promise<Blob> {
  const context = canvas.getContext("2d");
  if (!context) throw new Error("This browser gave no canvas to read the mask from.");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  // Anti-aliased brush edges are half painted: painted from half opacity up.
  return maskPng(canvas.width, canvas.height, (i) => (pixels[i * 4 + 3] ?? 0) >= 128);
}

export function ImageEdit({ models, apiKey, blocked }: TabProps) {
  const [model, setModel] = useState("");
  const [prompt, setPrompt] = useState("A red sailing boat on the water");
  const [options, setOptions] = useState<ImageOptionValues>({ size: "original", n: 1, format: "b64_json" });
  const { size, n, format } = options;
  const [upload, setUpload] = useState<Upload | null>(null);
  const [uploadError, setUploadError] = useState<unknown>(null);
  const [painted, setPainted] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const call = useCall();
  const onPaintedChange = useCallback((value: boolean) => setPainted(value), []);

  // Object URLs hold their file in memory until revoked.
  useEffect(() => () => void (upload && URL.revokeObjectURL(upload.src)), [upload]);
  useEffect(() => () => void (result?.mask && URL.revokeObjectURL(result.mask)), [result]);

  const choose = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    setUploadError(null);
    if (!file) return;
    // A result shows the upload it was made from, whose URL goes with it.
    setResult(null);
    try {
      setUpload(await loadUpload(file));
    } catch (error) {
      setUploadError(error);
    }
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!upload || !canvas.current) return;
    const sent = prompt.trim();
    const mask = painted ? await maskOf(canvas.current) : null;
    const form = new FormData();
    form.append("model", model);
    form.append("prompt", sent);
    form.append("n", String(n));
    form.append("size", size);
    form.append("response_format", format);
    form.append("image", upload.file, upload.file.name);
    if (mask) form.append("mask", mask, "mask.png");
    const answer = await call.run("/v1/images/edits", { key: apiKey, body: form }, (response) => response.json() as Promise<ImageAnswer>);
    if (answer) setResult({ prompt: sent, original: upload.src, mask: mask ? URL.createObjectURL(mask) : null, answer });
  };

  const editModels = painted ? models.filter((m) => m.abilities.size === 0 || m.abilities.has("inpainting")) : models.filter((m) => m.abilities.size === 0 || m.abilities.has("image2image"));

  return (
    <section className="card card-body pg-form" aria-labelledby="pg-edit">
      <h2 id="pg-edit">Edit</h2>
      <form onSubmit={(event) => void submit(event)} className="pg-form">
        <label className="field">
          <span>Image to edit</span>
          <input type="file" accept="image/png,image/jpeg,image/webp" onChange={(event) => void choose(event)} />
        </label>
        {uploadError !== null && <CallFacts state={{ busy: false, error: uploadError, report: null }} />}
        {upload && (
          <>
            <MaskCanvas image={upload} canvasRef={canvas} onPaintedChange={onPaintedChange} />
            <p className="field-hint muted">{painted ? "The painted area is edited (inpainting); the rest is kept." : "Nothing painted: the whole image is reworked (image-to-image)."}</p>
          </>
        )}
        <label className="field">
          <span>Edit prompt</span>
          <textarea rows={2} value={prompt} onChange={(event) => setPrompt(event.target.value)} />
        </label>
        <div className="form-grid">
          <ModelSelect models={editModels} value={model} onChange={setModel} />
          <ImageOptions values={options} onChange={setOptions} allowOriginal />
        </div>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={call.busy || !upload || prompt.trim() === "" || model === "" || blocked !== null} title={blocked ?? undefined}>
            {call.busy ? "Editing…" : "Edit image"}
          </button>
        </div>
      </form>
      <CallFacts state={call} />
      {result && (
        <div className="pg-gallery" role="group" aria-label="Edit: original, mask and results">
          <figure className="pg-figure">
            <img src={result.original} alt="The original image" />
            <figcaption>Original</figcaption>
          </figure>
          {result.mask && (
            <figure className="pg-figure pg-checker">
              <img src={result.mask} alt="The mask sent: transparent where the image is edited" data-testid="sent-mask" />
              <figcaption>Mask (transparent: edited)</figcaption>
            </figure>
          )}
          <ImageResults items={result.answer.data} prompt={result.prompt} />
        </div>
      )}
    </section>
  );
}
