/**
 * Chat: a conversation with a system prompt, streamed from /v1/chat/completions (`stream: true`, read as
 * server-sent events), tokens shown as they arrive; Stop aborts the request, and what had arrived stays.
 */
import { type FormEvent, useRef, useState } from "react";
import { ApiError } from "../api";
import { CallFacts } from "./CallFacts";
import { useCall } from "./call";
import { ModelSelect } from "./ModelSelect";
import type { TabProps } from "./models";
import { sseData } from "./sse";

interface Message {
  role: "user" | "assistant";
  content: string;
  /** Why it ended before its end: the operator stopped it, or the call failed (its error is shown). */
  cut?: "stopped" | "failed";
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

interface Chunk {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }>;
  usage?: Usage | null;
  error?: { message?: string; code?: string; type?: string } | string;
}

/** A failure reported inside the stream, after its 200. */
function streamError(error: NonNullable<Chunk["error"]>): ApiError {
  if (typeof error === "string") return new ApiError(200, error);
  return new ApiError(200, error.message ?? "The stream reported an error.", error.type ?? null, error.code ?? null);
}

const numberOrUndefined = (text: string): number | undefined => (text.trim() === "" ? undefined : Number(text));

export function Chat({ models, apiKey, blocked }: TabProps) {
  const [model, setModel] = useState("");
  const [system, setSystem] = useState("You are a helpful assistant. Answer briefly.");
  const [temperature, setTemperature] = useState("0.7");
  const [maxTokens, setMaxTokens] = useState("256");
  const [messages, setMessages] = useState<Message[]>([]);
  const [streaming, setStreaming] = useState<Message | null>(null);
  const [draft, setDraft] = useState("");
  const [usage, setUsage] = useState<Usage | null>(null);
  const call = useCall();
  const stopping = useRef(false);

  const stop = (): void => {
    stopping.current = true;
    call.stop();
  };

  const send = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const text = draft.trim();
    if (text === "" || call.busy) return;
    const history: Message[] = [...messages, { role: "user", content: text }];
    setMessages(history);
    setDraft("");
    setUsage(null);
    stopping.current = false;
    const reply: Message = { role: "assistant", content: "" };
    setStreaming({ ...reply });
    const body = {
      model,
      stream: true,
      stream_options: { include_usage: true },
      temperature: numberOrUndefined(temperature),
      max_tokens: numberOrUndefined(maxTokens),
      messages: [...(system.trim() === "" ? [] : [{ role: "system", content: system.trim() }]), ...history.map(({ role, content }) => ({ role, content }))],
    };
    const finished = await call.run("/v1/chat/completions", { key: apiKey, body }, async (response, signal, mark) => {
      if (!response.body) throw new ApiError(response.status, "The proxy answered without a body.");
      for await (const data of sseData(response.body, signal)) {
        if (data === "[DONE]") break;
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error) throw streamError(chunk.error);
        if (chunk.usage) setUsage(chunk.usage);
        const piece = chunk.choices?.[0]?.delta?.content ?? "";
        if (piece !== "") {
          mark.firstToken();
          reply.content += piece;
          setStreaming({ ...reply });
        }
      }
      return true;
    });
    // Stopped or failed: what had arrived stays in the conversation, marked.
    if (finished !== true) reply.cut = stopping.current ? "stopped" : "failed";
    setStreaming(null);
    if (reply.content !== "" || finished === true) setMessages((current) => [...current, { ...reply }]);
  };

  const shown = streaming ? [...messages, streaming] : messages;
  return (
    <div className="pg-panel pg-chat">
      <form className="card card-body pg-form" onSubmit={(event) => void send(event)}>
        <div className="form-grid">
          <ModelSelect models={models} value={model} onChange={setModel} />
          <label className="field">
            <span>Temperature</span>
            <input type="number" min={0} max={2} step={0.1} value={temperature} onChange={(event) => setTemperature(event.target.value)} />
          </label>
          <label className="field">
            <span>Max tokens</span>
            <input type="number" min={1} step={1} value={maxTokens} onChange={(event) => setMaxTokens(event.target.value)} placeholder="model default" />
          </label>
        </div>
        <label className="field">
          <span>System prompt</span>
          <textarea rows={2} value={system} onChange={(event) => setSystem(event.target.value)} />
        </label>
        <div className="pg-conversation" role="log" aria-label="Conversation" aria-live="polite" aria-busy={streaming !== null}>
          {shown.length === 0 && <p className="muted">Write a message below; the answer streams in as the model writes it.</p>}
          {shown.map((message, i) => (
            <div key={i} className={`pg-message ${message.role}`} data-testid={`message-${message.role}`}>
              <span className="pg-message-role">{message.role === "user" ? "You" : "Assistant"}</span>
              <p>
                {message.content}
                {message === streaming && <span className="pg-caret" aria-hidden="true" />}
              </p>
              {message.cut && <span className={message.cut === "stopped" ? "badge warn" : "badge bad"}>{message.cut}</span>}
            </div>
          ))}
        </div>
        <label className="field">
          <span>Message</span>
          <textarea
            rows={2}
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              // Enter sends, Shift+Enter starts a new line, as chat boxes do.
              if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
              }
            }}
            aria-describedby="pg-chat-hint"
          />
          <span className="field-hint" id="pg-chat-hint">
            Enter sends; Shift+Enter for a new line.
          </span>
        </label>
        <div className="form-actions">
          <button type="button" className="button" onClick={() => setMessages([])} disabled={call.busy || messages.length === 0}>
            Clear conversation
          </button>
          {call.busy ? (
            <button type="button" className="button danger" onClick={stop}>
              Stop
            </button>
          ) : (
            <button type="submit" className="button primary" disabled={draft.trim() === "" || model === "" || blocked !== null} title={blocked ?? undefined}>
              Send
            </button>
          )}
        </div>
        {usage && (
          <p className="muted" data-testid="usage">
            Tokens: {usage.prompt_tokens ?? "?"} in, {usage.completion_tokens ?? "?"} out
          </p>
        )}
        <CallFacts state={call} />
      </form>
    </div>
  );
}
