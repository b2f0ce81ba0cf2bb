/**
 * The budgets' Lua scripts: each runs atomically in Redis, so that every instance checks and reserves
 * against one count. They follow memory.ts rule for rule.
 *
 * Per scope there are two keys, both expiring after `idle` without use (an idle scope falls back to its
 * row's spend, which by then has everything):
 * - a hash: `period` (the end of the period counted, in ms; '' without one), `spend` (settled by every
 *   instance since the count began), `reserved` (the estimates of the requests in flight), `h:<hold>`,
 *   each request's estimate, and `q:<instance>`, the last settle each instance sent that it took;
 * - a sorted set of leases (member: the hold, score: when its lease runs out). A hold whose lease is not
 *   renewed — its instance died — gives its estimate back when the lease runs out.
 *
 * A count begins from what the instance that begins it knows (its row's spend and what it settled since);
 * it begins again when a new period starts, and after `forget` deletes it.
 * Amounts go back as strings: Redis would turn a Lua number into an integer.
 */
import type { Result } from "ioredis";

/** Drops the leases that ran out, and their estimates; with no lease left, nothing is reserved. */
const EXPIRE_LEASES = `
local function expireLeases(hash, leases, now)
  local gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  local freed = 0
  for j = 1, #gone do
    local field = 'h:' .. gone[j]
    freed = freed + (tonumber(redis.call('HGET', hash, field)) or 0)
    redis.call('HDEL', hash, field)
  end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', leases, '-inf', now) end
  if redis.call('ZCARD', leases) == 0 then
    if redis.call('HEXISTS', hash, 'reserved') == 1 then redis.call('HSET', hash, 'reserved', 0) end
  elseif freed > 0 then
    redis.call('HINCRBYFLOAT', hash, 'reserved', -freed)
  end
end

local function amount(x)
  return string.format('%.17g', x)
end
`;

/**
 * Checks every scope, and reserves the estimate on all of them or none.
 * KEYS: per scope, its hash and its leases. ARGV: now, lease ms, idle ms, hold, estimate; then per scope the
 * period ('' none), the spend to begin a count from, max_budget.
 * Returns {admitted, the refused scope's index (0: none)}, then each scope's spend and reserved, as they
 * were before this request.
 */
export const RESERVE = `${EXPIRE_LEASES}
local now = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local idleMs = tonumber(ARGV[3])
local hold = ARGV[4]
local estimate = tonumber(ARGV[5])
local scopes = #KEYS / 2
local reply = { 1, 0 }

for i = 1, scopes do
  local hash, leases = KEYS[2 * i - 1], KEYS[2 * i]
  local base = 5 + (i - 1) * 3
  local period, from, max = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3])
  expireLeases(hash, leases, now)
  local counted = redis.call('HGET', hash, 'period')
  -- A caller whose row is behind (its period still runs for it) keeps the newer count.
  local behind = counted and counted ~= '' and period ~= '' and tonumber(period) < tonumber(counted)
  if counted ~= period and not behind then redis.call('HSET', hash, 'period', period, 'spend', from) end
  local spend = tonumber(redis.call('HGET', hash, 'spend')) or 0
  local reserved = tonumber(redis.call('HGET', hash, 'reserved')) or 0
  if reply[2] == 0 and spend + reserved >= max then
    reply[1] = 0
    reply[2] = i
  end
  reply[#reply + 1] = amount(spend)
  reply[#reply + 1] = amount(reserved)
  redis.call('PEXPIRE', hash, idleMs)
  redis.call('PEXPIRE', leases, idleMs)
end

if reply[1] == 1 then
  for i = 1, scopes do
    local hash, leases = KEYS[2 * i - 1], KEYS[2 * i]
    redis.call('HSET', hash, 'h:' .. hold, amount(estimate))
    redis.call('HINCRBYFLOAT', hash, 'reserved', estimate)
    redis.call('ZADD', leases, now + leaseMs, hold)
    redis.call('PEXPIRE', leases, idleMs)
  end
end
return reply
`;

/**
 * Ends a hold: drops its estimate, and adds its cost to each count still there (a count that is gone begins
 * again from what its instance knows, which has this cost). With hold '' it only adds a cost: spend settled
 * while Redis was away.
 * A settle is sent again when its first sending failed, and a command that timed out may still have run: so
 * each count keeps, per instance, the sequence number of the last settle it took (`q:<instance>`), and
 * takes none at or below it. An instance sends its settles in sequence, on one connection, in order.
 * KEYS: per scope, its hash and its leases. ARGV: idle ms, hold, cost ('': the request was never served),
 * instance, sequence.
 */
export const SETTLE = `
local idleMs = tonumber(ARGV[1])
local hold = ARGV[2]
local cost = ARGV[3]
local mark = 'q:' .. ARGV[4]
local sequence = tonumber(ARGV[5])

for i = 1, #KEYS / 2 do
  local hash, leases = KEYS[2 * i - 1], KEYS[2 * i]
  local estimate = redis.call('HGET', hash, 'h:' .. hold)
  if estimate then
    redis.call('HDEL', hash, 'h:' .. hold)
    redis.call('ZREM', leases, hold)
    if redis.call('ZCARD', leases) == 0 then
      redis.call('HSET', hash, 'reserved', 0)
    else
      redis.call('HINCRBYFLOAT', hash, 'reserved', -tonumber(estimate))
    end
  end
  if redis.call('HEXISTS', hash, 'period') == 1 then
    if sequence > (tonumber(redis.call('HGET', hash, mark)) or 0) then
      if cost ~= '' then redis.call('HINCRBYFLOAT', hash, 'spend', cost) end
      redis.call('HSET', hash, mark, sequence)
    end
    redis.call('PEXPIRE', hash, idleMs)
    redis.call('PEXPIRE', leases, idleMs)
  end
end
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    xgateBudgetReserve(numberOfKeys: number, ...args: (string | number)[]): Result<(number | string)[], Context>;
    xgateBudgetSettle(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
