-- wrk script for the scale benchmark's API reads: GET a customer (its balance) or the first page
-- of its ledger, for customers drawn uniformly from ids 1..CUSTOMERS (a merchant's admin looks
-- anyone up, so most reads miss the cache of recent writes).
--
--   wrk -t2 -c16 -d10s -s bench/reads.lua http://127.0.0.1:PORT -- TOKEN CUSTOMERS MODE [PACE_MS]
--
-- MODE is "balance" (GET /api/v1/customers/ID) or "ledger" (GET /api/v1/customers/ID/ledger,
-- 50 entries, newest first). Without PACE_MS (or 0) each connection sends its next request as
-- soon as the answer is in: the load saturates the machine and latency is mostly queueing.
-- With PACE_MS, each connection waits that long after an answer before its next request (wrk's
-- delay()), a load below saturation whose latency is the service time. done() prints one line
-- for scripts, like ingest.lua:
--   BENCH requests=N seconds=S rps=R p50_ms=.. p99_ms=.. p999_ms=.. max_ms=.. ok=N non2xx=N ...

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

local auth, customers, path_of, pace_ms = "", 1, nil, 0
statuses = {}

function init(args)
  auth = "Bearer " .. assert(args[1], "usage: ... -- TOKEN CUSTOMERS MODE")
  customers = assert(tonumber(args[2]), "CUSTOMERS must be a number")
  local mode = args[3] or "balance"
  if mode == "balance" then
    path_of = function(id) return "/api/v1/customers/" .. id end
  elseif mode == "ledger" then
    path_of = function(id) return "/api/v1/customers/" .. id .. "/ledger?limit=50" end
  else
    error("MODE must be balance or ledger")
  end
  pace_ms = tonumber(args[4] or "0") or error("PACE_MS must be a number")
  -- Defined only when pacing: wrk sends through its delay path whenever the script has one.
  if pace_ms > 0 then delay = function() return pace_ms end end
  math.randomseed(thread_index * 7919)
end

function request()
  return wrk.format("GET", path_of(math.random(1, customers)), {["Authorization"] = auth})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      if status >= 200 and status < 300 then ok = ok + n else other = other + n end
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return us / 1000 end
  io.write("BENCH " .. table.concat({
    string.format("requests=%d", summary.requests),
    string.format("seconds=%.2f", seconds),
    string.format("rps=%.0f", summary.requests / seconds),
    string.format("p50_ms=%.2f", ms(latency:percentile(50))),
    string.format("p99_ms=%.2f", ms(latency:percentile(99))),
    string.format("p999_ms=%.2f", ms(latency:percentile(99.9))),
    string.format("max_ms=%.2f", ms(latency.max)),
    string.format("ok=%d", ok),
    string.format("non2xx=%d", other),
    string.format("connect_errors=%d", e.connect),
    string.format("read_errors=%d", e.read),
    string.format("write_errors=%d", e.write),
    string.format("timeouts=%d", e.timeout),
  }, " ") .. "\n")
end
