-- wrk script for bench/collect_bench.py: POST batches of events with fresh ids, so every event is a real insert.
-- Settings come from the environment: BENCH_PATH, BENCH_ORIGIN, BENCH_CAMPAIGN, BENCH_VARIANT, BENCH_BATCH,
-- BENCH_TS (ms), BENCH_UA. Ids: a random prefix per wrk thread and a counter, so they never repeat in a run.

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
    prefix = string.format("%08x-%04x", math.random(0, 2 ^ 31 - 1), math.random(0, 65535))
end

-- The widget's mix (as bench/collect_bench.py's MIX): per visitor four page views, an impression and a close.
local kinds = { "pageview", "pageview", "pageview", "pageview", "impression", "close" }
local head = '{"id":"'
local campaign_fields = ',"campaign":' .. campaign .. ',"variant":' .. variant
local tail = ',"url":"https://bench.example/","data":{}}'
local headers = { ["Content-Type"] = "text/plain", ["Origin"] = origin, ["User-Agent"] = ua }

function request()
    local events = {}
    for i = 1, batch do
        counter = counter + 1
        local slot = counter % #kinds + 1
        -- xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx: version 4, variant 10
        local id = string.format("%s-4%03x-8%03x-%012x", prefix, counter % 4096, math.random(0, 4095), counter)
        local visitor = string.format("v%x%s", math.floor(counter / #kinds), prefix:sub(1, 6))
        events[i] = head .. id .. '","type":"' .. kinds[slot] .. '","ts":' .. ts .. ',"visitor":"' .. visitor
            .. '","session":"s"' .. (slot > 4 and campaign_fields or "") .. tail
    end
    return wrk.format("POST", path, headers, '{"events":[' .. table.concat(events, ",") .. "]}")
end
