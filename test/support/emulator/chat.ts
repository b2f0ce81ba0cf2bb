// POST /v1/chat/completions, with the checks in the order Xinference's create_chat_completion makes them:
// validation (text 500), `logit_bias` (501), empty `messages` (400), access, model lookup (404/503), tools on
// a family without tool calls (400), then the engine: request limit, model type, images, context window.
import { checkModelAccess } from "./auth.js";
import { specStr, toolCallFamilies } from "./catalog.js";
import type { LLMModelSpec } from "./catalog.js";
import type { Reply, RouteContext } from "./context.js";
import { detailError, engineError } from "./errors.js";
import type { HttpError } from "./errors.js";
import { imageSize } from "./image-encoding.js";
import {
  chatPromptTokens,
  countTokens,
  generate,
  imageTokens,
  planToolCall,
  reasoningDraft,
  pastEos,
  replyDraft,
  toolCallDraft,
} from "./llm-engine.js";
import type { ReplyInput, ToolCall } from "./llm-engine.js";
import { SAMPLING_RULES, dict, engineKwargs, includeUsage, llmWire, refuseLogitBias, runTurn, stopList, tokenBudget } from "./llm-route.js";
import type { ChatChoice, ChatTurn, ReasoningMode } from "./llm-wire.js";
import { pythonJsonLoads, pythonStrListRepr } from "./python.js";
import type { RunningModel } from "./registry.js";
import { field, int, jsonBodyOf, listOf, oneOf, optional, str, validateBody } from "./validate.js";

const RULES = {
  ...SAMPLING_RULES,
  messages: { check: listOf(dict), required: true },
  max_completion_tokens: { check: optional(int) },
  tools: { check: optional(listOf(dict)) },
  tool_choice: { check: optional(oneOf(str, dict)) },
};

/** Keys the route keeps from the engine's kwargs. */
const EXCLUDED = new Set(["prompt", "model", "n", "messages", "logit_bias", "logit_bias_type", "user", "max_completion_tokens"]);

interface Message {
  role?: unknown;
  content?: unknown;
}

export async function createChatCompletion(ctx: RouteContext): Promise<Reply> {
  const body = validateBody("CreateChatCompletion", jsonBodyOf(ctx.json), RULES);
  const templateKwargs = chatTemplateKwargs(body);
  const kwargs = engineKwargs(body, EXCLUDED);
  delete kwargs.enable_thinking;
  if (templateKwargs !== undefined) kwargs.chat_template_kwargs = templateKwargs;
  ctx.record.kwargs = kwargs;
  refuseLogitBias(ctx, body);

  const messages = body.messages as Message[];
  if (messages.length === 0) throw detailError(400, "Invalid input. Please specify the prompt.");
  const uid = body.model as string;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const tools = field<Record<string, unknown>[]>(body, "tools", []);
  const lastRole = messages[messages.length - 1]?.role;
  if (ctx.flavor === "xinference" && !isToolCallFamily(model)) {
    const families = `{${pythonStrListRepr(toolCallFamilies()).slice(1, -1)}}`;
    if (tools.length > 0) throw detailError(400, `Only ${families} support tool calls`);
    if (lastRole === "tool") throw detailError(400, `Only ${families} support tool messages`);
  }

  const wire = llmWire(ctx);
  const stream = field(body, "stream", false);
  return runTurn<ChatTurn>(ctx, {
    model,
    stream,
    framing: wire.framing,
    prepare: () => prepareTurn(ctx, model, body, messages, tools, templateKwargs),
    completionTokens: (turn) => Math.max(...turn.choices.map((c) => c.generation.completionTokens)),
    body: (turn) => wire.chatBody(turn),
    events: (turn) => wire.chatEvents(turn),
    failure: (message) => wire.failureEvents(message, "chat"),
  });
}

function isToolCallFamily(model: RunningModel): boolean {
  // The family Xinference checks is the description's model_family: a builtin LLM's name.
  return model.spec.model_type === "LLM" && toolCallFamilies().includes(model.spec.model_name);
}

/** `enable_thinking` (top level or in `extra_body`) moves into `chat_template_kwargs`, as the route does. */
function chatTemplateKwargs(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const extra = body.extra_body as Record<string, unknown> | undefined;
  const enable = body.enable_thinking ?? (typeof extra === "object" && extra !== null ? extra.enable_thinking : undefined);
  let given = body.chat_template_kwargs;
  if (typeof given === "string") {
    const parsed = pythonJsonLoads(given);
    given = parsed.ok ? parsed.value : {};
  }
  const base = typeof given === "object" && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : undefined;
  if (typeof enable !== "boolean") return base;
  return { ...base, enable_thinking: enable, thinking: enable };
}

async function prepareTurn(
  ctx: RouteContext,
  model: RunningModel,
  body: Record<string, unknown>,
  messages: Message[],
  tools: Record<string, unknown>[],
  templateKwargs: Record<string, unknown> | undefined,
): Promise<ChatTurn> {
  const spec = model.spec;
  if (spec.model_type !== "LLM" || !spec.model_ability.includes("chat")) {
    throw refuse(ctx, `Model ${specStr(spec)} is not for chat.`, `The model \`${model.uid}\` does not support Chat Completions API.`);
  }
  const read = await readMessages(messages, spec.model_ability.includes("vision"));
  const extraTokens = read.images.reduce((sum, size) => sum + imageTokens(size), 0) + (tools.length > 0 ? countTokens(JSON.stringify(tools)) : 0);
  const promptTokens = chatPromptTokens(read.texts, extraTokens);
  const maxTokens = field<number | null>(body, "max_completion_tokens", null) ?? field<number | null>(body, "max_tokens", null) ?? undefined;
  const budget = tokenBudget(ctx, spec.context_length, promptTokens, maxTokens);

  const reasoningModel = spec.model_ability.includes("reasoning");
  const reasoning = reasoningMode(ctx, model, spec, templateKwargs);
  // Xinference's vLLM engine drops `stop` for reasoning models (it would cut their thinking short).
  const stop = reasoningModel && ctx.flavor === "xinference" ? [] : stopList(body.stop);
  const n = ctx.flavor === "openai" ? field(body, "n", 1) : 1;
  const call = toolToCall(tools, body.tool_choice, read);
  const choices = Array.from({ length: Math.max(1, n) }, (_, k): ChatChoice => {
    const input: ReplyInput = { ...read, seedText: `${JSON.stringify(messages)}\u0000${String(body.seed ?? "")}\u0000${k}` };
    if (call !== undefined) {
      const generation = generate(toolCallDraft(call), budget, []);
      // A call cut short by max_tokens does not parse: the model's raw text is the answer.
      return { generation, toolCall: generation.finishReason === "length" ? undefined : call };
    }
    const draft = reasoningModel ? reasoningDraft(input) : replyDraft(input);
    return { generation: generate(body.ignore_eos === true ? pastEos(draft, budget, input.seedText) : draft, budget, stop), toolCall: undefined };
  });
  return { uid: model.uid, choices, promptTokens, toolsGiven: tools.length > 0, reasoning, includeUsage: includeUsage(body) };
}

function reasoningMode(
  ctx: RouteContext,
  model: RunningModel,
  spec: LLMModelSpec,
  templateKwargs: Record<string, unknown> | undefined,
): ReasoningMode {
  if (!spec.model_ability.includes("reasoning")) return "none";
  // A plain OpenAI-compatible server runs reasoning models with a reasoning parser.
  if (ctx.flavor === "openai") return "split";
  // Turning thinking off does not stop R1 from thinking; it only stops the parser from looking for it.
  if (templateKwargs?.enable_thinking === false) return "none";
  return model.reasoningContent ? "split" : "inline";
}

function refuse(ctx: RouteContext, xinference: string, openai: string): HttpError {
  return ctx.flavor === "xinference" ? engineError(xinference) : detailError(400, openai);
}

interface ReadMessages {
  /** Each message's text, as the chat template sees it. */
  texts: string[];
  userText: string;
  toolResult: string | undefined;
  images: ({ width: number; height: number } | undefined)[];
}

/**
 * Text models get a list `content` joined into one string (its image parts dropped); vision models decode
 * their images, failing like PIL on data that is no image. http(s) images are not fetched: their size is unknown.
 */
async function readMessages(messages: Message[], vision: boolean): Promise<ReadMessages> {
  const texts: string[] = [];
  const images: ReadMessages["images"] = [];
  let userText = "";
  for (const message of messages) {
    const content = message.content;
    let text = typeof content === "string" ? content : "";
    if (Array.isArray(content)) {
      const parts = content.filter((part): part is Record<string, unknown> => typeof part === "object" && part !== null);
      text = parts.map((part) => (typeof part.text === "string" ? part.text : "")).join(vision ? " " : "\n");
      if (vision) for (const part of parts) if (part.image_url !== undefined) images.push(await imageOf(part.image_url));
    }
    texts.push(text);
    if (message.role === "user") userText = text;
  }
  const last = messages[messages.length - 1];
  const toolResult = last?.role === "tool" ? (texts[texts.length - 1] ?? "") : undefined;
  return { texts, userText, toolResult, images };
}

async function imageOf(imageUrl: unknown): Promise<{ width: number; height: number } | undefined> {
  const url = typeof imageUrl === "string" ? imageUrl : typeof imageUrl === "object" && imageUrl !== null ? (imageUrl as { url?: unknown }).url : undefined;
  if (typeof url !== "string" || !url.startsWith("data:")) return undefined;
  // `_type, data = _url.split(";")`, then base64 after "base64,", then PIL.
  const parts = url.split(";");
  if (parts.length > 2) throw engineError("too many values to unpack (expected 2)");
  if (parts.length < 2) throw engineError("not enough values to unpack (expected 2, got 1)");
  return imageSize(Buffer.from((parts[1] as string).slice("base64,".length), "base64"));
}

/** The call the model makes, if any: none once a tool has answered, or with `tool_choice: "none"`. */
function toolToCall(tools: Record<string, unknown>[], toolChoice: unknown, read: ReadMessages): ToolCall | undefined {
  if (tools.length === 0 || read.toolResult !== undefined || toolChoice === "none") return undefined;
  const functions = tools.map((tool) => (tool.function ?? {}) as { name?: unknown; parameters?: unknown });
  const wanted = typeof toolChoice === "object" && toolChoice !== null ? (toolChoice as { function?: { name?: unknown } }).function?.name : undefined;
  const chosen = functions.find((f) => wanted !== undefined && f.name === wanted) ?? functions[0];
  const name = typeof chosen?.name === "string" ? chosen.name : "tool";
  return planToolCall(name, chosen?.parameters, read.userText);
}
