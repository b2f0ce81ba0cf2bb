/** Cosine similarity of every pair of vectors: an N×N matrix, 1 on the diagonal (for non-zero vectors). */
export function cosineMatrix(vectors: ReadonlyArray<readonly number[]>): number[][] {
  const norms = vectors.map((v) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0)));
  return vectors.map((a, i) =>
    vectors.map((b, j) => {
      const denominator = (norms[i] ?? 0) * (norms[j] ?? 0);
      if (denominator === 0) return 0;
      let dot = 0;
      for (let k = 0; k < Math.min(a.length, b.length); k++) dot += (a[k] ?? 0) * (b[k] ?? 0);
      return dot / denominator;
    }),
  );
}

/** Two decimals, never "-0.00". */
export function formatSimilarity(value: number): string {
  const text = value.toFixed(2);
  return text === "-0.00" ? "0.00" : text;
}
