-- POSTs the request bodies in BODIES_FILE (one JSON document per line) in turn, with the API key,
-- to REQUEST_PATH (default /v1/assessments).
local bodies = {}
local counter = 0
local path = os.getenv("REQUEST_PATH") or "/v1/assessments"

function init(args)
  for line in io.lines(os.getenv("BODIES_FILE")) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (os.getenv("API_KEY") or "none"),
  }, body)
end

function done(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"duration_us\": %d, \"errors\": %d, \"non2xx\": %d, \"p50_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
