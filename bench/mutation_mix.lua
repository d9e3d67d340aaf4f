-- wrk script for the mutation mix: saveGuide and publishGuide, alternately,
-- on the guides of one region, with the revision each request must carry.
--
--   wrk -t2 -c16 -d20s --latency -H "Authorization: Bearer $TOKEN" \
--     -s bench/mutation_mix.lua URL -- GUIDES.tsv THREADS
--
-- GUIDES.tsv (written by bench/run from a `guides` query) has one guide a
-- line: index, matter code as a JSON string, revision, status, time limit,
-- and the guide's SaveGuideInput as a JSON object without its closing brace
-- and without timeLimitDays and expectedRevision.
--
-- Each wrk thread owns a disjoint share of the guides (index mod THREADS),
-- and a guide is never in flight twice, so every request carries the
-- guide's current revision and none should meet a CONFLICT. Each guide
-- cycles: PUBLISHED --saveGuide--> DRAFT --publishGuide--> PUBLISHED, the
-- save toggling the time limit between t+1 and t days (t+1 first) so that
-- it is a real change: saving unchanged content is a no-op that keeps the
-- guide published. The response names its guide through the field alias (m<index>,
-- also in an error's path) and gives the new revision and status. A CONFLICT
-- is counted apart from other errors and resynchronises the revision from
-- extensions.currentRevision.

local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "report.lua")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local guides = {}   -- owned guides, in order
local by_index = {} -- index -> guide
local cursor = 0

function init(args)
  local path, nthreads = args[1], tonumber(args[2] or "1")
  if not path then
    error("usage: wrk ... -s mutation_mix.lua URL -- GUIDES.tsv THREADS")
  end
  for line in io.lines(path) do
    local index, matter, revision, status, limit, input =
      string.match(line, "^(%d+)\t([^\t]+)\t(%d+)\t(%u+)\t(%d+)\t(.+)$")
    if index and (tonumber(index) % nthreads) == id then
      local g = {
        index = tonumber(index), matter = matter, revision = tonumber(revision),
        status = status, limit = tonumber(limit), input = input,
        busy = false, toggle = true,
      }
      table.insert(guides, g)
      by_index[g.index] = g
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  saves, publishes, conflicts, http_errors, graphql_errors, idle, lost = 0, 0, 0, 0, 0, 0, 0
  first_error = nil
end

local function save_body(g)
  local limit = g.limit
  if g.toggle then
    limit = (limit < 250) and limit + 1 or limit - 1
  end
  return '{"query":"mutation Save($i: SaveGuideInput!) { m' .. g.index ..
    ': saveGuide(input: $i) { matterCode revision status } }","variables":{"i":' ..
    g.input .. ',"timeLimitDays":' .. limit .. ',"expectedRevision":' .. g.revision .. '}}}'
end

local function publish_body(g)
  return '{"query":"mutation Publish($r: String!, $m: String!, $e: Int!) { m' .. g.index ..
    ': publishGuide(region: $r, matter: $m, expectedRevision: $e) { matterCode revision status } }",' ..
    '"variables":{"r":"330000","m":' .. g.matter .. ',"e":' .. g.revision .. '}}'
end

function request()
  for _ = 1, #guides do
    cursor = cursor % #guides + 1
    local g = guides[cursor]
    if not g.busy then
      g.busy = true
      if g.status == "PUBLISHED" then
        saves = saves + 1
        g.saving = true
        return wrk.format(nil, nil, nil, save_body(g))
      else
        publishes = publishes + 1
        g.saving = false
        return wrk.format(nil, nil, nil, publish_body(g))
      end
    end
  end
  -- Every owned guide is in flight (more connections than guides): keep
  -- the connection busy with the cheapest request, and say so.
  idle = idle + 1
  return wrk.format(nil, nil, nil, '{"query":"{ __typename }"}')
end

local function note(body)
  if not first_error then
    first_error = string.sub(body or "", 1, 300)
  end
end

function response(status, headers, body)
  body = body or ""
  local index = tonumber(string.match(body, '"m(%d+)"'))
  local g = index and by_index[index]
  if status ~= 200 then
    http_errors = http_errors + 1
    note("HTTP " .. status .. ": " .. body)
  elseif string.find(body, '"errors":[', 1, true) then
    if string.find(body, '"code":"CONFLICT"', 1, true) then
      conflicts = conflicts + 1
      local current = tonumber(string.match(body, '"currentRevision":(%d+)'))
      if g and current then g.revision = current end
    else
      graphql_errors = graphql_errors + 1
      note(body)
    end
  elseif g then
    g.revision = tonumber(string.match(body, '"revision":(%d+)')) or g.revision
    g.status = string.match(body, '"status":"(%u+)"') or g.status
    if g.saving then g.toggle = not g.toggle end
  end
  if g then
    g.busy = false
  elseif not string.find(body, '"__typename"', 1, true) then
    lost = lost + 1 -- a guide stays marked in flight; it is not sent again
  end
end

function done(summary, latency, requests)
  local t, first = report.gather(threads, { "saves", "publishes", "conflicts", "http_errors",
                                            "graphql_errors", "idle", "lost" })
  report.write(summary, latency, t.http_errors, t.graphql_errors, string.format(
    " conflicts=%d saves_sent=%d publishes_sent=%d idle=%d lost=%d",
    t.conflicts, t.saves, t.publishes, t.idle, t.lost), first)
end
