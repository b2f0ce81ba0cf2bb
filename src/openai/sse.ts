/**
 * Server-sent events, both ways. Reading follows the HTML standard's parser: lines end in CRLF, LF or CR
 * (sse-starlette, which Xinference streams with, uses CRLF), a blank line ends an event, `data:` lines join
 * with LF, lines starting with `:` are comments (keep-alive pings), one space after the colon is dropped.
 * Writing uses LF, as OpenAI does, and what OpenAI's clients expect.
 */

export interface SseEvent {
  /** The `event:` field; undefined for the default `message` events OpenAI streams are made of. */
  event: string | undefined;
  /** The `data:` lines, joined with LF. */
  data: string;
}

const LF = 0x0a;

/** An incremental parser: feed it the body as it arrives, take the events each piece completes. */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  /** Text of a line not yet ended. */
  private partial = "";
  /** The last piece ended in CR: an LF starting the next one belongs to that line ending. */
  private pendingCr = false;
  private data: string[] = [];
  private event: string | undefined;
  private first = true;

  /** The events that this piece of the body completes, in order. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.charCodeAt(0) === LF) text = text.slice(1);
    this.pendingCr = false;
    const events: SseEvent[] = [];
    let start = 0;
    // indexOf rather than a loop over characters: event data is most of the text, and has no line breaks.
    let lf = text.indexOf("\n");
    let cr = text.indexOf("\r");
    while (lf >= 0 || cr >= 0) {
      const end = cr < 0 || (lf >= 0 && lf < cr) ? lf : cr;
      this.line(this.partial + text.slice(start, end), events);
      this.partial = "";
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.pendingCr = true;
        else if (text.charCodeAt(start) === LF) start++;
      }
      if (lf >= 0 && lf < start) lf = text.indexOf("\n", start);
      if (cr >= 0 && cr < start) cr = text.indexOf("\r", start);
    }
    this.partial += text.slice(start);
    return events;
  }

  /**
   * The body ended: an event still open is dispatched, although the standard drops it, since some servers end
   * their last event without the blank line.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    if (rest !== "") this.line(rest, events);
    this.dispatch(events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return; // ":" starts a comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length > 0) events.push({ event: this.event, data: this.data.join("\n") });
    this.data = [];
    this.event = undefined;
  }
}

/** One event whose data is `data` (a JSON text, typically), framed with LF. */
export function sseData(data: string): string {
  return data.includes("\n") ? `${data.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n` : `data: ${data}\n\n`;
}

/** A comment line, which clients ignore: what keeps an idle stream alive through load balancers. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** The event that ends an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/** The data of the event that ends an OpenAI stream. */
export const DONE_DATA = "[DONE]";
