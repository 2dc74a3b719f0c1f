/**
 * Atomic state transitions (Lua, run by Redis in one step): a view moves between states and the
 * per-state counters move with it, and the finalize decision is taken in the same step — so two
 * views finishing at the same moment can never both (or neither) trigger the finalize.
 * Lua only moves strings: JSON is never decoded here (cjson would round numbers to 14 digits).
 *
 * KEYS: 1 dataset hash, 2 view states, 3 counts, 4 errors list, 5 view specs, 6 view results,
 *       7 view errors, 8 views waiting for an outage to end.
 */

const FINALIZE_CHECK = `
local function maybe_finalize(now)
  if redis.call('HGET', KEYS[1], 'finalizeRequested') ~= '1' then return -1 end
  local status = redis.call('HGET', KEYS[1], 'status')
  if status == 'finalizing' then return -1 end
  local queued = tonumber(redis.call('HGET', KEYS[3], 'queued') or '0')
  local running = tonumber(redis.call('HGET', KEYS[3], 'running') or '0')
  if queued > 0 or running > 0 then return -1 end
  if status == 'complete' and redis.call('HGET', KEYS[1], 'dirty') ~= '1' then return -1 end
  local gen = redis.call('HINCRBY', KEYS[1], 'generation', 1)
  redis.call('HSET', KEYS[1], 'status', 'finalizing', 'dirty', '0', 'updatedAt', now)
  return gen
end
`;

/**
 * ARGV: viewKey, spec json, now, reopen ('1': a batch re-run may add views to a finalized dataset).
 * Returns {'OK', previous state ('' or 'failed')} or {refusal, state}.
 */
export const ADD_VIEW = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'NO_DATASET', ''} end
if status == 'finalizing' then return {'FINALIZED', status} end
if redis.call('HGET', KEYS[1], 'finalizeRequested') == '1' and ARGV[4] ~= '1' then return {'FINALIZED', status} end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state and state ~= 'failed' then return {'DUPLICATE', state} end
if state == 'failed' then redis.call('HINCRBY', KEYS[3], 'failed', -1) end
local previous = state or ''
redis.call('HSET', KEYS[2], ARGV[1], 'queued')
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'queued', 1)
redis.call('HSET', KEYS[1], 'status', 'writing', 'dirty', '1', 'updatedAt', ARGV[3])
return {'OK', previous}
`;

/** ARGV: viewKey, now. queued -> running (a retried job finds it running already). */
export const START_VIEW = `
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return 'NO_VIEW' end
if state == 'done' then return 'DONE' end
if state == 'failed' then return 'FAILED' end
if state == 'queued' then
  redis.call('HINCRBY', KEYS[3], 'queued', -1)
  redis.call('HINCRBY', KEYS[3], 'running', 1)
  redis.call('HSET', KEYS[2], ARGV[1], 'running')
end
return 'OK'
`;

/** ARGV: viewKey, now, result json. Returns the finalize generation, -1 (not now) or -2 (no view). */
export const COMPLETE_VIEW = `${FINALIZE_CHECK}
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return -2 end
if state == 'done' then return -1 end
redis.call('HINCRBY', KEYS[3], state, -1)
redis.call('HINCRBY', KEYS[3], 'done', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'done')
redis.call('HSET', KEYS[6], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
return maybe_finalize(ARGV[2])
`;

/** ARGV: viewKey, now, reason. A view that will not be retried: it becomes a MissingView. */
export const FAIL_VIEW = `${FINALIZE_CHECK}
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return -2 end
if state == 'done' or state == 'failed' then return -1 end
redis.call('HINCRBY', KEYS[3], state, -1)
redis.call('HINCRBY', KEYS[3], 'failed', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'failed')
redis.call('HSET', KEYS[7], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[1] .. ': ' .. ARGV[3])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
return maybe_finalize(ARGV[2])
`;

/** ARGV: now, options json. Returns the finalize generation, -1 (later) or -3 (no dataset). */
export const REQUEST_FINALIZE = `${FINALIZE_CHECK}
if not redis.call('HGET', KEYS[1], 'status') then return -3 end
redis.call('HSET', KEYS[1], 'finalizeRequested', '1', 'finalizeOptions', ARGV[2], 'updatedAt', ARGV[1])
return maybe_finalize(ARGV[1])
`;

/** ARGV: generation, now, files json. Only the finalize of the current generation may complete. */
export const COMPLETE_FINALIZE = `
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'complete', 'files', ARGV[3], 'updatedAt', ARGV[2])
return 1
`;

/** ARGV: generation, now, reason. */
export const FAIL_FINALIZE = `
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'failed', 'updatedAt', ARGV[2])
redis.call('RPUSH', KEYS[4], 'finalize: ' .. ARGV[3])
return 1
`;
