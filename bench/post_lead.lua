-- wrk script: POST /api/v1/leads with a unique external_id per request.
--
-- Arguments (after `--`): API key, run tag (makes ids unique across runs),
-- deadline (Unix seconds) and results file. Run with one connection per
-- thread (-t N -c N): when its deadline has passed, a thread stops right
-- after a response, so no lead is left in flight when wrk exits and the
-- leads in the database can be compared one to one with the 201 answers.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

local key, tag, deadline, tid
local codes = {}

function init(args)
   key = args[1]
   tag = args[2]
   deadline = tonumber(args[3])
   tid = wrk.thread:get("tid")
   wrk.method = "POST"
   wrk.path = "/api/v1/leads"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Api-Key " .. key
end

function request()
   counter = counter + 1
   local id = string.format("%s-%d-%d", tag, tid, counter)
   -- A new customer each time (own e-mail and phone): the lead goes by the team's
   -- rotation, as in the raw baseline, not to a returning customer's attendant.
   local body = string.format(
      '{"name":"Bench %s","email":"%s@bench.example","phone":"+55 %d %09d",'
      .. '"external_id":"%s","custom":{"utm_source":"bench","n":%d}}',
      id, id, tid, counter, id, counter)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   codes[status] = (codes[status] or 0) + 1
   local encoded = {}
   for code, n in pairs(codes) do
      table.insert(encoded, code .. "=" .. n)
   end
   wrk.thread:set("codes_out", table.concat(encoded, ","))
   if os.time() >= deadline then
      wrk.thread:stop()
   end
end

-- Per-thread counters travel to done() as strings through thread:get.
function done(summary, latency, requests)
   local totals = {}
   for _, thread in ipairs(threads) do
      local encoded = thread:get("codes_out") or ""
      for code, n in string.gmatch(encoded, "(%d+)=(%d+)") do
         totals[code] = (totals[code] or 0) + tonumber(n)
      end
   end
   local parts = {}
   for code, n in pairs(totals) do
      table.insert(parts, string.format('"%s": %d', code, n))
   end
   local out = io.open(os.getenv("WRK_RESULTS"), "w")
   out:write(string.format(
      '{"codes": {%s}, "requests": %d, "duration_us": %d, "errors": {"connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p95": %d, "p99": %d, '
      .. '"p999": %d, "max": %d}}\n',
      table.concat(parts, ", "), summary.requests, summary.duration,
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
      latency.max))
   out:close()
end
