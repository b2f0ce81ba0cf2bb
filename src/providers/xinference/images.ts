/** Xinference's size syntax, which its image generation and edits share. */
import type { ImageSize } from "../types.js";

/** Xinference writes sizes as `1024*1024`. */
export function xinferenceSize(size: ImageSize): string {
  return `${size.width}*${size.height}`;
}
