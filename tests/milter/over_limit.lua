-- over_limit: a message over a limit gets 450 4.7.1 (tempfail), 550
-- 5.7.1 (reject), or is accepted into the hold queue (hold: quarantined
-- with the reason, the audit header saying verdict=hold); a held message
-- is not counted, so each later one is held too.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local function m(listener, who) return limits.macros(listener, who) end
lib.expect_message("tempfail: 1", "eom:continue", nil, m("submission", "alice@example.com"),
	"<alice@example.com>")
lib.expect_message("tempfail: 2", "eom:reply", "rate_login: 450 4.7.1",
	m("submission", "alice@example.com"), "<alice@example.com>")

lib.expect_message("reject: 1", "eom:continue", nil, m("rejecting", "carol@example.com"),
	"<carol@example.com>")
lib.expect_message("reject: 2", "eom:reply", "rate_login: 550 5.7.1",
	m("rejecting", "carol@example.com"), "<carol@example.com>")

local got, c = lib.message(m("holding", "dave@example.com"), "<dave@example.com>")
lib.expect("hold: 1", got, "eom:continue")
lib.expect("hold: 1 not quarantined", mt.eom_check(c, MT_QUARANTINE), false)
mt.disconnect(c)
for i = 2, 3 do
	got, c = lib.message(m("holding", "dave@example.com"), "<dave@example.com>")
	lib.expect("hold: " .. i .. " accepted", got, "eom:continue")
	lib.expect("hold: " .. i .. " quarantined with the reason", mt.eom_check(c, MT_QUARANTINE,
		"mailpolicy: rate limit reached (listener holding: rate_login = 1/1h)"), true)
	local h = mt.getheader(c, "X-Mailpolicy", 0) or ""
	lib.expect("hold: " .. i .. " audit header", h:match("verdict=hold; rule=rate_login") ~= nil,
		true)
	mt.disconnect(c)
end
lib.wait_log("hold: listener=holding login=dave@example.com from=<dave@example.com> " ..
	"rule=rate_login: rate limit reached")

-- report mode: nothing is held, the header and the log say it would be
lib.reload(function(text)
	return (text:gsub("  audit_header = X%-Mailpolicy\n", "%0  mode = report\n", 1))
end)
got, c = lib.message(m("holding", "dave@example.com"), "<dave@example.com>")
lib.expect("report: accepted", got, "eom:continue")
lib.expect("report: not quarantined", mt.eom_check(c, MT_QUARANTINE), false)
lib.expect("report: the header says hold", (mt.getheader(c, "X-Mailpolicy", 0) or ""):match(
	"verdict=hold; rule=rate_login; mode=report") ~= nil, true)
mt.disconnect(c)
lib.wait_log("report: would hold: listener=holding login=dave@example.com")
