-- Numbers wrk's threads 0, 1, ... (global `tid` in each thread's state):
-- setup() runs in the main state once per thread, before the thread starts.
local next_tid = 0
function setup(thread)
	thread:set("tid", next_tid)
	next_tid = next_tid + 1
end
