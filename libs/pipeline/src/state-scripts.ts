import { FINALIZE_WAITING_KEY } from './state-model.js';

/**
 * Atomic state transitions (Lua, run by Redis in one step): a view moves between states and the
 * per-state counters move with it, and the finalize decision is taken in the same step — so two
 * views finishing at the same moment can never both (or neither) trigger the finalize.
 * Lua only moves strings: JSON is never decoded here (cjson would round numbers to 14 digits).
 *
 * KEYS: 1 dataset hash, 2 view states, 3 counts, 4 errors list, 5 view specs, 6 view results,
 *       7 view errors, 8 views waiting for an outage to end, 9 dataset names (name -> id),
 *       10 the cluster's counters behind /metrics (moved by the transition they count, only).
 */

/** A dataset being cancelled (or cancelled) takes no view and writes nothing more. */
const CANCEL_CHECK = `
local function is_cancelled(status)
  return status == 'cancelling' or status == 'cancelled'
end
local function cancel_view(key, state)
  redis.call('HINCRBY', KEYS[3], state, -1)
  redis.call('HINCRBY', KEYS[3], 'cancelled', 1)
  redis.call('HSET', KEYS[2], key, 'cancelled')
  redis.call('HDEL', KEYS[8], key)
end
`;

/**
 * The dataset's error list holds `<viewKey>: reason` for failed views and `finalize: reason` for a
 * failed finalize. A view that goes back to the queue (retry, or submitted again) takes its line
 * with it; a finalize's line goes once the dataset is written again or a new finalize starts.
 */
/**
 * The timepoints a dataset was finalized with, where the view `key` (t<time>-…) lies past them:
 * its XML cannot list that view, so a finalize after it would fail the dataset. nil otherwise.
 */
const TIMEPOINTS_CHECK = `
local function past_timepoints(key)
  if redis.call('HGET', KEYS[1], 'finalizeRequested') ~= '1' then return nil end
  local options = redis.call('HGET', KEYS[1], 'finalizeOptions')
  if not options then return nil end
  local ok, decoded = pcall(cjson.decode, options)
  if not ok or type(decoded) ~= 'table' then return nil end
  local timepoints = tonumber(decoded['timepoints'])
  local time = tonumber(string.match(key, '^t(%d+)%-'))
  if timepoints and time and time >= timepoints then return timepoints end
  return nil
end
`;

const ERROR_LINES = `
local function forget_view_error(key)
  local reason = redis.call('HGET', KEYS[7], key)
  if reason then redis.call('LREM', KEYS[4], 0, key .. ': ' .. reason) end
end
local function forget_finalize_errors()
  for _, line in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
    if string.sub(line, 1, 10) == 'finalize: ' then redis.call('LREM', KEYS[4], 0, line) end
  end
end
`;

const FINALIZE_CHECK = `${ERROR_LINES}
local function maybe_finalize(now)
  if redis.call('HGET', KEYS[1], 'finalizeRequested') ~= '1' then return -1 end
  local status = redis.call('HGET', KEYS[1], 'status')
  if status == 'finalizing' then return -1 end
  local queued = tonumber(redis.call('HGET', KEYS[3], 'queued') or '0')
  local running = tonumber(redis.call('HGET', KEYS[3], 'running') or '0')
  if queued > 0 or running > 0 then return -1 end
  if status == 'complete' and redis.call('HGET', KEYS[1], 'dirty') ~= '1' then return -1 end
  local gen = redis.call('HINCRBY', KEYS[1], 'generation', 1)
  forget_finalize_errors()
  redis.call('HSET', KEYS[1], 'status', 'finalizing', 'dirty', '0', 'updatedAt', now)
  return gen
end
`;

/**
 * ARGV: viewKey, spec json, now, reopen ('1': a batch re-run may add views to a finalized dataset).
 * Returns {'OK', previous state ('' or 'failed')} or {refusal, state}.
 */
export const ADD_VIEW = `${CANCEL_CHECK}${ERROR_LINES}${TIMEPOINTS_CHECK}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'NO_DATASET', ''} end
if is_cancelled(status) then return {'CANCELLED', status} end
if status == 'finalizing' then return {'FINALIZED', status} end
if redis.call('HGET', KEYS[1], 'finalizeRequested') == '1' and ARGV[4] ~= '1' then return {'FINALIZED', status} end
if past_timepoints(ARGV[1]) then return {'FINALIZED', status} end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state and state ~= 'failed' then return {'DUPLICATE', state} end
if state == 'failed' then
  forget_view_error(ARGV[1])
  redis.call('HINCRBY', KEYS[3], 'failed', -1)
end
if status == 'failed' then forget_finalize_errors() end
local previous = state or ''
redis.call('HSET', KEYS[2], ARGV[1], 'queued')
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'queued', 1)
redis.call('HINCRBY', KEYS[1], 'admitted', 1)
redis.call('HSET', KEYS[1], 'status', 'writing', 'dirty', '1', 'updatedAt', ARGV[3])
return {'OK', previous}
`;

/**
 * ARGV: viewKey, now. queued -> running (a retried job finds it running already); in a dataset
 * being cancelled the view is cancelled instead ('CANCELLED': the job stops).
 */
export const START_VIEW = `${CANCEL_CHECK}
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return 'NO_VIEW' end
if state == 'done' then return 'DONE' end
if state == 'failed' then return 'FAILED' end
if state == 'cancelled' then return 'CANCELLED' end
if is_cancelled(redis.call('HGET', KEYS[1], 'status')) then
  cancel_view(ARGV[1], state)
  return 'CANCELLED'
end
if state == 'queued' then
  redis.call('HINCRBY', KEYS[3], 'queued', -1)
  redis.call('HINCRBY', KEYS[3], 'running', 1)
  redis.call('HSET', KEYS[2], ARGV[1], 'running')
end
return 'OK'
`;

/**
 * ARGV: viewKey, now, result json, bytes, seconds. Returns the finalize generation, -1 (not now)
 * or -2 (no view). In a dataset being cancelled the view is cancelled instead: its output is
 * being removed. Only the move to `done` counts a view (and its bytes) written. A view reported
 * done after it had failed (its writer finished as BullMQ gave the job up) leaves the errors.
 */
export const COMPLETE_VIEW = `${FINALIZE_CHECK}${CANCEL_CHECK}
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return -2 end
if state == 'done' or state == 'cancelled' then return -1 end
if is_cancelled(redis.call('HGET', KEYS[1], 'status')) then
  cancel_view(ARGV[1], state)
  return -1
end
redis.call('HINCRBYFLOAT', KEYS[10], 'bytesWritten', ARGV[4])
redis.call('HINCRBYFLOAT', KEYS[10], 'writeSeconds', ARGV[5])
redis.call('HINCRBY', KEYS[10], 'viewsWritten', 1)
redis.call('HINCRBY', KEYS[3], state, -1)
redis.call('HINCRBY', KEYS[3], 'done', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'done')
redis.call('HSET', KEYS[6], ARGV[1], ARGV[3])
if state == 'failed' then forget_view_error(ARGV[1]) end
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
return maybe_finalize(ARGV[2])
`;

/**
 * ARGV: viewKey, now, reason. A view that will not be retried: it becomes a MissingView. Failing
 * a settled view again is a no-op and counts nothing.
 */
export const FAIL_VIEW = `${FINALIZE_CHECK}${CANCEL_CHECK}
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return -2 end
if state == 'done' or state == 'failed' or state == 'cancelled' then return -1 end
if is_cancelled(redis.call('HGET', KEYS[1], 'status')) then
  cancel_view(ARGV[1], state)
  return -1
end
redis.call('HINCRBY', KEYS[10], 'viewsFailed', 1)
redis.call('HINCRBY', KEYS[3], state, -1)
redis.call('HINCRBY', KEYS[3], 'failed', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'failed')
redis.call('HSET', KEYS[7], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[1] .. ': ' .. ARGV[3])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
return maybe_finalize(ARGV[2])
`;

/**
 * ARGV: now, options json, admissions seen ('' = any). Returns the finalize generation, -1
 * (later), -3 (no dataset), -4 (cancelled), -5 (no view at all: a finalize could only fail, and
 * a finalized dataset takes no more views) or -6 (a view was added or retried since the caller
 * counted `admitted`: what it checked against the views may no longer hold).
 */
export const REQUEST_FINALIZE = `${FINALIZE_CHECK}${CANCEL_CHECK}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -3 end
if is_cancelled(status) then return -4 end
if redis.call('HLEN', KEYS[2]) == 0 then return -5 end
if ARGV[3] ~= '' and (redis.call('HGET', KEYS[1], 'admitted') or '0') ~= ARGV[3] then return -6 end
redis.call('HSET', KEYS[1], 'finalizeRequested', '1', 'finalizeOptions', ARGV[2], 'updatedAt', ARGV[1])
return maybe_finalize(ARGV[1])
`;

/** ARGV: generation, now, files json. Only the finalize of the current generation may complete. */
export const COMPLETE_FINALIZE = `
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'complete', 'files', ARGV[3], 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[8], '${FINALIZE_WAITING_KEY}')
return 1
`;

/** ARGV: generation, now, reason. */
export const FAIL_FINALIZE = `
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'failed', 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[8], '${FINALIZE_WAITING_KEY}')
redis.call('RPUSH', KEYS[4], 'finalize: ' .. ARGV[3])
return 1
`;

/**
 * Written views that did not read back at finalize (a partition deleted or damaged on the volume
 * since its writer recorded it) are `failed` with what verification found, and the finalize with
 * them: the dataset is `failed`, never `complete` with them quietly missing. `POST …/retry`
 * writes them again (the dataset then finalizes anew); finalizing again instead publishes the
 * dataset with them as MissingViews, their lines kept in `errors`. ARGV: generation, now, the
 * finalize's reason, then viewKey, reason pairs. Returns 1, or 0 when the generation is not the
 * current finalize any more (nothing changed).
 */
export const FAIL_UNVERIFIED_VIEWS = `
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
for i = 4, #ARGV - 1, 2 do
  local key, reason = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', KEYS[2], key) == 'done' then
    redis.call('HINCRBY', KEYS[10], 'viewsFailed', 1)
    redis.call('HINCRBY', KEYS[3], 'done', -1)
    redis.call('HINCRBY', KEYS[3], 'failed', 1)
    redis.call('HSET', KEYS[2], key, 'failed')
    redis.call('HSET', KEYS[7], key, reason)
    redis.call('HDEL', KEYS[6], key)
    redis.call('RPUSH', KEYS[4], key .. ': ' .. reason)
  end
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[8], '${FINALIZE_WAITING_KEY}')
redis.call('RPUSH', KEYS[4], 'finalize: ' .. ARGV[3])
return 1
`;

/**
 * DELETE of a dataset, step 1. ARGV: now, purge ('1': a complete dataset too). The dataset becomes
 * `cancelling` (nothing is finalized any more), every queued view `cancelled`. Returns
 * {'OK', status before, generation, queued view keys...} or {'NO_DATASET' | 'COMPLETE' | 'CANCELLED'}.
 */
export const CANCEL_DATASET = `${CANCEL_CHECK}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'NO_DATASET'} end
if status == 'cancelled' then return {'CANCELLED'} end
if status == 'complete' and ARGV[2] ~= '1' then return {'COMPLETE'} end
local before = status
if status == 'cancelling' then
  before = redis.call('HGET', KEYS[1], 'cancelledFrom') or status
else
  redis.call('HSET', KEYS[1], 'status', 'cancelling', 'cancelledFrom', status, 'finalizeRequested', '0',
    'updatedAt', ARGV[1])
  redis.call('HDEL', KEYS[8], '${FINALIZE_WAITING_KEY}')
end
local result = {'OK', before, redis.call('HGET', KEYS[1], 'generation') or '0'}
local states = redis.call('HGETALL', KEYS[2])
for i = 1, #states, 2 do
  if states[i + 1] == 'queued' then
    cancel_view(states[i], 'queued')
    table.insert(result, states[i])
  end
end
return result
`;

/**
 * ARGV: viewKey. A running (or queued) view of a cancelling dataset that stopped, or whose job is
 * gone: `cancelled`. Returns 1 if it moved.
 */
export const CANCEL_VIEW = `${CANCEL_CHECK}
if not is_cancelled(redis.call('HGET', KEYS[1], 'status')) then return 0 end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state ~= 'queued' and state ~= 'running' then return 0 end
cancel_view(ARGV[1], state)
return 1
`;

/**
 * DELETE, last step, once the outputs are removed. ARGV: now, lower-case name. With no view
 * running any more: `cancelled`, and the name is free for a new dataset. Returns 1, or 0 (views
 * still running, or not cancelling).
 */
export const FINISH_CANCEL = `
if redis.call('HGET', KEYS[1], 'status') ~= 'cancelling' then return 0 end
if tonumber(redis.call('HGET', KEYS[3], 'running') or '0') > 0 then return 0 end
local id = redis.call('HGET', KEYS[1], 'id')
local name = redis.call('HGET', KEYS[1], 'name')
for _, key in ipairs({ARGV[2], name}) do
  if redis.call('HGET', KEYS[9], key) == id then redis.call('HDEL', KEYS[9], key) end
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'updatedAt', ARGV[1])
return 1
`;

/**
 * POST …/views/:viewKey/retry. ARGV: viewKey, now. A failed view back to `queued` (its error
 * leaves the dataset's list); the dataset is `writing` again and finalizes anew once the view
 * settles (if its finalize was requested). Returns {'OK', status before} or {refusal, state}.
 */
export const RETRY_VIEW = `${CANCEL_CHECK}${ERROR_LINES}${TIMEPOINTS_CHECK}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'NO_DATASET', ''} end
if is_cancelled(status) then return {'CANCELLED', status} end
if status == 'finalizing' then return {'FINALIZING', status} end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if not state then return {'NO_VIEW', ''} end
if state ~= 'failed' then return {'NOT_FAILED', state} end
local timepoints = past_timepoints(ARGV[1])
if timepoints then return {'PAST_TIMEPOINTS', tostring(timepoints)} end
forget_view_error(ARGV[1])
if status == 'failed' then forget_finalize_errors() end
redis.call('HINCRBY', KEYS[3], 'failed', -1)
redis.call('HINCRBY', KEYS[3], 'queued', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'queued')
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('HDEL', KEYS[8], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'admitted', 1)
redis.call('HSET', KEYS[1], 'status', 'writing', 'dirty', '1', 'updatedAt', ARGV[2])
return {'OK', status}
`;

/**
 * The first writer of an "auto" dataset chose its pyramid. ARGV: spec json (levels filled in),
 * choice json, now. Only the first choice counts (all views share the levels): returns 1, or 0
 * when another writer chose first.
 */
export const CHOOSE_PYRAMID = `
if redis.call('HGET', KEYS[1], 'pyramidPending') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'spec', ARGV[1], 'pyramid', ARGV[2], 'pyramidPending', '0', 'updatedAt', ARGV[3])
return 1
`;
