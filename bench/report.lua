-- What the wrk scripts' done() share: counters summed over the threads, and
-- the BENCH line that bench/run parses. A script loads it beside itself:
--
--   local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "report.lua")

local report = {}

-- Sums each counter named in `names` over `threads`; also returns the first
-- thread's first error, if any thread had one.
function report.gather(threads, names)
  local totals, first = {}, nil
  for _, name in ipairs(names) do
    totals[name] = 0
  end
  for _, thread in ipairs(threads) do
    for _, name in ipairs(names) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
    first = first or thread:get("first_error")
  end
  return totals, first
end

-- Writes the BENCH line (errors= counts HTTP, GraphQL and socket errors
-- together), `extra` at its end, and the first error on a line of its own.
function report.write(summary, latency, http_errors, graphql_errors, extra, first)
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d http_errors=%d graphql_errors=%d socket_errors=%d%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    http_errors + graphql_errors + socket, http_errors, graphql_errors, socket, extra))
  if first then
    io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "\n", " ") .. "\n")
  end
end

return report
