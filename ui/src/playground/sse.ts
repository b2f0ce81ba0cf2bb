/**
 * Server-sent events from a fetch response, as they arrive: each event's data (its `data:` lines joined).
 * Comments (`: ping`) and other fields are skipped. Both LF and CRLF separators are read: Xinference's
 * sse-starlette writes CRLF, OpenAI-compatible servers LF.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const stop = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", stop, { once: true });
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (signal.aborted) throw new DOMException("The stream was stopped", "AbortError");
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: RegExpExecArray | null;
      while ((end = /\r?\n\r?\n/.exec(buffer)) !== null) {
        const event = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        const data = dataOf(event);
        if (data !== null) yield data;
      }
    }
    const data = dataOf(buffer);
    if (data !== null) yield data;
  } finally {
    signal.removeEventListener("abort", stop);
    reader.releaseLock();
  }
}

function dataOf(event: string): string | null {
  const lines = event
    .split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
  return lines.length === 0 ? null : lines.join("\n");
}
