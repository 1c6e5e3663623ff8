-- POST /api/v1/driver/bookings, each request by the next driver of this thread's share of
-- $DRIVERS ("token vehicle_id" lines). MODE=one: every booking for the slot $SLOT (the hot row);
-- MODE=spread: a random hour of the next days, direction and lane type.
local threads_n = tonumber(os.getenv("THREADS") or "2")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter - 1)
end

function init(args)
  math.randomseed(os.time() + id)
  drivers = {}
  local i = 0
  for line in io.lines(os.getenv("DRIVERS")) do
    if i % threads_n == id then
      local token, vehicle = line:match("(%S+) (%S+)")
      drivers[#drivers + 1] = { token = token, vehicle = vehicle }
    end
    i = i + 1
  end
  next_driver = 0
  mode = os.getenv("MODE") or "one"
  slot = os.getenv("SLOT")
  day0 = tonumber(os.getenv("DAY0"))
end

local cargo = { "general", "fresh_produce", "empty" }
local dirs = { "exit", "entry" }

function request()
  next_driver = next_driver % #drivers + 1
  local d = drivers[next_driver]
  local starts, c, dir = slot, "fresh_produce", "exit"
  if mode == "spread" then
    -- Whole hours from tomorrow 00:00 China time over four days.
    starts = os.date("!%Y-%m-%dT%H:00:00Z", day0 + 3600 * math.random(0, 4 * 24 - 1))
    c = cargo[math.random(1, 3)]
    dir = dirs[math.random(1, 2)]
  end
  local body = '{"vehicle_id":"' .. d.vehicle .. '","port":"YYG","direction":"' .. dir ..
    '","starts_at":"' .. starts .. '","cargo_category":"' .. c .. '","cargo_weight_kg":20000}'
  return wrk.format("POST", "/api/v1/driver/bookings",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. d.token }, body)
end
