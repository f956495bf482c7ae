-- POST /api/v1/cases: a new fictional case. Names are drawn from the same
-- short lists of common Malian names as `seed --synthetic`, so that the
-- duplicate check meets as many candidates as it would in the field.
-- wrk ... -s create.lua URL -- SESSIONS_FILE TODAY
local dir = os.getenv("BENCH_LUA_DIR")
local lib = dofile(dir .. "/lib.lua")
dofile(dir .. "/threads.lua")

local given = { "Aminata", "Fatoumata", "Mariam", "Awa", "Kadiatou", "Oumou",
	"Bintou", "Salimata", "Moussa", "Ibrahim", "Seydou", "Mamadou", "Adama",
	"Boubacar", "Modibo", "Issa", "Hawa", "Djeneba", "Rokia", "Sekou" }
local family = { "Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Diallo",
	"Sangaré", "Touré", "Sissoko", "Dembélé", "Maïga", "Cissé", "Doumbia",
	"Camara", "Kanté", "Sidibé" }
local sexes = { "female", "female", "male", "unknown" }
local regions = { "bamako", "kayes", "koulikoro", "sikasso", "segou", "mopti",
	"gao" }
local types = { "forced_labour", "sexual_exploitation", "forced_begging",
	"domestic_servitude" }

local sess, today

function init(args)
	sess = lib.sessions(args[1])
	today = args[2]
	lib.seed(tid)
end

local function pick(t)
	return t[math.random(#t)]
end

function request()
	local s = sess[math.random(#sess)]
	local body = string.format('{"victim":{"given_name":"%s",'
	    .. '"family_name":"%s","sex":"%s","age_estimate":%d},'
	    .. '"identification":{"date":"%s","region":"%s",'
	    .. '"exploitation_types":["%s"]}}',
	    pick(given), pick(family), pick(sexes), math.random(19, 55), today,
	    pick(regions), pick(types))
	return wrk.format("POST", "/api/v1/cases", {
		["Cookie"] = s.cookie,
		["X-CSRF-Token"] = s.csrf,
		["Content-Type"] = "application/json",
	}, body)
end
