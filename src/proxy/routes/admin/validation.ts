/**
 * What the admin routes accept: one zod schema per request body and query, with LiteLLM's field names, and
 * the one place that turns a refusal into a 400 naming the field and how to fix it. Every field carries its
 * help text (in `fieldHelp`), so that a message says what the field takes rather than what zod expected.
 *
 * Bodies are strict: a field xgate does not know is refused, since a silently dropped setting is a limit that
 * is not there. The exceptions are the LiteLLM fields in IGNORED_LITELLM_FIELDS, which scripts written for
 * LiteLLM commonly send and whose absence weakens nothing; they are dropped, and the answer names them in
 * the `x-xgate-ignored-fields` header.
 */
import { z } from "zod";
import { BadRequestError } from "../../../errors.js";
import type { CacheControlName } from "../../cache/index.js";
import { DURATION_HELP, parseDuration } from "../../duration.js";
import { looksLikeVirtualKey } from "../../keys/tokens.js";
import { SPEND_REPORT_GROUPINGS } from "../../store/index.js";

/** How a field is described when it is refused. */
interface FieldHelp {
  /** What the field takes, as the end of "<field> must be …". */
  help: string;
  /** The error code; `invalid_field` by default. */
  code?: string;
  /** The value is a key: never quoted back. */
  secret?: boolean;
}

const fieldHelp = z.registry<FieldHelp>();

/**
 * LiteLLM fields accepted and ignored, and why ignoring each is harmless. Scripts written for LiteLLM's proxy
 * send them as a matter of course; refusing them would break those scripts for nothing.
 */
export const IGNORED_LITELLM_FIELDS: Readonly<Record<string, string>> = {
  user_id: "xgate has no internal users: a key belongs to the operator or to its team",
  tags: "spend tracking by tag and tag-based routing are not implemented; tags change no limit",
  permissions: "the only permission LiteLLM has (turning PII masking off) concerns a feature xgate lacks",
  config: "deprecated in LiteLLM itself",
  send_invite_email: "xgate sends no email",
  members_with_roles: "xgate has no internal users to add to a team",
};

/**
 * LiteLLM fields refused with a reason of their own: each sets a limit or a restriction xgate does not
 * enforce, so ignoring it would hand out more than was asked for.
 */
const REFUSED_LITELLM_FIELDS: ReadonlySet<string> = new Set([
  "model_max_budget",
  "model_rpm_limit",
  "model_tpm_limit",
  "allowed_routes",
  "allowed_passthrough_routes",
  "guardrails",
  "policies",
  "key_type",
  "enforced_params",
  "object_permission",
  "organization_id",
  "budget_id",
  "blocked",
  "rpm_limit_type",
  "tpm_limit_type",
  "temp_budget_increase",
  "temp_budget_expiry",
]);

const CACHE_CONTROL_NAMES = ["no-cache", "no-store", "ttl", "namespace"] as const satisfies readonly CacheControlName[];

function described<T extends z.ZodType>(schema: T, help: FieldHelp): T {
  fieldHelp.add(schema as z.ZodType, help);
  return schema;
}

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

const HASH = /^[0-9a-f]{64}$/;
/** A key value xgate could take as a header: `sk-` and printable ASCII without spaces. */
const CUSTOM_KEY = /^sk-[\x21-\x7e]+$/;
const MAX_TEXT = 256;

const text = z.string().min(1).max(MAX_TEXT);
const count = z.int().min(0);
const money = z.number().min(0);
const duration = z.string().trim().refine(isDuration);
const time = z.iso.datetime({ offset: true });
const keyReference = z.string().refine((value) => looksLikeVirtualKey(value) || HASH.test(value));

const REFERENCE_HELP = "the key (sk-…) or its hash (the token: 64 lowercase hex characters)";

/** The fields a key's settings have, on generate, update and regenerate alike. */
const keySettings = {
  key_alias: described(text.nullable().optional(), { help: `a name of your own for the key (1 to ${MAX_TEXT} characters, unique among keys), or null for none` }),
  models: described(z.array(text).optional(), { help: 'a list of the model names the key may use, such as ["embed", "rerank"]; an empty list allows every model' }),
  aliases: described(z.record(text, text).optional(), { help: 'an object mapping a model name clients ask for to the model group they get, such as {"small": "embed"}' }),
  metadata: described(z.record(z.string(), z.unknown()).optional(), { help: 'a JSON object of your own, such as {"owner": "ops"}' }),
  max_budget: described(money.nullable().optional(), { help: "the most the key may spend, in USD (0 or more), or null for no budget" }),
  soft_budget: described(money.nullable().optional(), { help: "a spend in USD (0 or more) to be warned about, or null for none" }),
  budget_duration: described(duration.nullable().optional(), { help: `the time after which the budget starts again, ${DURATION_HELP}; or null for a budget that never resets`, code: "invalid_duration" }),
  rpm_limit: described(count.nullable().optional(), { help: "a whole number of requests per minute (0 or more), or null for no limit" }),
  tpm_limit: described(count.nullable().optional(), { help: "a whole number of tokens per minute (0 or more), or null for no limit" }),
  max_parallel_requests: described(count.nullable().optional(), { help: "a whole number of requests at once (0 or more), or null for no limit" }),
  duration: described(duration.nullable().optional(), { help: `the time the key works from now, ${DURATION_HELP}; or null for a key that never expires`, code: "invalid_duration" }),
  expires: described(time.nullable().optional(), { help: "the time the key stops working, an ISO 8601 time with its zone such as 2030-01-31T00:00:00Z; or null for never", code: "invalid_expires" }),
  team_id: described(text.nullable().optional(), { help: "the team_id of an existing team (see POST /team/new), or null for none" }),
  blocked: described(z.boolean().optional(), { help: "true (the key is refused) or false" }),
  allowed_cache_controls: described(z.array(z.enum(CACHE_CONTROL_NAMES)).optional(), {
    help: 'a list of the cache controls the key may send, out of "no-cache", "no-store", "ttl" and "namespace"; an empty list allows them all',
  }),
};

const spend = described(money.optional(), { help: "the key's spend so far in USD (0 or more); 0 starts it again" });
const requiredReference = described(keyReference, { help: REFERENCE_HELP, code: "invalid_key", secret: true });
const gracePeriod = described(duration.optional(), { help: `the time the old key keeps working, ${DURATION_HELP}`, code: "invalid_duration" });
const customKey = (name: string) =>
  described(z.string().max(MAX_TEXT).regex(CUSTOM_KEY).optional(), {
    help: `a key of your own that starts with sk- (printable characters without spaces, at most ${MAX_TEXT}), or leave ${name} out to get a generated one`,
    code: "invalid_key",
    secret: true,
  });

export const generateKeyBody = z.strictObject({ ...keySettings, key: customKey("key") });

export const updateKeyBody = z.strictObject({ key: requiredReference, ...keySettings, spend });

/** `POST /key/regenerate`; `POST /key/:key/regenerate` takes the same without `key`. */
export const regenerateKeyBody = z.strictObject({ key: requiredReference, new_key: customKey("new_key"), grace_period: gracePeriod, ...keySettings, spend });
export const regenerateKeyPathBody = regenerateKeyBody.omit({ key: true });
export const keyPathParams = z.strictObject({ key: requiredReference });

export const blockKeyBody = z.strictObject({ key: requiredReference });

export const deleteKeysBody = z.strictObject({
  keys: described(z.array(keyReference).max(1000).optional(), { help: `a list of keys to delete, each ${REFERENCE_HELP}`, code: "invalid_key", secret: true }),
  key_aliases: described(z.array(text).max(1000).optional(), { help: "a list of the key_alias values of the keys to delete" }),
});

const teamSettings = {
  team_alias: described(text.nullable().optional(), { help: `a name of your own for the team (1 to ${MAX_TEXT} characters), or null for none` }),
  models: described(z.array(text).optional(), { help: "a list of the model names the team's keys may use; an empty list allows every model" }),
  metadata: keySettings.metadata,
  max_budget: described(money.nullable().optional(), { help: "the most the team's keys may spend together, in USD (0 or more), or null for no budget" }),
  budget_duration: keySettings.budget_duration,
  rpm_limit: described(count.nullable().optional(), { help: "a whole number of requests per minute for the team's keys together (0 or more), or null for no limit" }),
  tpm_limit: described(count.nullable().optional(), { help: "a whole number of tokens per minute for the team's keys together (0 or more), or null for no limit" }),
  max_parallel_requests: described(count.nullable().optional(), { help: "a whole number of requests at once for the team's keys together (0 or more), or null for no limit" }),
};

const teamId = described(text, { help: `the team's id (1 to ${MAX_TEXT} characters)` });

export const newTeamBody = z.strictObject({
  team_id: described(text.optional(), { help: `an id of your own for the team (1 to ${MAX_TEXT} characters), or leave it out to get a generated one` }),
  ...teamSettings,
});

export const updateTeamBody = z.strictObject({
  team_id: teamId,
  ...teamSettings,
  spend: described(money.optional(), { help: "the team's spend so far in USD (0 or more); 0 starts it again" }),
});

export const deleteTeamsBody = z.strictObject({
  team_ids: described(z.array(text).min(1).max(1000), { help: 'a non-empty list of team ids, such as ["team-a"]' }),
});

/** Query values arrive as text: `?page=2`, `?return_full_object=true`. */
const flag = z.enum(["true", "false"]).transform((value) => value === "true");
const page = described(z.coerce.number().pipe(z.int().min(1)).default(1), { help: "a page number, from 1" });
const pageSize = (fallback: number, most: number) =>
  described(z.coerce.number().pipe(z.int().min(1).max(most)).default(fallback), { help: `a whole number of items per page, from 1 to ${most} (default ${fallback})` });
/** A UTC day, or an exact time: `2025-03-01`, `2025-03-01T12:00:00Z`. */
const dateOrTime = z.union([z.iso.date(), time]);
const DATE_HELP = "a UTC day such as 2025-03-01 (the whole day counts), or an ISO 8601 time with its zone such as 2025-03-01T12:00:00Z";

export const keyInfoQuery = z.strictObject({ key: described(keyReference.optional(), { help: REFERENCE_HELP, code: "invalid_key", secret: true }) });

export const keyListQuery = z.strictObject({
  page,
  size: pageSize(10, 100),
  key_alias: described(text.optional(), { help: "a key_alias: only the key that has it" }),
  team_id: described(text.optional(), { help: "a team_id: only the team's keys" }),
  search: described(text.optional(), { help: "text to find, in any case, in the keys' alias, name (sk-...abcd) or team_id" }),
  return_full_object: described(flag.default(false), { help: "true (whole keys) or false (their tokens, the default)" }),
});

export const teamInfoQuery = z.strictObject({ team_id: teamId });

export const spendLogsQuery = z.strictObject({
  api_key: described(keyReference.optional(), { help: `the key whose requests to show: ${REFERENCE_HELP}`, code: "invalid_key", secret: true }),
  request_id: described(text.optional(), { help: "a request's id (its x-request-id)" }),
  model: described(text.optional(), { help: "a model name as clients asked for it" }),
  start_date: described(dateOrTime.optional(), { help: DATE_HELP, code: "invalid_date" }),
  end_date: described(dateOrTime.optional(), { help: DATE_HELP, code: "invalid_date" }),
  summarize: described(flag.default(true), { help: "true (per-day totals, when both dates are given; the default) or false (the rows)" }),
  page,
  size: pageSize(100, 1000),
});

/** For routes that take no query parameters (`/team/list`, `/global/spend`). */
export const noQuery = z.strictObject({});

export const spendReportQuery = z.strictObject({
  start_date: described(dateOrTime, { help: DATE_HELP, code: "invalid_date" }),
  end_date: described(dateOrTime, { help: DATE_HELP, code: "invalid_date" }),
  group_by: described(z.enum(SPEND_REPORT_GROUPINGS).default("team"), { help: `one of ${SPEND_REPORT_GROUPINGS.join(", ")} (default team)` }),
});

const range = {
  start_date: described(dateOrTime, { help: DATE_HELP, code: "invalid_date" }),
  end_date: described(dateOrTime, { help: DATE_HELP, code: "invalid_date" }),
};
const interval = described(z.enum(["hour", "day"]).default("day"), { help: "hour or day (the default): the length of each entry in daily_data" });
const topLimit = described(z.coerce.number().pipe(z.int().min(1).max(100)).default(10), { help: "a whole number of entries, from 1 to 100 (default 10)" });

export const activityQuery = z.strictObject({ ...range, interval });

export const modelActivityQuery = z.strictObject({ ...range, interval, limit: topLimit });

/** `/global/spend/keys` and `/global/spend/models`: the last 30 days unless both dates are given. */
export const topSpendQuery = z.strictObject({ start_date: range.start_date.optional(), end_date: range.end_date.optional(), limit: topLimit });

export interface ParsedBody<T> {
  value: T;
  /** The IGNORED_LITELLM_FIELDS the body had, dropped. */
  ignored: string[];
}

type Shape = Readonly<Record<string, z.ZodType>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `models[2]`, `aliases.small`: where in the body the refused value is. */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => {
      if (typeof part === "number") return `[${part}]`;
      const name = String(part);
      if (i === 0) return name;
      return /^[A-Za-z_][\w-]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
    })
    .join("");
}

function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function unknownFields(names: readonly string[], shape: Shape, route: string, where: string): BadRequestError {
  const [first] = names;
  const refused = names.find((name) => REFUSED_LITELLM_FIELDS.has(name));
  const reason = refused
    ? ` xgate does not implement LiteLLM's ${refused}: ignoring it would drop a limit or restriction you asked for, so it is refused.`
    : "";
  return new BadRequestError(
    `${route} has no ${where} ${names.map((name) => `'${name}'`).join(", ")}: remove it.${reason} It takes ${Object.keys(shape).join(", ")}.`,
    { code: "unknown_field", param: first ?? null },
  );
}

/** The 400 for the first thing zod refused, in words of the field's own help. */
function refusal(error: z.ZodError, input: Record<string, unknown>, shape: Shape, route: string, where: string): BadRequestError {
  // A misspelt name is the likeliest mistake, and explains the others: it is named first.
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  if (issue?.code === "unrecognized_keys") return unknownFields(issue.keys, shape, route, where);
  const field = String(issue?.path[0] ?? "");
  const schema = shape[field];
  const help = schema ? fieldHelp.get(schema) : undefined;
  const what = help?.help ?? "a valid value";
  if (input[field] === undefined) {
    return new BadRequestError(`${route} needs ${field}: ${what}.`, { code: "missing_field", param: field });
  }
  const param = pathText(issue?.path ?? [field]);
  const got = help?.secret ? "" : `; got ${shown(input[field])}`;
  return new BadRequestError(`${param === field ? field : `${param} (in ${field})`} must be ${what}${got}.`, {
    code: help?.code ?? "invalid_field",
    param,
  });
}

/**
 * Checks a JSON body against `schema`; an absent body is an empty object (for routes whose fields are all
 * optional). Throws BadRequestError naming the field and the fix.
 */
export function parseBody<S extends z.ZodObject>(schema: S, body: unknown, route: string): ParsedBody<z.output<S>> {
  const input = body === undefined ? {} : body;
  if (!isPlainObject(input)) {
    // Not quoted back: a body that is a bare string may well be a key.
    const got = Array.isArray(input) ? "an array" : input === null ? "null" : `a ${typeof input}`;
    throw new BadRequestError(`${route} takes a JSON object in its body, such as {"${Object.keys(schema.shape)[0] ?? "key"}": ...}; got ${got}.`, {
      code: "invalid_body",
    });
  }
  const ignored = Object.keys(input).filter((name) => name in IGNORED_LITELLM_FIELDS && !(name in schema.shape));
  const kept = ignored.length === 0 ? input : Object.fromEntries(Object.entries(input).filter(([name]) => !ignored.includes(name)));
  const result = schema.safeParse(kept);
  if (!result.success) throw refusal(result.error, kept, schema.shape, route, "field");
  return { value: result.data, ignored };
}

function parseNamed<S extends z.ZodObject>(schema: S, values: unknown, route: string, where: string): z.output<S> {
  const input = isPlainObject(values) ? values : {};
  const result = schema.safeParse(input);
  if (!result.success) throw refusal(result.error, input, schema.shape, route, where);
  return result.data;
}

/** Checks a query string (Fastify's parsed object: text, or arrays of it when a name repeats) against `schema`. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown, route: string): z.output<S> {
  return parseNamed(schema, query, route, "query parameter");
}

/** Checks a route's path parameters (`/key/:key/regenerate`). */
export function parseParams<S extends z.ZodObject>(schema: S, params: unknown, route: string): z.output<S> {
  return parseNamed(schema, params, route, "path parameter");
}
