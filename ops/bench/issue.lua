-- POST /api/v1/applications/{id}/issue over the ids in $IDS, each thread taking every
-- $THREADS-th id so no id is issued twice while ids last (after that: 409s, counted as non-2xx).
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
local stride = tonumber(os.getenv("THREADS") or "2")
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  i = tid
end

function request()
  local id = ids[(i % #ids) + 1]
  i = i + stride
  return wrk.format("POST", "/api/v1/applications/" .. id .. "/issue", { ["Authorization"] = "Bearer " .. token })
end
