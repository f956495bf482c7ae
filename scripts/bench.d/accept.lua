-- POST /api/v1/referrals/{id}/accept: each request accepts a different
-- pending referral. Thread t of n takes ids t+1, t+1+n, t+1+2n, ... of the
-- file; past its end it starts again, and those requests get 409 (counted
-- by wrk as non-2xx, and reported).
-- wrk ... -s accept.lua URL -- REFERRAL_IDS_FILE SESSIONS_FILE NTHREADS
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local ids, sess, nthreads, i

function init(args)
	ids = lib.lines(args[1])
	sess = lib.sessions(args[2])
	nthreads = tonumber(args[3])
	i = (tid or 0) + 1
	lib.seed(tid)
end

function request()
	local s = sess[math.random(#sess)]
	local id = ids[i]
	i = i + nthreads
	if i > #ids then
		i = (tid or 0) + 1
	end
	return wrk.format("POST", "/api/v1/referrals/" .. id .. "/accept", {
		["Cookie"] = s.cookie,
		["X-CSRF-Token"] = s.csrf,
		["Content-Type"] = "application/json",
	}, "{}")
end
