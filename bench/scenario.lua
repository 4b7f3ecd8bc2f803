-- wrk script for bench/api.py: one of three request mixes, and a JSON summary at the end.
--
--   wrk -s bench/scenario.lua URL -- SCENARIO MAX_ID RUN_TAG BODY_TEMPLATE
--
-- SCENARIO   get (GET /users/<random id>), list (GET /users?after_id=<random>), create (POST)
-- MAX_ID     the highest seeded id; ids are drawn uniformly from 1..MAX_ID
-- RUN_TAG    unique per wrk run, so emails created by different runs never clash
-- BODY_TEMPLATE  the POST body with "{n}" where the unique token goes (from bench/users.py)

-- setup() runs in wrk's main Lua state; each thread then has its own state and number.
local next_thread = 0

function setup(thread)
    next_thread = next_thread + 1
    thread:set("thread_number", next_thread)
end

local scenario, max_id, run_tag, body_template
local counter = 0
local json_headers = { ["Content-Type"] = "application/json" }

function init(args)
    scenario, max_id, run_tag, body_template = args[1], tonumber(args[2]), args[3], args[4]
    if scenario ~= "get" and scenario ~= "list" and scenario ~= "create" then
        error("unknown scenario: " .. tostring(scenario))
    end
    math.randomseed(os.time() * 1000 + thread_number)
end

function request()
    if scenario == "get" then
        return wrk.format("GET", "/users/" .. math.random(1, max_id))
    elseif scenario == "list" then
        return wrk.format("GET", "/users?limit=20&after_id=" .. math.random(0, max_id - 20))
    end
    counter = counter + 1
    local token = run_tag .. "-" .. thread_number .. "-" .. counter
    return wrk.format("POST", "/users", json_headers, (body_template:gsub("{n}", token)))
end

-- One line of JSON on stdout, parsed by bench/wrk.py. Latencies are in microseconds.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, '
            .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, '
            .. '"p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
        summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        latency.mean
    ))
end
