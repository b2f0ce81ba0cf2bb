/** Token counts, as OpenAI reports them on every completion kind. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details?: { reasoning_tokens?: number; [detail: string]: unknown } | null;
  prompt_tokens_details?: { cached_tokens?: number; [detail: string]: unknown } | null;
}
