-- wrk script for scripts/bench-serve: POST /api/v1/runs with wait=true for the flow in FLOW_ID,
-- one item per run; prints one machine-readable RESULT line at the end.
local flow = os.getenv("FLOW_ID")
wrk.method = "POST"
wrk.path = "/api/v1/runs"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"flowId": "' .. flow .. '", "input": [{"x": 1}], "wait": true}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
