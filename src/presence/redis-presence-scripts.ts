/**
 * The Lua scripts behind `RedisPresence`, one per operation. Each runs
 * atomically on the channel's four keys (all in one hash slot):
 * KEYS[1] info HASH (client id → ClientInfo JSON), KEYS[2] expiry ZSET
 * (client id → expiry time, ms), KEYS[3] users HASH (user → live
 * connections), KEYS[4] version HASH (`base`, `n`: a token that changes
 * whenever the set of users changes, so a node can keep the set it last read).
 * ARGV[1] is always the caller's clock, in ms.
 */

/** Shared by every script: expired entries are dropped before anything is read or written. */
const PRELUDE = `
local now = ARGV[1]
local function bump()
  if redis.call('exists', KEYS[4]) == 0 then
    -- A new token base from the server's clock: a version key that expired
    -- and came back never repeats a token a node may still hold.
    local t = redis.call('time')
    redis.call('hset', KEYS[4], 'base', string.format('%s%06d', t[1], tonumber(t[2])))
    local keep = redis.call('pttl', KEYS[1])
    if keep > 0 then redis.call('pexpire', KEYS[4], keep) end
  end
  redis.call('hincrby', KEYS[4], 'n', 1)
end
local function hold(user)
  if redis.call('hincrby', KEYS[3], user, 1) == 1 then bump() end
end
local function release(user)
  if redis.call('hincrby', KEYS[3], user, -1) <= 0 then
    redis.call('hdel', KEYS[3], user)
    bump()
  end
end
local function drop(client)
  local info = redis.call('hget', KEYS[1], client)
  if info then
    release(cjson.decode(info).user)
    redis.call('hdel', KEYS[1], client)
  end
end
local function expire()
  local dead = redis.call('zrangebyscore', KEYS[2], '-inf', now)
  for _, client in ipairs(dead) do drop(client) end
  if #dead > 0 then redis.call('zremrangebyscore', KEYS[2], '-inf', now) end
end
local function tidy()
  -- An empty channel leaves nothing behind (the other keys vanish with their last field).
  if redis.call('hlen', KEYS[1]) == 0 then redis.call('del', KEYS[4]) end
end
`;

/**
 * ARGV: now, client, user, info JSON, expiry time, ttl ms, ledger member.
 * With a fifth key (the adding node's ledger SET), the entry is recorded
 * there too, and the ledger lives as long as the node's longest-lived entry.
 */
export const ADD = `${PRELUDE}
expire()
local client, user = ARGV[2], ARGV[3]
local previous = redis.call('hget', KEYS[1], client)
if not previous then
  hold(user)
else
  local old = cjson.decode(previous).user
  if old ~= user then release(old); hold(user) end
end
redis.call('hset', KEYS[1], client, ARGV[4])
redis.call('zadd', KEYS[2], ARGV[5], client)
-- Every key lives as long as the longest-lived entry may, so an abandoned channel goes away.
local keep = math.max(tonumber(ARGV[6]), redis.call('pttl', KEYS[1]))
for i = 1, 4 do redis.call('pexpire', KEYS[i], keep) end
if KEYS[5] then
  redis.call('sadd', KEYS[5], ARGV[7])
  redis.call('pexpire', KEYS[5], math.max(tonumber(ARGV[6]), redis.call('pttl', KEYS[5])))
end
return 1
`;

/** ARGV: now, client, ledger member (with a fifth key, the removing node's ledger SET). */
export const REMOVE = `${PRELUDE}
expire()
drop(ARGV[2])
if KEYS[5] then redis.call('srem', KEYS[5], ARGV[3]) end
redis.call('zrem', KEYS[2], ARGV[2])
tidy()
return 1
`;

/** ARGV: now. Replies a flat array client, info, client, info… */
export const GET = `${PRELUDE}
expire()
tidy()
return redis.call('hgetall', KEYS[1])
`;

/** ARGV: now. Replies {clients, users}. */
export const STATS = `${PRELUDE}
expire()
tidy()
return {redis.call('hlen', KEYS[1]), redis.call('hlen', KEYS[3])}
`;

/**
 * ARGV: now, the version token the caller holds ('' for none). Replies {}
 * when nobody is present, {token} when the caller's set is current, and
 * {token, users} when it is not.
 */
export const USERS = `${PRELUDE}
expire()
tidy()
local version = redis.call('hmget', KEYS[4], 'base', 'n')
if not version[1] then return {} end
local token = version[1] .. ':' .. (version[2] or '0')
if token == ARGV[2] then return {token} end
return {token, redis.call('hkeys', KEYS[3])}
`;

/**
 * The ledger's scripts work on keys outside one channel's hash slot, so
 * they need a single Redis (not Redis Cluster).
 * ENTRIES: KEYS[1] a node's ledger SET; ARGV[1] the key prefix. Replies a
 * flat array channel, info JSON… for the recorded entries still present.
 */
export const LEDGER_ENTRIES = `
local out = {}
for _, member in ipairs(redis.call('smembers', KEYS[1])) do
  local entry = cjson.decode(member)
  local info = redis.call('hget', ARGV[1] .. '{' .. entry[1] .. '}:info', entry[2])
  if info then
    out[#out + 1] = entry[1]
    out[#out + 1] = info
  end
end
return out
`;

/** KEYS[1] the claim key; ARGV[1] the claimant, ARGV[2] ms. Replies 1 to the one caller that got it. */
export const LEDGER_CLAIM = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

/** KEYS[1] a node's ledger SET; ARGV the members to drop from it. */
export const LEDGER_FORGET = `return redis.call('srem', KEYS[1], unpack(ARGV))`;
