/**
 * A request's tokens guessed before it is sent, for limits that reserve tokens until the upstream says what
 * was used (the proxy's `tpm`): about four characters a token for text — the usual rule of thumb, and only a
 * reservation, replaced by the real count when the answer comes — and the count itself for token ids.
 */
const CHARACTERS_PER_TOKEN = 4;

export function textTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

/** Embedding inputs: texts, or token-id arrays. */
export function inputTokens(items: readonly string[] | readonly (readonly number[])[]): number {
  let total = 0;
  for (const item of items) total += typeof item === "string" ? textTokens(item) : item.length;
  return total;
}
