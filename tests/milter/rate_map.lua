-- rate_map: a login's entry replaces the listener's key, a @domain entry
-- sets the domain's cap; the rest keeps the listener's limits.  Loaded
-- by a reload (SIGUSR1), whole.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local map = lib.write_beside_policy("rate_map_test.map",
	"# login or @domain   limits\n" ..
	"vip@example.com      rate_login=3/1h\n" ..
	"@example.org         rate_domain=1/1h\n")
lib.reload(function(text)
	return text:gsub("  rate_domain = 10/1h\n", "%0  rate_map = " .. map .. "\n", 1)
end)

local function m(who) return limits.macros("submission", who) end
lib.expect_message("alice 1", "eom:continue", nil, m("alice@example.com"), "<alice@example.com>")
lib.expect_message("alice 2", "eom:reply", "rate_login: 450 4.7.1", m("alice@example.com"),
	"<alice@example.com>")
for i = 1, 3 do
	lib.expect_message("vip " .. i, "eom:continue", nil, m("vip@example.com"), "<vip@example.com>")
end
lib.expect_message("vip 4", "eom:reply", "rate_login: 450 4.7.1", m("vip@example.com"),
	"<vip@example.com>")
lib.wait_log("key=login/1h/vip@example.com limit=3/1h count=3 login=vip@example.com " ..
	"source=rate_map:vip@example.com")
lib.expect_message("bob", "eom:continue", nil, m("bob@example.org"), "<bob@example.org>")
lib.expect_message("ceo: example.org's cap", "eom:reply", "rate_domain: 450 4.7.1",
	m("ceo@example.org"), "<ceo@example.org>")
lib.wait_log("key=domain/1h/example.org limit=1/1h count=1 login=ceo@example.org " ..
	"source=rate_map:@example.org")

-- a broken map is refused whole: the old policy (and map) stay
lib.write_beside_policy("rate_map_test.map", "vip@example.com rate_login=lots\n")
os.execute("kill -USR1 " .. os.getenv("MILTER_PID"))
lib.wait_log("policy reload failed: [^\n]*rate_map_test.map:1:[^\n]*%(keeping generation 2%)")
lib.expect_message("vip still limited", "eom:reply", "rate_login: 450 4.7.1",
	m("vip@example.com"), "<vip@example.com>")
