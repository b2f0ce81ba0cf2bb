/** The Images tab: generation and edit, side by side when the page is wide enough. */
import { ImageEdit } from "./ImageEdit";
import { ImageGenerate } from "./ImageGenerate";
import { modelsOfKind, type TabProps } from "./models";

export function Images({ models, apiKey, blocked }: TabProps) {
  const images = modelsOfKind(models, "image");
  return (
    <div className="pg-panel">
      <ImageGenerate models={images.filter((m) => m.abilities.size === 0 || m.abilities.has("text2image"))} apiKey={apiKey} blocked={blocked} />
      <ImageEdit models={images} apiKey={apiKey} blocked={blocked} />
    </div>
  );
}
