-- Every request gets its own query string, so no server can answer from a cache of URLs.
-- Usage: wrk -s unique.lua <url> -- <path> <run tag>   (the tag keeps runs apart: each starts its counter at 1)
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  path = args[1]
  tag = args[2] or tostring(os.time())
  counter = 0
  sep = string.find(path, "?", 1, true) and "&" or "?"
end
function request()
  counter = counter + 1
  return wrk.format("GET", path .. sep .. "n=" .. tag .. "-" .. tid .. "-" .. counter)
end
