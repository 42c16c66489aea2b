-- alert_command: run once when a key trips, with the listener, key,
-- value, limit, count and login after the command's own words; not
-- again for the same key in the same window (even when it trips again
-- after a message was allowed), and not for refusals after the trip.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local out = lib.write_beside_policy("alert_test.out", "")
local cmd = lib.write_beside_policy("alert_test.sh",
	"#!/bin/sh\nprintf '%s|' \"$@\" >> " .. out .. "\necho >> " .. out .. "\n")
os.execute("chmod 755 " .. cmd)
local function with_alert(text)
	return (text:gsub("milter {\n", "%0  alert_command = " .. cmd .. " \"first word\"\n", 1))
end
lib.reload(with_alert)

local function lines()
	local f = io.open(out, "r")
	local t = {}
	for l in f:lines() do
		table.insert(t, l)
	end
	f:close()
	return t
end
local function wait_lines(n)
	for _ = 1, 200 do
		if #lines() >= n then
			return lines()
		end
		mt.sleep(0.05)
	end
	lib.fail("the alert command wrote " .. #lines() .. " lines, not " .. n)
end

local function m(who) return limits.macros("submission", who) end
lib.expect_message("alice 1", "eom:continue", nil, m("alice@example.com"), "<alice@example.com>")
lib.expect_message("alice 2", "eom:reply", "rate_login: 450 4.7.1", m("alice@example.com"),
	"<alice@example.com>")
lib.expect("first alert", wait_lines(1)[1],
	"first word|submission|rate_login|alice@example.com|1/1h|1|alice@example.com|")
lib.expect_message("alice 3", "eom:reply", "rate_login: 450 4.7.1", m("alice@example.com"),
	"<alice@example.com>")
lib.expect_message("carol", "eom:continue", nil, m("carol@example.com"), "<carol@example.com>")
lib.expect_message("dave: the domain", "eom:reply", "rate_domain: 450 4.7.1",
	m("dave@example.com"), "<dave@example.com>")
lib.expect("domain alert", wait_lines(2)[2],
	"first word|submission|rate_domain|example.com|2/1h|2|dave@example.com|")

-- allowed again (a higher limit), then over again in the same window:
-- the trip is logged again, the command does not run again
lib.reload(function(text)
	return (text:gsub("rate_login = 1/1h", "rate_login = 2/1h"):gsub("rate_domain = 2/1h",
		"rate_domain = 10/1h"))
end)
lib.expect_message("alice under 2/1h", "eom:continue", nil, m("alice@example.com"),
	"<alice@example.com>")
lib.reload(function(text) return (text:gsub("rate_login = 2/1h", "rate_login = 1/1h")) end)
lib.expect_message("alice over 1/1h again", "eom:reply", "rate_login: 450 4.7.1",
	m("alice@example.com"), "<alice@example.com>")
lib.wait_log("alert_command not run for login/1h/alice@example.com: it ran for this key " ..
	"in this window already")
lib.expect("two trips of alice's key logged", lib.count_log(
	"rate limit tripped: listener=submission rule=rate_login key=login/1h/alice@example.com"), 2)
lib.expect("still two alerts", #lines(), 2)
lib.expect("each alert done", lib.count_log("alert_command " .. cmd), 2)

-- report mode: trips are logged, the command does not run
lib.reload(function(text) return (text:gsub("milter {\n", "%0  mode = report\n", 1)) end)
lib.expect_message("bob 1", "eom:continue", nil, m("bob@example.org"), "<bob@example.org>")
lib.expect_message("bob 2 (report)", "eom:continue", nil, m("bob@example.org"), "<bob@example.org>")
lib.wait_log("rate limit tripped: listener=submission rule=rate_login key=login/1h/bob@example.org")
lib.wait_log("report: would tempfail: listener=submission login=bob@example.org")
mt.sleep(0.5)
lib.expect("no alert in report mode", #lines(), 2)
