-- Shared helpers of the wrk scripts in scripts/bench.d (loaded with dofile
-- from each of them; wrk gives every thread its own Lua state).
local M = {}

-- Non-empty lines of a file, as a table.
function M.lines(path)
	local t = {}
	for l in io.lines(path) do
		if #l > 0 then
			t[#t + 1] = l
		end
	end
	assert(#t > 0, path .. " is empty")
	return t
end

-- Sessions: lines "TOKEN CSRF" written by scripts/bench after logging in.
function M.sessions(path)
	local t = {}
	for _, l in ipairs(M.lines(path)) do
		local tok, csrf = l:match("^(%S+)%s+(%S+)$")
		assert(tok, "bad session line in " .. path)
		t[#t + 1] = { cookie = "passerelle_session=" .. tok, csrf = csrf }
	end
	return t
end

-- A per-thread seed: threads start within the same second.
function M.seed(tid)
	math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
	for _ = 1, 10 do
		math.random()
	end
end

return M
