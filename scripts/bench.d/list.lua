-- GET /api/v1/cases: the first page (50, newest first) of the caller's
-- organisation's cases, names decrypted.
-- wrk ... -s list.lua URL -- SESSIONS_FILE
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local sess

function init(args)
	sess = lib.sessions(args[1])
	lib.seed(tid)
end

function request()
	local s = sess[math.random(#sess)]
	return wrk.format("GET", "/api/v1/cases",
	    { ["Cookie"] = s.cookie, ["X-CSRF-Token"] = s.csrf })
end
