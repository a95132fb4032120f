-- wrk script for bench/collect_bench.py: POST batches of events with fresh ids, so every event is a real insert.
-- Settings come from the environment: BENCH_PATH, BENCH_ORIGIN, BENCH_CAMPAIGN, BENCH_VARIANT, BENCH_BATCH,
-- BENCH_TS (ms), BENCH_UA. Ids have the widget's form (UUID version 7, widget/src/core/util.js): the time in ms, from
-- BENCH_TS on, a millisecond later for each request, then random bits, a random tag per wrk thread and a counter,
-- so they never repeat in a run.

local path = os.getenv("BENCH_PATH")
local origin = os.getenv("BENCH_ORIGIN")
local campaign = os.getenv("BENCH_CAMPAIGN")
local variant = os.getenv("BENCH_VARIANT")
local batch = tonumber(os.getenv("BENCH_BATCH") or "20")
local ts = os.getenv("BENCH_TS")
local ua = os.getenv("BENCH_UA")

local counter = 0
local prefix = nil

function setup(thread)
    thread:set("seed", tostring(math.random(1, 2 ^ 30)))
end

function init(args)
    math.randomseed(tonumber(seed) + os.time())
    prefix = math.random(0, 65535)
end

-- The widget's mix (as bench/collect_bench.py's MIX): per visitor four page views, an impression and a close.
local kinds = { "pageview", "pageview", "pageview", "pageview", "impression", "close" }
local head = '{"id":"'
local campaign_fields = ',"campaign":' .. campaign .. ',"variant":' .. variant
local tail = ',"url":"https://bench.example/","data":{}}'
local headers = { ["Content-Type"] = "text/plain", ["Origin"] = origin, ["User-Agent"] = ua }

local requests = 0

function request()
    local events = {}
    requests = requests + 1
    local ms = tonumber(ts) + requests
    local time = string.format("%08x-%04x", math.floor(ms / 65536), ms % 65536)
    for i = 1, batch do
        counter = counter + 1
        local slot = counter % #kinds + 1
        -- tttttttt-tttt-7xxx-8xxx-xxxxxxxxxxxx: the time in ms, version 7, variant 10
        local id = string.format("%s-7%03x-%x%03x-%04x%08x", time, math.random(0, 4095), 8 + math.random(0, 3),
            math.random(0, 4095), prefix, counter)
        local visitor = string.format("v%x%04x", math.floor(counter / #kinds), prefix)
        events[i] = head .. id .. '","type":"' .. kinds[slot] .. '","ts":' .. ts .. ',"visitor":"' .. visitor
            .. '","session":"s"' .. (slot > 4 and campaign_fields or "") .. tail
    end
    return wrk.format("POST", path, headers, '{"events":[' .. table.concat(events, ",") .. "]}")
end
