-- Each request asks for a new job: the source name carries the run's tag (wrk's
-- first argument after "--"), the thread and a per-thread counter. Lua's
-- unseeded random numbers repeat from one wrk run to the next, so they cannot
-- tell runs apart: without the tag, a later run would ask for the jobs of an
-- earlier one and measure joins instead of new jobs.
local threads = {}
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  prefix = (args[1] or tostring(os.time())) .. "-t" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  local path = "/run_analysis?instrument=empty&product_type=dummy&query_type=Dummy&query_status=new"
    .. "&session_id=BENCH0000000000&src_name=" .. prefix .. tostring(counter)
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format("errors: connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
