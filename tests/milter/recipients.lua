-- max_recipients = 2 on mx: the third RCPT gets 452.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local c = lib.session({ ["{daemon_name}"] = "mx", ["{client_addr}"] = "192.0.2.1" })
lib.expect("mail", lib.mail(c, "<x@remote.test>"), "continue")
local refused = "max_recipients: 452 4.5.3"
for i, want in ipairs({ "continue", "continue", "reply" }) do
	local before = lib.count_log("rule=" .. refused)
	if mt.rcptto(c, "<r" .. i .. "@example.com>") ~= nil then
		lib.fail("rcptto " .. i .. " failed")
	end
	local r = mt.getreply(c)
	lib.expect("rcpt " .. i, r == SMFIR_CONTINUE and "continue" or
		(r == SMFIR_REPLYCODE and "reply" or tostring(r)), want)
	lib.expect("rcpt " .. i .. ": logged rule=" .. refused, lib.count_log("rule=" .. refused) - before,
		want == "reply" and 1 or 0)
end
mt.disconnect(c)
