-- wrk script for POST /book, used by bench/post_load.py.
--
-- The bodies are written beforehand, one URL-encoded booking per line (each with its own
-- submission key and email, each time used no more often than there are consultants), so
-- wrk spends no time building them. Thread k of n sends lines k+1, k+1+n, k+1+2n, ... and
-- stops when its share runs out. Answers of 500 and above are counted apart.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

function init(args)
   bodies_file, cookie, thread_count = args[1], args[2], tonumber(args[3])
   bodies = {}
   local number = 0
   for line in io.lines(bodies_file) do
      if number % thread_count == id then
         table.insert(bodies, line)
      end
      number = number + 1
   end
   next_body = 1
   server_errors = 0
   headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = cookie,
   }
end

function request()
   local body = bodies[next_body]
   if body == nil then
      wrk.thread:stop()
      body = bodies[#bodies]  -- already booked: found again, never booked twice
   end
   next_body = next_body + 1
   return wrk.format("POST", "/book", headers, body)
end

function response(status, headers, body)
   if status >= 500 then
      server_errors = server_errors + 1
   end
end

function done(summary, latency, requests)
   local errors = 0
   for _, thread in ipairs(threads) do
      errors = errors + thread:get("server_errors")
   end
   io.write(string.format("server_errors %d\n", errors))
end
