-- POST /api/v1/session: a full login (Argon2id at the server's cost).
-- wrk ... -s login.lua URL -- USERNAME PASSWORD
local body

function init(args)
	body = string.format('{"username":"%s","password":"%s"}', args[1],
	    args[2])
end

function request()
	return wrk.format("POST", "/api/v1/session",
	    { ["Content-Type"] = "application/json" }, body)
end
