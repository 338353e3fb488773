-- Signed Clockify webhooks (or the same bodies to the baseline), each body unique so none is a
-- duplicate. TARGETS (path, token pairs) is prepended by run.py. Counts statuses per thread.
local threads = {}
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = args[1] .. "-" .. tid  -- a nonce per wrk run, so no two runs send the same body
  c2xx, c4xx, c429, c5xx = 0, 0, 0, 0
end

local filler = string.rep("x", 400)

function request()
  counter = counter + 1
  local t = TARGETS[(counter % #TARGETS) + 1]
  local body = string.format(
    '{"id":"te-%s-%d","workspaceId":"%s","userId":"u1","projectId":"p1","billable":true,' ..
    '"timeInterval":{"start":"2026-01-01T10:00:00Z","end":"2026-01-01T11:00:00Z","duration":"PT1H"},' ..
    '"description":"%s","tagIds":["t1","t2"]}', thread_id, counter, t[3], filler)
  -- The baseline gets the same headers, so both sides parse the same request.
  local headers = {["Content-Type"] = "application/json", ["clockify-signature"] = t[2],
                   ["clockify-webhook-event-type"] = "NEW_TIME_ENTRY"}
  return wrk.format("POST", t[1], headers, body)
end

function response(status, headers, body)
  if status == 429 then c429 = c429 + 1
  elseif status >= 500 then c5xx = c5xx + 1
  elseif status >= 400 then c4xx = c4xx + 1
  elseif status >= 200 and status < 300 then c2xx = c2xx + 1 end
end

function done(summary, latency, requests)
  local t2, t4, t429, t5 = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t2 = t2 + thread:get("c2xx"); t4 = t4 + thread:get("c4xx")
    t429 = t429 + thread:get("c429"); t5 = t5 + thread:get("c5xx")
  end
  io.write(string.format(
    'RESULT {"duration_us":%d,"requests":%d,"ok":%d,"c4xx":%d,"c429":%d,"c5xx":%d,' ..
    '"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.duration, summary.requests, t2, t4, t429, t5,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
