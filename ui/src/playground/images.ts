/** What /v1/images/generations and /v1/images/edits answer, and how an answered image is shown. */
export interface ImageItem {
  url?: string | null;
  b64_json?: string | null;
  revised_prompt?: string | null;
}

export interface ImageAnswer {
  created?: number;
  data: ImageItem[];
}

export type ResponseFormat = "b64_json" | "url";

export const SIZES = ["256x256", "512x512", "768x768", "1024x1024"] as const;

/** An `<img>` source: a hosted URL (the proxy's own, allowed by the CSP's img-src 'self'), or the bytes inline. */
export function imageSource(item: ImageItem): string | null {
  if (item.url) return item.url;
  if (!item.b64_json) return null;
  // Xinference answers JPEG, or PNG when the image has alpha; the first base64 characters tell them apart.
  const type = item.b64_json.startsWith("iVBOR") ? "image/png" : item.b64_json.startsWith("UklGR") ? "image/webp" : "image/jpeg";
  return `data:${type};base64,${item.b64_json}`;
}
