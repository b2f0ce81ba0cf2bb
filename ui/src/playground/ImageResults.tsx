/** The images an answer holds, each with a link to open it at full size. */
import { type ImageItem, imageSource } from "./images";

export function ImageResults({ items, prompt }: { items: readonly ImageItem[]; prompt: string }) {
  return (
    <>
      {items.map((item, i) => {
        const src = imageSource(item);
        return (
          <figure className="pg-figure" key={i}>
            {src ? <img src={src} alt={`Result ${i + 1} of ${items.length} for “${prompt}”`} data-testid="result-image" /> : <p className="muted">No image in this item.</p>}
            <figcaption>
              Result {i + 1}
              {item.revised_prompt ? ` · ${item.revised_prompt}` : ""}
            </figcaption>
          </figure>
        );
      })}
    </>
  );
}
