-- GET /api/v1/cases/{id}: a random case of the reader's organisation, under
-- a random one of the benchmark's sessions.
-- wrk ... -s read.lua URL -- CASE_IDS_FILE SESSIONS_FILE
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local ids, sess

function init(args)
	ids = lib.lines(args[1])
	sess = lib.sessions(args[2])
	lib.seed(tid)
end

function request()
	local s = sess[math.random(#sess)]
	return wrk.format("GET", "/api/v1/cases/" .. ids[math.random(#ids)],
	    { ["Cookie"] = s.cookie, ["X-CSRF-Token"] = s.csrf })
end
