-- POST /api/v1/checkpoint/scans of filler permits by number (the Code128 path), picked at random
-- from the wrk thread's own share of the permits. Each permit's scans alternate exit, entry,
-- exit…, so every scan is a real trip (admit) at any PERMITS and the verdict mix is the same for
-- 10,000 permits as for 1,000,000 (always exiting re-scanned passes already out on a small
-- database and measured mostly wrong_direction). A permit drawn while its previous scan is
-- still in flight can be answered wrong_direction; the script's output counts those.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = tonumber(os.getenv("PERMITS") or "1000000")
local threads = tonumber(os.getenv("THREADS") or "2")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local first, count
local sent = {}

function init(args)
  local id = tonumber(wrk.thread:get("id"))
  count = math.floor(n / threads)
  first = (id - 1) * count + 1
  math.randomseed(os.time() + id * 7919)
end

function request()
  local k = first + math.random(0, count - 1)
  local times = sent[k] or 0
  sent[k] = times + 1
  local direction = (times % 2 == 0) and "exit" or "entry"
  return wrk.format(nil, "/api/v1/checkpoint/scans", nil,
    '{"code":"' .. string.format("BN-YYG-2026-%07d", k) .. '","lane":"L' .. math.random(1, 8) .. '","direction":"' .. direction .. '"}')
end
