/**
 * The checks on a chat request's `messages`, as OpenAI's API makes them: roles, content as text or parts
 * (text, image_url, input_audio), the assistant's tool calls and the tool messages answering them. Each
 * failure is a 400 naming the message and field at fault. Also says what the messages need of the model
 * (images need vision), for the abilities check before anything is sent.
 */
import { BadRequestError } from "../errors.js";
import type { ChatCompletionMessageParam } from "../openai/chat.js";
import { isRecord } from "../providers/shape.js";

const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;
const PART_TYPES = ["text", "image_url", "input_audio"] as const;
const IMAGE_DETAILS: readonly unknown[] = ["auto", "low", "high"];
const AUDIO_FORMATS: readonly unknown[] = ["wav", "mp3"];

function fail(message: string, param: string): never {
  throw new BadRequestError(message, { param });
}

function text(value: unknown, param: string): void {
  if (typeof value !== "string") fail(`${param} must be a string.`, param);
}

function imageUrl(part: Record<string, unknown>, param: string): void {
  const image = part.image_url;
  const url = isRecord(image) ? image.url : undefined;
  if (typeof url !== "string" || !/^(https?:\/\/|data:image\/)/i.test(url)) {
    fail(
      `${param}.image_url.url must be an http(s) URL or a data URL such as "data:image/png;base64,iVBOR…", ` +
        'written as {"type": "image_url", "image_url": {"url": "..."}}.',
      `${param}.image_url.url`,
    );
  }
  if (isRecord(image) && image.detail !== undefined && !IMAGE_DETAILS.includes(image.detail)) {
    fail(`${param}.image_url.detail must be "auto", "low" or "high".`, `${param}.image_url.detail`);
  }
}

/** One content part; true when it is an image. */
function contentPart(part: unknown, param: string, allowed: readonly string[]): boolean {
  if (!isRecord(part) || typeof part.type !== "string" || !allowed.includes(part.type)) {
    fail(`${param} must be a content part with "type" one of ${allowed.map((t) => `"${t}"`).join(", ")}, e.g. {"type": "text", "text": "Hello"}.`, param);
  }
  if (part.type === "text") text(part.text, `${param}.text`);
  else if (part.type === "image_url") imageUrl(part, param);
  else {
    const audio = part.input_audio;
    if (!isRecord(audio) || typeof audio.data !== "string" || !AUDIO_FORMATS.includes(audio.format)) {
      fail(`${param}.input_audio must be {"data": "<base64>", "format": "wav" | "mp3"}.`, `${param}.input_audio`);
    }
  }
  return part.type === "image_url";
}

/** `content` as a string or a list of parts of the allowed types; true when it holds an image. */
function content(value: unknown, param: string, allowed: readonly string[]): boolean {
  if (typeof value === "string") return false;
  if (!Array.isArray(value)) {
    fail(`${param} must be a string or a list of content parts, e.g. [{"type": "text", "text": "Hello"}].`, param);
  }
  let image = false;
  value.forEach((part: unknown, i) => {
    if (contentPart(part, `${param}[${i}]`, allowed)) image = true;
  });
  return image;
}

function toolCalls(value: unknown, param: string): void {
  if (!Array.isArray(value)) fail(`${param} must be a list of tool calls.`, param);
  value.forEach((call: unknown, i) => {
    const at = `${param}[${i}]`;
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(call) || typeof call.id !== "string" || call.type !== "function" || !isRecord(fn)) {
      fail(`${at} must be {"id": "...", "type": "function", "function": {"name": "...", "arguments": "<JSON text>"}}.`, at);
    }
    text(fn.name, `${at}.function.name`);
    if (typeof fn.arguments !== "string") fail(`${at}.function.arguments must be a string (the arguments as JSON text).`, `${at}.function.arguments`);
  });
}

function message(value: unknown, i: number): boolean {
  const at = `messages[${i}]`;
  if (!isRecord(value)) fail(`${at} must be an object such as {"role": "user", "content": "Hello"}.`, at);
  const role = value.role;
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
    fail(`${at}.role must be one of ${ROLES.map((r) => `"${r}"`).join(", ")}${role === undefined ? "" : `, not ${JSON.stringify(role)}`}.`, `${at}.role`);
  }
  if (value.name !== undefined && value.name !== null) text(value.name, `${at}.name`);
  if (role === "user") return content(value.content, `${at}.content`, PART_TYPES);
  if (role === "assistant") {
    const calls = value.tool_calls;
    if (calls !== undefined && calls !== null) toolCalls(calls, `${at}.tool_calls`);
    if (value.content === undefined || value.content === null) {
      if (calls === undefined || calls === null) fail(`${at} (an assistant message) needs content or tool_calls.`, `${at}.content`);
      return false;
    }
    return content(value.content, `${at}.content`, ["text"]);
  }
  if (role === "tool" && typeof value.tool_call_id !== "string") {
    fail(`${at} (a tool message) needs tool_call_id: the id of the assistant's tool call it answers.`, `${at}.tool_call_id`);
  }
  return content(value.content, `${at}.content`, ["text"]);
}

/** The messages checked, and whether any holds an image. */
export function chatMessages(value: unknown): { messages: ChatCompletionMessageParam[]; hasImages: boolean } {
  if (!Array.isArray(value) || value.length === 0) {
    fail('messages is required: a non-empty list such as [{"role": "user", "content": "Hello"}].', "messages");
  }
  let hasImages = false;
  value.forEach((item: unknown, i) => {
    if (message(item, i)) hasImages = true;
  });
  return { messages: value as ChatCompletionMessageParam[], hasImages };
}
