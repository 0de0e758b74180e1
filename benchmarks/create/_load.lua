-- The wrk side of benchmarks/create/_load.py: POST bodies with unique emails, check each answer.
--
-- wrk -s _load.lua URL -- REQUESTS_FILE [+EXPECT | -REJECT | HNAME: VALUE]...
--   REQUESTS_FILE  one request per line, "path<TAB>body"; "@N@" is replaced by a counter
--   +TEXT          a good answer holds TEXT (plain substring)
--   -TEXT          a good answer does not hold TEXT
--   HNAME: VALUE   a request header
-- A good answer is a 2xx holding every +TEXT and no -TEXT. done() prints one line,
-- "WRK_RESULT {json}", and "WRK_SAMPLE <the first bad answer>" when there was one.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests, expect, reject = {}, {}, {}
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    table.insert(requests, { line:sub(1, tab - 1), line:sub(tab + 1) })
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  for i = 2, #args do
    local kind, text = args[i]:sub(1, 1), args[i]:sub(2)
    if kind == "+" then
      table.insert(expect, text)
    elseif kind == "-" then
      table.insert(reject, text)
    else
      local colon = text:find(":", 1, true)
      wrk.headers[text:sub(1, colon - 1)] = text:sub(colon + 2)
    end
  end
  counter = index * 100000000 -- each thread its own range of emails
  good, bad, sample = 0, 0, ""
end

function request()
  counter = counter + 1
  local item = requests[(counter % #requests) + 1]
  local n = tostring(counter)
  return wrk.format(nil, (item[1]:gsub("@N@", n)), nil, (item[2]:gsub("@N@", n)))
end

function response(status, headers, body)
  local ok = status >= 200 and status < 300
  if ok then
    for _, text in ipairs(expect) do
      if not body:find(text, 1, true) then ok = false; break end
    end
  end
  if ok then
    for _, text in ipairs(reject) do
      if body:find(text, 1, true) then ok = false; break end
    end
  end
  if ok then
    good = good + 1
  else
    bad = bad + 1
    if sample == "" then sample = status .. " " .. body:sub(1, 400):gsub("[\r\n]", " ") end
  end
end

function done(summary, latency, requests)
  local good, bad, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    good = good + thread:get("good")
    bad = bad + thread:get("bad")
    if sample == "" then sample = thread:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us": %d, "requests": %d, "good": %d, "bad": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.duration, summary.requests, good, bad, e.connect, e.read, e.write, e.status,
    e.timeout, math.floor(latency:percentile(50)), math.floor(latency:percentile(99))))
  if sample ~= "" then io.write("WRK_SAMPLE " .. sample .. "\n") end
end
