/**
 * LiteLLM's `/key/*` routes: generate, info, update, delete, list, regenerate, block and unblock, with its
 * fields and answers. A key's value is answered once, by the route that made it (generate, regenerate), and
 * never again: every other answer names a key by its hash (`token`).
 */
import type { z } from "zod";
import { BadRequestError, NotFoundError, PermissionDeniedError } from "../../../errors.js";
import { addDuration, parseDuration } from "../../duration.js";
import { generateKey, hashKey, keyName } from "../../keys/tokens.js";
import type { KeyChanges, KeyRecord } from "../../store/index.js";
import { type AdminContext, type AdminRoute, readBody, readParams, readQuery, refusingConflicts } from "./context.js";
import { describeKey, findKey, keyNotFound, requireTeam, tokenOf } from "./lookups.js";
import {
  blockKeyBody,
  deleteKeysBody,
  generateKeyBody,
  keyInfoQuery,
  keyListQuery,
  keyPathParams,
  regenerateKeyBody,
  regenerateKeyPathBody,
  updateKeyBody,
} from "./validation.js";

/** How many missing keys a message names. */
const MAX_NAMED = 10;

/** The settings a key's generate, update and regenerate bodies share. */
type KeySettings = Omit<z.output<typeof generateKeyBody>, "key">;

function expiryIn(duration: string | null, now: Date): Date | null {
  return duration === null ? null : addDuration(now, parseDuration(duration));
}

function expiryAt(expires: string | null, now: Date): Date | null {
  if (expires === null) return null;
  const at = new Date(expires);
  if (at <= now) {
    throw new BadRequestError(`expires (${expires}) is not in the future: give a later time, or null for a key that never expires.`, {
      code: "invalid_expires",
      param: "expires",
    });
  }
  return at;
}

/** The store's changes for a body's settings; `duration` and `expires` both say when the key expires. */
function keyChanges(settings: KeySettings, now: Date): KeyChanges {
  const { duration, expires, ...fields } = settings;
  if (duration !== undefined && expires !== undefined) {
    throw new BadRequestError("Give duration (how long from now) or expires (a time), not both: they both set when the key expires.", {
      code: "invalid_expires",
      param: "expires",
    });
  }
  return {
    ...fields,
    ...(duration !== undefined && { expires: expiryIn(duration, now) }),
    ...(expires !== undefined && { expires: expiryAt(expires, now) }),
  };
}

const generate: AdminRoute = {
  method: "POST",
  url: "/key/generate",
  access: "master",
  async handle(ctx, request, reply) {
    const { key: chosen, ...settings } = readBody(request, reply, generateKeyBody);
    const changes = keyChanges(settings, ctx.now());
    await requireTeam(ctx, settings.team_id);
    const key = chosen ?? generateKey();
    refuseMasterKey(ctx, key, "key");
    const record = await refusingConflicts(() => ctx.store.keys.create({ ...changes, token: hashKey(key), key_name: keyName(key) }));
    ctx.notifier.keysChanged([record.token]);
    // The one answer that holds the key itself.
    return { key, ...record };
  },
};

/**
 * A caller-chosen key may not be the master key: requests with it would be the master's (it is checked first),
 * and the key's own limits and budget would never apply.
 */
function refuseMasterKey(ctx: AdminContext, key: string, param: string): void {
  if (!ctx.isMasterKey(key)) return;
  throw new BadRequestError(`${param} is the proxy's master key: choose another value starting with sk-, or leave ${param} out to get a generated key.`, {
    code: "invalid_key",
    param,
  });
}

const isKey = (key: KeyRecord | undefined): key is KeyRecord => key !== undefined;

function notOwnKey(): PermissionDeniedError {
  return new PermissionDeniedError(
    "A virtual key may read only its own info: call GET /key/info without key (or with your own key), or use the proxy's master key.",
    { code: "admin_only", param: "key" },
  );
}

/** A virtual key reading its own info: the row as it is now, not as the key cache holds it. */
async function ownKeyInfo(ctx: AdminContext, own: KeyRecord, reference: string | undefined): Promise<unknown> {
  if (reference !== undefined && (await ctx.store.keys.findByToken(tokenOf(reference)))?.token !== own.token) throw notOwnKey();
  const record = await ctx.store.keys.findByToken(own.token);
  if (!record) throw keyNotFound(own.token);
  return { key: record.token, info: record };
}

const info: AdminRoute = {
  method: "GET",
  url: "/key/info",
  access: "own-key",
  async handle(ctx, request) {
    const { key: reference } = readQuery(request, keyInfoQuery);
    const principal = request.principal;
    if (principal?.kind === "virtual") return ownKeyInfo(ctx, principal.key.record, reference);
    if (reference === undefined) {
      throw new BadRequestError("GET /key/info needs key: the key (sk-…) or its hash, as ?key=…; the master key has no info of its own.", {
        code: "missing_field",
        param: "key",
      });
    }
    const record = await findKey(ctx, reference);
    return { key: record.token, info: record };
  },
};

const update: AdminRoute = {
  method: "POST",
  url: "/key/update",
  access: "master",
  async handle(ctx, request, reply) {
    const { key: reference, spend, ...settings } = readBody(request, reply, updateKeyBody);
    const changes = keyChanges(settings, ctx.now());
    const current = await findKey(ctx, reference);
    await requireTeam(ctx, settings.team_id);
    const updated = await refusingConflicts(() => ctx.store.keys.update(current.token, { ...changes, ...(spend !== undefined && { spend }) }));
    if (!updated) throw keyNotFound(reference);
    ctx.notifier.keysChanged([updated.token]);
    return { key: updated.token, ...updated };
  },
};

const remove: AdminRoute = {
  method: "POST",
  url: "/key/delete",
  access: "master",
  async handle(ctx, request, reply) {
    const { keys = [], key_aliases: aliases = [] } = readBody(request, reply, deleteKeysBody);
    if (keys.length === 0 && aliases.length === 0) {
      throw new BadRequestError('POST /key/delete needs keys (a list of keys or their hashes) or key_aliases (a list of aliases), such as {"keys": ["sk-…"]}.', {
        code: "missing_field",
        param: "keys",
      });
    }
    const byKey = await Promise.all(keys.map((reference) => ctx.store.keys.findByToken(tokenOf(reference))));
    const byAlias = await Promise.all(aliases.map(async (alias) => (await ctx.store.keys.list({ page: 1, size: 1 }, { key_alias: alias })).items[0]));
    // All or nothing: a list with a mistake in it deletes nothing, so that it can be corrected and sent again.
    const missing = [
      ...keys.filter((_, i) => byKey[i] === undefined).map(describeKey),
      ...aliases.filter((_, i) => byAlias[i] === undefined).map((alias) => `with key_alias '${alias}'`),
    ];
    if (missing.length > 0) {
      const listed = missing.length > MAX_NAMED ? [...missing.slice(0, MAX_NAMED), `and ${missing.length - MAX_NAMED} more`] : missing;
      throw new NotFoundError(`No key ${listed.join(", ")}: nothing was deleted. Check the list against GET /key/list and send it again.`, {
        code: "key_not_found",
        param: byKey.includes(undefined) ? "keys" : "key_aliases",
      });
    }
    const named = byKey.filter(isKey);
    const aliased = byAlias.filter(isKey);
    const deleted = await ctx.store.keys.delete({ tokens: [...new Set([...named, ...aliased].map((key) => key.token))] });
    ctx.notifier.keysChanged(deleted.map((key) => key.token));
    // As LiteLLM answers, what was asked for, but keys by their hash: the request may have held their values.
    return { deleted_keys: [...named.map((key) => key.token), ...aliases] };
  },
};

const list: AdminRoute = {
  method: "GET",
  url: "/key/list",
  access: "master",
  async handle(ctx, request) {
    const query = readQuery(request, keyListQuery);
    const filter = {
      ...(query.key_alias !== undefined && { key_alias: query.key_alias }),
      ...(query.team_id !== undefined && { team_id: query.team_id }),
      ...(query.search !== undefined && { search: query.search }),
    };
    const { items, total } = await ctx.store.keys.list({ page: query.page, size: query.size }, filter);
    return {
      keys: query.return_full_object ? items : items.map((key) => key.token),
      total_count: total,
      current_page: query.page,
      total_pages: Math.ceil(total / query.size),
    };
  },
};

type Regeneration = z.output<typeof regenerateKeyPathBody>;

/** A new value for the key named by `reference`, its limits and spend kept, with any changes the body asks for. */
async function regenerate(ctx: AdminContext, reference: string, body: Regeneration): Promise<unknown> {
  const { new_key: chosen, grace_period: grace, spend, ...settings } = body;
  const now = ctx.now();
  const changes = keyChanges(settings, now);
  const current = await findKey(ctx, reference);
  await requireTeam(ctx, settings.team_id);
  const key = chosen ?? generateKey();
  refuseMasterKey(ctx, key, "new_key");
  const regenerated = await refusingConflicts(
    () =>
      ctx.store.keys.regenerate(current.token, {
        token: hashKey(key),
        key_name: keyName(key),
        ...(grace !== undefined && { graceUntil: addDuration(now, parseDuration(grace)) }),
        changes: { ...changes, ...(spend !== undefined && { spend }) },
      }),
    "new_key",
  );
  if (!regenerated) throw keyNotFound(reference);
  ctx.notifier.keysChanged([current.token, regenerated.token]);
  // The one answer that holds the new value.
  return { key, ...regenerated };
}

const regenerateByBody: AdminRoute = {
  method: "POST",
  url: "/key/regenerate",
  access: "master",
  async handle(ctx, request, reply) {
    const { key: reference, ...body } = readBody(request, reply, regenerateKeyBody);
    return regenerate(ctx, reference, body);
  },
};

const regenerateByPath: AdminRoute = {
  method: "POST",
  url: "/key/:key/regenerate",
  access: "master",
  async handle(ctx, request, reply) {
    const { key: reference } = readParams(request, keyPathParams);
    return regenerate(ctx, reference, readBody(request, reply, regenerateKeyPathBody));
  },
};

function blocking(url: string, blocked: boolean): AdminRoute {
  return {
    method: "POST",
    url,
    access: "master",
    async handle(ctx, request, reply) {
      const { key: reference } = readBody(request, reply, blockKeyBody);
      const current = await findKey(ctx, reference);
      const updated = await ctx.store.keys.update(current.token, { blocked });
      if (!updated) throw keyNotFound(reference);
      ctx.notifier.keysChanged([updated.token]);
      return updated;
    },
  };
}

export const KEY_ROUTES: readonly AdminRoute[] = [
  generate,
  info,
  update,
  remove,
  list,
  regenerateByBody,
  regenerateByPath,
  blocking("/key/block", true),
  blocking("/key/unblock", false),
];
