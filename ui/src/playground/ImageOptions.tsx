/** The options an image generation and an image edit share: size, how many, and how the images come back. */
import { type ResponseFormat, SIZES } from "./images";

export interface ImageOptionValues {
  size: string;
  n: number;
  format: ResponseFormat;
}

interface Props {
  values: ImageOptionValues;
  onChange(values: ImageOptionValues): void;
  /** An edit may keep the uploaded image's size (`original`). */
  allowOriginal?: boolean;
}

export function ImageOptions({ values, onChange, allowOriginal = false }: Props) {
  const set = (change: Partial<ImageOptionValues>): void => onChange({ ...values, ...change });
  return (
    <>
      <label className="field">
        <span>Size</span>
        <select value={values.size} onChange={(event) => set({ size: event.target.value })}>
          {allowOriginal && <option value="original">As uploaded</option>}
          {SIZES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Number of images</span>
        <input type="number" min={1} max={4} value={values.n} onChange={(event) => set({ n: Math.min(4, Math.max(1, Number(event.target.value) || 1)) })} />
      </label>
      <label className="field">
        <span>Answer as</span>
        <select value={values.format} onChange={(event) => set({ format: event.target.value as ResponseFormat })}>
          <option value="b64_json">b64_json (inline)</option>
          <option value="url">url (hosted by the proxy)</option>
        </select>
      </label>
    </>
  );
}
