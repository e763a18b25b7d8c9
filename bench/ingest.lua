-- wrk script for the ingest benchmark: sends pre-signed Shopify orders/paid webhooks.
--
--   wrk -t2 -c64 -d10s -s bench/ingest.lua http://127.0.0.1:PORT -- PAYLOADS [RUN_ID] [THREADS]
--
-- PAYLOADS is a file written by loyaltyd_make_payloads. wrk thread k of THREADS (pass wrk's -t)
-- loads only bodies k, k+THREADS, k+2*THREADS, ... and sends them in turn, so threads never send
-- the same order and each holds only its share in memory. Every request carries its own
-- X-Shopify-Event-Id and X-Shopify-Webhook-Id, UUID-shaped RRRRRRRR-TTTT-4000-8000-CCCCCCCCCCCC
-- from RUN_ID (up to 8 hex digits; give each wrk run against the same database its own), the
-- wrk thread and a counter, so every request is a new event to the daemon even when its body
-- repeats.
--
-- done() prints the answers by status and one line for scripts:
--   BENCH requests=N seconds=S rps=R p50_ms=.. p99_ms=.. p999_ms=.. max_ms=.. ok=N non2xx=N
--         connect_errors=N read_errors=N write_errors=N timeouts=N
-- wrk cannot tell which connection a response came on; a connection the server never serves
-- shows up as timeouts (no answer within wrk's --timeout) and as max latency near it.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

-- Per-thread state (each wrk thread runs its own copy of this script).
local heads = {}    -- per body: its signature and length headers, and the blank line
local bodies = {}
local prefix = ""   -- request line and the headers shared by every request
local id_head = ""  -- run and thread part of the ids
local next_body, count = 1, 0
statuses = {}       -- global so that done() can read it with thread:get

-- Reads the header, then every stride-th record from record `first` on (1-based).
local function load_payloads(path, first, stride)
  local f = assert(io.open(path, "rb"))
  assert(f:read("*l") == "loyaltyd-bench-payloads 1", path .. ": not a loyaltyd_make_payloads file")
  local meta = {}
  for line in f:lines() do
    if line == "" then break end
    local key, value = line:match("^(%S+) (.*)$")
    meta[key] = value
  end
  local record = 0
  while true do
    local line = f:read("*l")
    if not line then break end
    local signature, length = line:match("^(%S+) %d+ (%d+)$")
    assert(signature, path .. ": malformed record header")
    record = record + 1
    if (record - first) % stride == 0 then
      bodies[#bodies + 1] = f:read(tonumber(length))
      heads[#heads + 1] = "X-Shopify-Hmac-Sha256: " .. signature .. "\r\nContent-Length: " ..
                          length .. "\r\n\r\n"
      f:read(1)  -- the newline after the body
    else
      f:seek("cur", tonumber(length) + 1)
    end
  end
  f:close()
  assert(#bodies > 0, path .. ": no payloads for wrk thread " .. first)
  return meta
end

function init(args)
  local path, run_id, thread_count = args[1], args[2] or "0", tonumber(args[3] or "1")
  assert(path, "usage: wrk ... -s bench/ingest.lua URL -- PAYLOADS [RUN_ID] [THREADS]")
  local meta = load_payloads(path, thread_index, math.max(thread_count, 1))
  prefix = "POST /webhooks/shopify HTTP/1.1\r\n" ..
           "Host: " .. wrk.headers["Host"] .. "\r\n" ..
           "Content-Type: application/json\r\n" ..
           "User-Agent: Shopify-Captain-Hook\r\n" ..
           "X-Shopify-Topic: " .. meta.topic .. "\r\n" ..
           "X-Shopify-Shop-Domain: " .. meta.shop_domain .. "\r\n" ..
           "X-Shopify-API-Version: 2024-07\r\n"
  id_head = string.format("%08x-%04x-4000-", tonumber(run_id, 16) or 0, thread_index)
end

function request()
  count = count + 1
  local seq = string.format("%012x", count)
  local i = next_body
  next_body = next_body % #bodies + 1
  return prefix ..
         "X-Shopify-Event-Id: " .. id_head .. "8000-" .. seq .. "\r\n" ..
         "X-Shopify-Webhook-Id: " .. id_head .. "9000-" .. seq .. "\r\n" ..
         heads[i] .. bodies[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local ok, other = 0, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + n
      if status >= 200 and status < 300 then ok = ok + n else other = other + n end
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local ms = function(us) return us / 1000 end
  local fields = {
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
  }
  local codes = {}
  for status, n in pairs(by_status) do codes[#codes + 1] = string.format("%d x%d", status, n) end
  table.sort(codes)
  io.write(string.format("statuses: %s\n", table.concat(codes, ", ")))
  io.write("BENCH " .. table.concat(fields, " ") .. "\n")
end
