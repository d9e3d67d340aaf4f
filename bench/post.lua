-- wrk script for the read scenarios: POSTs one GraphQL request body, again
-- and again, and counts errors.
--
--   wrk -t2 -c16 -d20s --latency -s bench/post.lua URL -- BODY.json [BODY.json ...]
--
-- BODY.json is the complete request body ({"query": ..., "variables": ...});
-- bench/run builds it from a .graphql file. Several bodies take turns. A
-- response counts as an error when its HTTP status is not 200 or its body
-- has a GraphQL "errors" entry.
-- done() prints one machine-readable line that bench/run parses:
--   BENCH requests=N duration_us=N p50_us=N p99_us=N errors=N http_errors=N graphql_errors=N socket_errors=N

local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "report.lua")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  if not args[1] then
    error("usage: wrk ... -s post.lua URL -- BODY.json [BODY.json ...]")
  end
  local bodies = {}
  for _, path in ipairs(args) do
    local file = assert(io.open(path, "rb"))
    table.insert(bodies, file:read("*a"))
    file:close()
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.body = bodies[1]
  if #bodies > 1 then
    -- Several bodies take turns; with one, wrk reuses a request built once.
    local turn = 0
    request = function()
      turn = turn % #bodies + 1
      return wrk.format(nil, nil, nil, bodies[turn])
    end
  end
  http_errors = 0
  graphql_errors = 0
  first_error = nil
end

function response(status, headers, body)
  if status ~= 200 then
    http_errors = http_errors + 1
    if not first_error then first_error = "HTTP " .. status .. ": " .. string.sub(body or "", 1, 300) end
  elseif body and string.find(body, '"errors":[', 1, true) then
    graphql_errors = graphql_errors + 1
    if not first_error then first_error = string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local t, first = report.gather(threads, { "http_errors", "graphql_errors" })
  report.write(summary, latency, t.http_errors, t.graphql_errors, "", first)
end
