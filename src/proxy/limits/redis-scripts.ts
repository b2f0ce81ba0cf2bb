/**
 * The limiter's Lua scripts: each runs atomically in Redis, so that every instance admits against one count.
 * They follow window.ts and memory.ts rule for rule (the same contract tests run on both).
 *
 * Per scope there are two keys: a hash of buckets (`r:<bucket>` requests, `t:<bucket>` tokens), expiring a
 * bucket after the span, and a sorted set of parallel slots (member: the ticket, score: when its lease runs
 * out). A slot whose lease is not renewed — its instance died — stops counting when the lease runs out.
 * "No limit" is passed as -1, since 0 is a limit (it refuses everything).
 */
import type { Result } from "ioredis";

/** The parts every script shares: the span's bounds and reading a scope's window. */
const WINDOW_HELPERS = `
local now = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local current = math.floor(now / bucketMs)
local oldest = current - span + 1

local function window(key, prune)
  local fields = redis.call('HGETALL', key)
  local requests, tokens, stale = {}, {}, {}
  local r, t = 0, 0
  for j = 1, #fields, 2 do
    local bucket = tonumber(string.sub(fields[j], 3))
    local value = tonumber(fields[j + 1])
    if bucket < oldest then
      stale[#stale + 1] = fields[j]
    elseif string.sub(fields[j], 1, 1) == 'r' then
      requests[bucket] = value
      r = r + value
    else
      tokens[bucket] = value
      t = t + value
    end
  end
  if prune and #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return requests, r, tokens, t
end
`;

/**
 * Admits a request against every scope, or none.
 * KEYS: per scope, its window hash and its slots set. ARGV: now, bucket ms, span buckets, lease ms, ticket,
 * parallel retry ms; then per scope rpm, tpm, tokens to reserve, max parallel.
 * Returns {admitted, scope index, limit (1 rpm, 2 tpm, 3 parallel), used, retry after ms (-1: never)}, then
 * each scope's requests, tokens, parallel — after admission, or as they were when refused.
 */
export const ADMIT = `${WINDOW_HELPERS}
local leaseMs = tonumber(ARGV[4])
local ticket = ARGV[5]
local parallelRetryMs = tonumber(ARGV[6])
local scopes = #KEYS / 2
local counts = {}
local worst = nil

local function freesIn(buckets, excess)
  local freed = 0
  for bucket = oldest, current do
    freed = freed + (buckets[bucket] or 0)
    if freed >= excess then return (bucket + span) * bucketMs - now end
  end
  return -1
end

local function consider(index, limit, used, wait)
  local weight = wait
  if wait < 0 then weight = math.huge end
  if worst == nil or weight > worst.weight then
    worst = { index = index, limit = limit, used = used, wait = wait, weight = weight }
  end
end

for i = 1, scopes do
  local base = 6 + (i - 1) * 4
  local rpm, tpm = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  local reserve, parallel = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local requests, r, tokens, t = window(KEYS[2 * i - 1], true)
  local p = 0
  if parallel >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
    p = redis.call('ZCARD', KEYS[2 * i])
  end
  counts[i] = { r, t, p }
  if rpm >= 0 and r + 1 > rpm then consider(i, 1, r, freesIn(requests, r + 1 - rpm)) end
  if tpm >= 0 and t + reserve > tpm then consider(i, 2, t, freesIn(tokens, t + reserve - tpm)) end
  if parallel >= 0 and p + 1 > parallel then
    local wait = -1
    if parallel >= 1 then wait = parallelRetryMs end
    consider(i, 3, p, wait)
  end
end

local reply
if worst ~= nil then
  reply = { 0, worst.index, worst.limit, worst.used, worst.wait }
else
  reply = { 1, 0, 0, 0, 0 }
  for i = 1, scopes do
    local base = 6 + (i - 1) * 4
    local rpm, reserve, parallel = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
    local win = KEYS[2 * i - 1]
    if rpm >= 0 then
      redis.call('HINCRBY', win, 'r:' .. current, 1)
      counts[i][1] = counts[i][1] + 1
    end
    if reserve > 0 then
      redis.call('HINCRBY', win, 't:' .. current, reserve)
      counts[i][2] = counts[i][2] + reserve
    end
    if rpm >= 0 or reserve > 0 then redis.call('PEXPIRE', win, (span + 1) * bucketMs) end
    if parallel >= 0 then
      redis.call('ZADD', KEYS[2 * i], now + leaseMs, ticket)
      redis.call('PEXPIRE', KEYS[2 * i], leaseMs)
      counts[i][3] = counts[i][3] + 1
    end
  end
end
for i = 1, scopes do
  reply[#reply + 1] = counts[i][1]
  reply[#reply + 1] = counts[i][2]
  reply[#reply + 1] = counts[i][3]
end
return reply
`;

/**
 * Ends a ticket: corrects its bucket's counts and gives back its slots. A correction to a bucket that has
 * left the span goes to the current one if it adds (tokens used by a long request), and is dropped if it
 * takes away (nothing of it is counted any more).
 * KEYS: per scope, window hash and slots set. ARGV: now, bucket ms, span buckets, ticket, its bucket; then
 * per scope the requests to add, the tokens to add, and 1 when it holds a slot there.
 */
export const SETTLE = `${WINDOW_HELPERS}
local ticket = ARGV[4]
local bucket = tonumber(ARGV[5])

local function adjust(key, kind, delta)
  if delta == 0 then return end
  local target = bucket
  if bucket < oldest then
    if delta < 0 then return end
    target = current
  end
  local field = kind .. ':' .. target
  if redis.call('HINCRBY', key, field, delta) <= 0 then redis.call('HDEL', key, field) end
  redis.call('PEXPIRE', key, (span + 1) * bucketMs)
end

for i = 1, #KEYS / 2 do
  local base = 5 + (i - 1) * 3
  adjust(KEYS[2 * i - 1], 'r', tonumber(ARGV[base + 1]))
  adjust(KEYS[2 * i - 1], 't', tonumber(ARGV[base + 2]))
  if ARGV[base + 3] == '1' then redis.call('ZREM', KEYS[2 * i], ticket) end
end
return 1
`;

/**
 * What each scope has counted now, without changing anything.
 * KEYS: per scope, window hash and slots set. ARGV: now, bucket ms, span buckets.
 * Returns each scope's requests, tokens, live slots.
 */
export const USAGE = `${WINDOW_HELPERS}
local reply = {}
for i = 1, #KEYS / 2 do
  local _, r, _, t = window(KEYS[2 * i - 1], false)
  reply[#reply + 1] = r
  reply[#reply + 1] = t
  reply[#reply + 1] = redis.call('ZCOUNT', KEYS[2 * i], '(' .. now, '+inf')
end
return reply
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    xgateLimitAdmit(numberOfKeys: number, ...args: (string | number)[]): Result<number[], Context>;
    xgateLimitSettle(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>;
    xgateLimitUsage(numberOfKeys: number, ...args: (string | number)[]): Result<number[], Context>;
  }
}
