-- GET /api/v1/cases: the first page (50, newest first) of the caller's
-- organisation's cases, names decrypted.
-- wrk ... -s list.lua URL -- SESSIONS_FILE
--
-- One request per session, written once at start; request() picks one at
-- random (see read.lua: formatting in Lua for every request costs wrk CPU
-- on the server's cores).
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local reqs

function init(args)
	local sess = lib.sessions(args[1])
	lib.seed(tid)
	reqs = {}
	for i, s in ipairs(sess) do
		reqs[i] = wrk.format("GET", "/api/v1/cases",
		    { ["Cookie"] = s.cookie, ["X-CSRF-Token"] = s.csrf })
	end
end

function request()
	return reqs[math.random(#reqs)]
end
