-- An alert_command that hangs (and leaves a child behind) is stopped
-- after ALERT_TIMEOUT_SECS (10 s) with SIGTERM to its whole process
-- group, SIGKILL if need be, and waited for: no zombie, no stray child.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

-- a sleep of its own length, to find it again
local secs = tostring(3000 + tonumber(os.getenv("MILTER_PID")) % 1000)
local cmd = lib.write_beside_policy("alert_hang.sh",
	"#!/bin/sh\ntrap '' TERM\nsleep " .. secs .. " &\nsleep " .. secs .. "\n")
os.execute("chmod 755 " .. cmd)
lib.reload(function(text)
	return (text:gsub("milter {\n", "%0  alert_command = " .. cmd .. "\n", 1))
end)

local function m(who) return limits.macros("submission", who) end
lib.expect_message("alice 1", "eom:continue", nil, m("alice@example.com"), "<alice@example.com>")
lib.expect_message("alice 2", "eom:reply", "rate_login: 450 4.7.1", m("alice@example.com"),
	"<alice@example.com>")
-- the milter answers at once: the command runs beside it
lib.expect_message("carol meanwhile", "eom:continue", nil, m("carol@example.com"),
	"<carol@example.com>")
for _ = 1, 400 do
	if lib.count_log("still ran after 10 s: stopped with SIGKILL") > 0 then
		break
	end
	mt.sleep(0.05)
end
lib.wait_log("alert_command " .. cmd:gsub("%p", "%%%0") ..
	" %(pid %d+%) still ran after 10 s: stopped with SIGKILL")
local function children()
	local p = io.popen("ps -o stat=,args= --ppid " .. os.getenv("MILTER_PID"))
	local t = p:read("*a")
	p:close()
	return t
end
lib.expect("no child of the milter left", children(), "")
-- ([s]leep: pgrep must not find its own shell)
local p = io.popen("pgrep -f '[s]leep " .. secs .. "' || true")
local stray = p:read("*a")
p:close()
lib.expect("the command's own child is gone", stray, "")
