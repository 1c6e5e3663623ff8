-- POST /api/v1/checkpoint/scans of random filler permits by number (the Code128 path), exits;
-- a permit drawn twice answers wrong_direction, which is still a full verdict and a recorded
-- attempt.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = tonumber(os.getenv("PERMITS") or "1000000")

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local number = string.format("BN-YYG-2026-%07d", math.random(1, n))
  return wrk.format(nil, "/api/v1/checkpoint/scans", nil,
    '{"code":"' .. number .. '","lane":"L' .. math.random(1, 8) .. '","direction":"exit"}')
end
