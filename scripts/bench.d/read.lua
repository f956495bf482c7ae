-- GET /api/v1/cases/{id}: a random case of the reader's organisation, under
-- a random one of the benchmark's sessions.
-- wrk ... -s read.lua URL -- CASE_IDS_FILE SESSIONS_FILE
--
-- The requests are written once, at start (one per case, each under a
-- random session), and request() only picks one at random: formatting a
-- request in Lua for every request cost wrk about 5 us of CPU each, on the
-- same two cores as the server, where pgbench draws its keys in C.
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local reqs

function init(args)
	local ids = lib.lines(args[1])
	local sess = lib.sessions(args[2])
	lib.seed(tid)
	reqs = {}
	for i, id in ipairs(ids) do
		local s = sess[math.random(#sess)]
		reqs[i] = wrk.format("GET", "/api/v1/cases/" .. id,
		    { ["Cookie"] = s.cookie, ["X-CSRF-Token"] = s.csrf })
	end
end

function request()
	return reqs[math.random(#reqs)]
end
