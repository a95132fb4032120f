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

local head = '{"id":"'
local middle = '","type":"impression","ts":' .. ts .. ',"visitor":"'
local tail = '","session":"s","campaign":' .. campaign .. ',"variant":' .. variant
    .. ',"url":"https://bench.example/","data":{}}'
local headers = { ["Content-Type"] = "text/plain", ["Origin"] = origin, ["User-Agent"] = ua }

function request()
    local events = {}
    for i = 1, batch do
        counter = counter + 1
        -- xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx: version 4, variant 10
        local id = string.format("%s-4%03x-8%03x-%012x", prefix, counter % 4096, math.random(0, 4095), counter)
        events[i] = head .. id .. middle .. string.format("v%x%s", counter, prefix:sub(1, 6)) .. tail
    end
    return wrk.format("POST", path, headers, '{"events":[' .. table.concat(events, ",") .. "]}")
end
